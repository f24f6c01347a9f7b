#include "chat/jinja_lexer.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <optional>

#include "base/utf8.h"
#include "chat/jinja_value.h"
#include "chat/py_text.h"

namespace nomoat::jinja {
namespace {

// Byte length of the Python whitespace character at `pos`, 0 if none.
size_t space_at(std::string_view s, size_t pos) {
  if (pos >= s.size()) return 0;
  const auto c = static_cast<unsigned char>(s[pos]);
  if (c < 0x80) return py_isspace(c) ? 1 : 0;
  const size_t len = utf8_lead_length(c);
  if (len == 0 || pos + len > s.size()) return 0;
  const std::u32string cp = to_code_points(s.substr(pos, len));
  return cp.size() == 1 && py_isspace(cp[0]) ? len : 0;
}

size_t skip_spaces(std::string_view s, size_t pos) {
  while (size_t n = space_at(s, pos)) pos += n;
  return pos;
}

int count_newlines(std::string_view s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

// (\d+_)*\d+ at pos: returns the end, or pos when absent.
size_t match_digits(std::string_view s, size_t pos) {
  size_t end = pos;
  size_t i = pos;
  while (true) {
    size_t j = i;
    while (j < s.size() && is_digit(s[j])) ++j;
    if (j == i) return end;
    end = j;
    if (j < s.size() && s[j] == '_' && j + 1 < s.size() && is_digit(s[j + 1])) {
      i = j + 1;
    } else {
      return end;
    }
  }
}

// Jinja2's float literal: digits with a fraction and/or an exponent.
size_t match_float(std::string_view s, size_t pos) {
  if (pos > 0 && s[pos - 1] == '.') return pos;
  const size_t int_end = match_digits(s, pos);
  if (int_end == pos) return pos;
  auto match_exponent = [&](size_t at) -> size_t {
    if (at >= s.size() || (s[at] != 'e' && s[at] != 'E')) return at;
    size_t k = at + 1;
    if (k < s.size() && (s[k] == '+' || s[k] == '-')) ++k;
    const size_t e_end = match_digits(s, k);
    return e_end == k ? at : e_end;
  };
  size_t frac_end = int_end;
  if (int_end < s.size() && s[int_end] == '.') {
    const size_t f = match_digits(s, int_end + 1);
    if (f != int_end + 1) frac_end = f;
  }
  const size_t exp_end = match_exponent(frac_end);
  if (exp_end != frac_end) return exp_end;  // digits [fraction] exponent
  return frac_end != int_end ? frac_end : pos;
}

// Jinja2's integer literal (the first alternative that matches, as its regex).
size_t match_integer(std::string_view s, size_t pos, int* base) {
  auto lower = [&](size_t i) { return i < s.size() ? static_cast<char>(s[i] | 0x20) : '\0'; };
  auto prefixed = [&](char prefix, auto is_digit_of) -> size_t {
    if (s[pos] != '0' || lower(pos + 1) != prefix) return pos;
    size_t i = pos + 2, end = pos;
    while (true) {
      size_t j = i;
      if (j < s.size() && s[j] == '_') ++j;
      if (j < s.size() && is_digit_of(s[j])) {
        i = end = j + 1;
      } else {
        return end;
      }
    }
  };
  if (size_t e = prefixed('b', [](char c) { return c == '0' || c == '1'; }); e != pos) return *base = 2, e;
  if (size_t e = prefixed('o', [](char c) { return c >= '0' && c <= '7'; }); e != pos) return *base = 8, e;
  if (size_t e = prefixed('x', [](char c) {
        return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
      }); e != pos) {
    return *base = 16, e;
  }
  *base = 10;
  if (s[pos] >= '1' && s[pos] <= '9') return match_digits(s, pos);
  if (s[pos] != '0') return pos;
  size_t end = pos + 1;
  while (true) {
    size_t j = end;
    if (j < s.size() && s[j] == '_') ++j;
    if (j < s.size() && s[j] == '0') {
      end = j + 1;
    } else {
      return end;
    }
  }
}

// Python's unicode-escape decoding of a string literal's body, after
// Jinja2 has replaced every non-ASCII character by its \x/\u/\U escape.
std::string decode_string_literal(std::string_view body, int line) {
  std::string ascii;
  for (char32_t c : to_code_points(body)) {
    char buf[16];
    if (c < 0x80) {
      ascii.push_back(static_cast<char>(c));
    } else {
      std::snprintf(buf, sizeof buf, c <= 0xFF ? "\\x%02x" : c <= 0xFFFF ? "\\u%04x" : "\\U%08x",
                    static_cast<unsigned>(c));
      ascii += buf;
    }
  }
  std::string out;
  auto hex_escape = [&](size_t& i, size_t digits, const char* what) {
    if (i + digits > ascii.size()) throw TemplateError(cat("truncated ", what, " escape"), line);
    uint32_t cp = 0;
    for (size_t k = 0; k < digits; ++k) {
      const char h = ascii[i + k];
      const int d = is_digit(h) ? h - '0' : ((h | 0x20) >= 'a' && (h | 0x20) <= 'f') ? (h | 0x20) - 'a' + 10 : -1;
      if (d < 0) throw TemplateError(cat("truncated ", what, " escape"), line);
      cp = cp * 16 + static_cast<uint32_t>(d);
    }
    i += digits;
    if (cp > 0x10FFFF) throw TemplateError("illegal Unicode character in a string literal", line);
    if (cp >= 0xD800 && cp <= 0xDFFF) {
      throw TemplateError("a string literal escapes a UTF-16 surrogate, which has no UTF-8 form", line);
    }
    append_utf8(out, cp);
  };
  for (size_t i = 0; i < ascii.size();) {
    const char c = ascii[i++];
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (i >= ascii.size()) throw TemplateError("\\ at end of string", line);
    const char e = ascii[i++];
    switch (e) {
      case '\n': break;
      case '\\': out.push_back('\\'); break;
      case '\'': out.push_back('\''); break;
      case '"': out.push_back('"'); break;
      case 'a': out.push_back('\a'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'v': out.push_back('\v'); break;
      case 'x': hex_escape(i, 2, "\\xXX"); break;
      case 'u': hex_escape(i, 4, "\\uXXXX"); break;
      case 'U': hex_escape(i, 8, "\\UXXXXXXXX"); break;
      case 'N': throw TemplateError("named Unicode escapes (\\N{...}) in string literals are not supported", line);
      default:
        if (e >= '0' && e <= '7') {
          uint32_t cp = static_cast<uint32_t>(e - '0');
          for (int k = 0; k < 2 && i < ascii.size() && ascii[i] >= '0' && ascii[i] <= '7'; ++k) {
            cp = cp * 8 + static_cast<uint32_t>(ascii[i++] - '0');
          }
          append_utf8(out, cp);
        } else {
          out.push_back('\\');  // Python keeps unknown escapes as written
          out.push_back(e);
        }
    }
  }
  return out;
}

const char* const kOperators[] = {"//", "**", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[",
                                  "]",  "(",  ")",  "{",  "}",  "=",  ".", ":", "|", ",", ">", "<", ";"};

class Lexer {
 public:
  explicit Lexer(std::string source) : src_(std::move(source)) {}

  std::vector<Token> run() {
    size_t pos = 0;
    while (pos < src_.size()) {
      const size_t tag = find_tag(pos);
      if (tag == std::string::npos) {
        emit_data(src_.substr(pos));
        break;
      }
      pos = start_tag(pos, tag);
    }
    Token end;
    end.type = TokenType::kEnd;
    end.line = line_;
    tokens_.push_back(end);
    return std::move(tokens_);
  }

 private:
  size_t find_tag(size_t pos) const {
    for (size_t i = src_.find('{', pos); i != std::string::npos; i = src_.find('{', i + 1)) {
      if (i + 1 < src_.size() && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
    }
    return std::string::npos;
  }

  void emit_data(std::string text, int extra_lines = 0) {
    if (!text.empty()) {
      Token t;
      t.type = TokenType::kData;
      t.text = text;
      t.line = line_;
      tokens_.push_back(std::move(t));
    }
    line_ += count_newlines(text) + extra_lines;
  }

  // Applies the opening tag's whitespace control to the text before it.
  void emit_text_before(std::string text, char sign, bool is_variable) {
    int stripped_lines = 0;
    if (sign == '-') {
      std::string kept = py_strip(text, std::nullopt, false, true);
      stripped_lines = count_newlines(std::string_view(text).substr(kept.size()));
      text = std::move(kept);
    } else if (sign != '+' && !is_variable) {
      // lstrip_blocks: a tag preceded on its line by whitespace only takes it along.
      const size_t nl = text.rfind('\n');
      const size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
      if (l_pos > 0 || line_starting_) {
        const std::string_view rest = std::string_view(text).substr(l_pos);
        if (!rest.empty() && skip_spaces(rest, 0) == rest.size()) text.resize(l_pos);
      }
    }
    emit_data(std::move(text), stripped_lines);
  }

  // `text` [pos, tag) precedes a tag opener at `tag`; returns the position after the whole tag.
  size_t start_tag(size_t pos, size_t tag) {
    const char kind = src_[tag + 1];
    size_t after = tag + 2;
    const char sign = after < src_.size() && (src_[after] == '-' || src_[after] == '+') ? src_[after] : '\0';
    if (sign) ++after;
    std::string text = src_.substr(pos, tag - pos);
    if (kind == '%') {
      if (const auto raw_end = match_raw_begin(after)) {
        emit_text_before(std::move(text), sign, false);
        line_ += count_newlines(std::string_view(src_).substr(after, *raw_end - after));
        line_starting_ = src_[*raw_end - 1] == '\n';
        return lex_raw(*raw_end);
      }
    }
    emit_text_before(std::move(text), sign, kind == '{');
    line_starting_ = false;
    if (kind == '#') return lex_comment(after);
    Token begin;
    begin.type = kind == '%' ? TokenType::kBlockBegin : TokenType::kVariableBegin;
    begin.line = line_;
    tokens_.push_back(begin);
    return lex_tag(after, kind == '%');
  }

  // `{% raw %}` at the opener's content start: the position after it, if it is one.
  std::optional<size_t> match_raw_begin(size_t pos) const {
    size_t i = skip_spaces(src_, pos);
    if (src_.compare(i, 3, "raw") != 0) return std::nullopt;
    i = skip_spaces(src_, i + 3);
    if (src_.compare(i, 3, "-%}") == 0) return skip_spaces(src_, i + 3);
    // No trim_blocks newline after {% raw %}: Jinja2's rule for it has none.
    if (src_.compare(i, 2, "%}") == 0) return i + 2;
    return std::nullopt;
  }

  size_t lex_raw(size_t pos) {
    const int start_line = line_;
    for (size_t i = src_.find("{%", pos); i != std::string::npos; i = src_.find("{%", i + 1)) {
      size_t j = i + 2;
      const char sign = j < src_.size() && (src_[j] == '-' || src_[j] == '+') ? src_[j] : '\0';
      if (sign) ++j;
      j = skip_spaces(src_, j);
      if (src_.compare(j, 6, "endraw") != 0) continue;
      j = skip_spaces(src_, j + 6);
      size_t end;
      if (src_.compare(j, 3, "+%}") == 0) {
        end = j + 3;
      } else if (src_.compare(j, 3, "-%}") == 0) {
        end = skip_spaces(src_, j + 3);
      } else if (src_.compare(j, 2, "%}") == 0) {
        end = j + 2;
        if (end < src_.size() && src_[end] == '\n') ++end;
      } else {
        continue;
      }
      emit_text_before(src_.substr(pos, i - pos), sign, false);
      line_ += count_newlines(std::string_view(src_).substr(i, end - i));
      line_starting_ = src_[end - 1] == '\n';
      return end;
    }
    throw TemplateError("missing end of raw directive ({% endraw %})", start_line);
  }

  size_t lex_comment(size_t pos) {
    const size_t close = src_.find("#}", pos);
    if (close == std::string::npos) throw TemplateError("missing end of comment tag (#})", line_);
    const char sign = close > pos && (src_[close - 1] == '-' || src_[close - 1] == '+') ? src_[close - 1] : '\0';
    size_t end = close + 2;
    if (sign == '-') {
      end = skip_spaces(src_, end);
    } else if (sign != '+' && end < src_.size() && src_[end] == '\n') {
      ++end;  // trim_blocks
    }
    line_ += count_newlines(std::string_view(src_).substr(pos, end - pos));
    line_starting_ = src_[end - 1] == '\n';
    return end;
  }

  // The tag's contents up to and including its closer.
  size_t lex_tag(size_t pos, bool block) {
    std::vector<char> brackets;
    while (true) {
      if (pos >= src_.size()) return pos;  // the parser reports the unclosed tag
      if (brackets.empty()) {
        if (const size_t end = match_tag_end(pos, block)) {
          Token t;
          t.type = block ? TokenType::kBlockEnd : TokenType::kVariableEnd;
          t.line = line_;
          tokens_.push_back(t);
          line_ += count_newlines(std::string_view(src_).substr(pos, end - pos));
          line_starting_ = src_[end - 1] == '\n';
          return end;
        }
      }
      if (const size_t n = space_at(src_, pos)) {
        if (src_[pos] == '\n') ++line_;
        pos += n;
        continue;
      }
      pos = lex_tag_token(pos, brackets);
    }
  }

  // End of the tag closer at pos (0 if none there): "+%}", "-%}" + spaces, "%}" + one newline.
  size_t match_tag_end(size_t pos, bool block) const {
    if (block) {
      if (src_.compare(pos, 3, "+%}") == 0) return pos + 3;
      if (src_.compare(pos, 3, "-%}") == 0) return skip_spaces(src_, pos + 3);
      if (src_.compare(pos, 2, "%}") == 0) return pos + 2 + (pos + 2 < src_.size() && src_[pos + 2] == '\n');
      return 0;
    }
    if (src_.compare(pos, 3, "-}}") == 0) return skip_spaces(src_, pos + 3);
    if (src_.compare(pos, 2, "}}") == 0) return pos + 2;
    return 0;
  }

  size_t lex_tag_token(size_t pos, std::vector<char>& brackets) {
    Token t;
    t.line = line_;
    const char c = src_[pos];
    if (is_digit(c)) {
      if (const size_t end = match_float(src_, pos); end != pos) {
        std::string digits;
        for (size_t i = pos; i < end; ++i) if (src_[i] != '_') digits.push_back(src_[i]);
        t.type = TokenType::kFloat;
        t.float_value = std::strtod(digits.c_str(), nullptr);
        t.text = src_.substr(pos, end - pos);
        tokens_.push_back(std::move(t));
        return end;
      }
      int base = 10;
      const size_t end = match_integer(src_, pos, &base);
      std::string digits;
      for (size_t i = pos + (base == 10 ? 0 : 2); i < end; ++i) if (src_[i] != '_') digits.push_back(src_[i]);
      errno = 0;
      const unsigned long long v = std::strtoull(digits.c_str(), nullptr, base);
      if (errno == ERANGE || v > static_cast<unsigned long long>(INT64_MAX)) {
        throw TemplateError(cat("integer literal ", src_.substr(pos, end - pos), " is too large"), line_);
      }
      t.type = TokenType::kInteger;
      t.int_value = static_cast<int64_t>(v);
      t.text = src_.substr(pos, end - pos);
      tokens_.push_back(std::move(t));
      return end;
    }
    if (is_name_start(c)) {
      size_t end = pos + 1;
      while (end < src_.size() && is_name_char(src_[end])) ++end;
      t.type = TokenType::kName;
      t.text = src_.substr(pos, end - pos);
      tokens_.push_back(std::move(t));
      return end;
    }
    if (c == '\'' || c == '"') {
      size_t i = pos + 1;
      while (i < src_.size() && src_[i] != c) i += src_[i] == '\\' ? 2 : 1;
      if (i >= src_.size()) throw TemplateError("unterminated string literal", line_);
      const std::string_view body = std::string_view(src_).substr(pos + 1, i - pos - 1);
      t.type = TokenType::kString;
      t.text = decode_string_literal(body, line_);
      tokens_.push_back(std::move(t));
      line_ += count_newlines(body);
      return i + 1;
    }
    for (const char* op : kOperators) {
      const std::string_view o(op);
      if (src_.compare(pos, o.size(), o) != 0) continue;
      if (o == "(" || o == "[" || o == "{") {
        brackets.push_back(o == "(" ? ')' : o == "[" ? ']' : '}');
      } else if (o == ")" || o == "]" || o == "}") {
        if (brackets.empty()) throw TemplateError(cat("unexpected '", o, "'"), line_);
        if (brackets.back() != o[0]) {
          throw TemplateError(cat("unexpected '", o, "', expected '", brackets.back(), "'"), line_);
        }
        brackets.pop_back();
      }
      t.type = TokenType::kOperator;
      t.text = std::string(o);
      tokens_.push_back(std::move(t));
      return pos + o.size();
    }
    const size_t len = std::max<size_t>(1, utf8_lead_length(static_cast<unsigned char>(c)));
    throw TemplateError(cat("unexpected character '", src_.substr(pos, len), "' in a tag"), line_);
  }

  std::string src_;
  std::vector<Token> tokens_;
  int line_ = 1;
  bool line_starting_ = true;
};

}  // namespace

std::vector<Token> tokenize(std::string_view source) {
  // Line breaks become \n; one trailing newline is dropped (keep_trailing_newline=False).
  std::string text;
  text.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      text.push_back('\n');
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      text.push_back(source[i]);
    }
  }
  if (!text.empty() && text.back() == '\n') text.pop_back();
  return Lexer(std::move(text)).run();
}

}  // namespace nomoat::jinja
