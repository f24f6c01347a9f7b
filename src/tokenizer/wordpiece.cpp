// WordPiece for GGUF "bert" vocabularies (BERT, BGE, ...), reproducing
// llama.cpp's WPM tokenizer: the text is normalized and cut into words, and
// each word, marked with a leading "▁", is covered by the longest vocabulary
// pieces from the left; a word that cannot be covered becomes [UNK].
#include <utf8proc.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/utf8.h"
#include "tokenizer/tokenizer.h"

namespace nomoat {
namespace {

constexpr std::string_view kWordMark = "\xE2\x96\x81";  // U+2581 "▁" starts a word's first piece
constexpr uint32_t kReplacement = 0xFFFD;

// Next code point of `text` at `offset`, advancing it. Malformed bytes give
// U+FFFD and advance by one; like llama.cpp, overlong forms and surrogates
// are not rejected (later steps drop them as controls).
uint32_t next_code_point(std::string_view text, size_t& offset) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(offset);
  size_t length;
  uint32_t cp;
  if (lead < 0x80) {
    ++offset;
    return lead;
  } else if ((lead & 0xe0) == 0xc0) {
    length = 2;
    cp = lead & 0x1f;
  } else if ((lead & 0xf0) == 0xe0) {
    length = 3;
    cp = lead & 0x0f;
  } else if ((lead & 0xf8) == 0xf0) {
    length = 4;
    cp = lead & 0x07;
  } else {
    ++offset;
    return kReplacement;
  }
  if (offset + length > text.size()) {
    ++offset;
    return kReplacement;
  }
  for (size_t k = 1; k < length; ++k) {
    if ((byte(offset + k) & 0xc0) != 0x80) {
      ++offset;
      return kReplacement;
    }
    cp = (cp << 6) | (byte(offset + k) & 0x3f);
  }
  offset += length;
  return cp;
}


// llama.cpp's "NFD": a precomposed character is replaced by the first code
// point of its canonical decomposition only, so accents are dropped.
uint32_t decomposed_base(uint32_t cp) {
  if (cp < 0xc0) return cp;  // nothing below U+00C0 decomposes
  utf8proc_int32_t parts[32];
  const utf8proc_ssize_t n =
      utf8proc_decompose_char(static_cast<utf8proc_int32_t>(cp), parts, 32, UTF8PROC_DECOMPOSE, nullptr);
  return n > 0 && n <= 32 ? static_cast<uint32_t>(parts[0]) : cp;
}

// The White_Space property, as llama.cpp lists it.
bool is_whitespace(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0d) || cp == 0x20 || cp == 0x85 || cp == 0xa0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f ||
         cp == 0x3000;
}

// CJK ideographs get a word each, as in BERT's BasicTokenizer (ranges as
// llama.cpp has them, including its 0x2B920 start).
bool is_cjk(uint32_t cp) {
  return (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x20000 && cp <= 0x2a6df) ||
         (cp >= 0x2a700 && cp <= 0x2b73f) || (cp >= 0x2b740 && cp <= 0x2b81f) || (cp >= 0x2b920 && cp <= 0x2ceaf) ||
         (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x2f800 && cp <= 0x2fa1f);
}

class WordPieceTokenizer final : public TokenizerAlgorithm {
 public:
  WordPieceTokenizer(const WordPieceTokenizer&) = delete;  // id_of_ views into texts_
  WordPieceTokenizer& operator=(const WordPieceTokenizer&) = delete;

  explicit WordPieceTokenizer(const Vocab& vocab) : lowercase_(vocab.lowercase) {
    // Own copies of the texts: the Vocab may move after this is built.
    texts_ = vocab.tokens;
    types_.resize(texts_.size());
    id_of_.reserve(texts_.size());
    for (size_t i = 0; i < texts_.size(); ++i) {
      types_[i] = vocab.type_of(static_cast<TokenId>(i));
      id_of_[texts_[i]] = static_cast<TokenId>(i);  // later duplicates win, as in llama.cpp
      max_token_length_ = std::max(max_token_length_, texts_[i].size());
    }
    unk_ = vocab.unk != kNoToken ? vocab.unk : find("[UNK]");
  }

  void encode(std::string_view text, bool /*first*/, std::vector<TokenId>& out) const override {
    std::string word(kWordMark);  // the word being built, after its mark
    auto finish_word = [&] {
      if (word.size() > kWordMark.size()) emit_word(word, out);
      word.resize(kWordMark.size());
    };
    for (size_t offset = 0; offset < text.size();) {
      uint32_t cp = next_code_point(text, offset);
      if (cp > 0x10ffff) cp = kReplacement;
      cp = decomposed_base(cp);
      if (is_whitespace(cp)) {
        finish_word();
        continue;
      }
      const utf8proc_category_t category = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
      const bool control = category == UTF8PROC_CATEGORY_CC || category == UTF8PROC_CATEGORY_CF ||
                           category == UTF8PROC_CATEGORY_CO || category == UTF8PROC_CATEGORY_CS;
      if (cp == 0 || cp == kReplacement || control) continue;
      const bool punctuation = category >= UTF8PROC_CATEGORY_PC && category <= UTF8PROC_CATEGORY_PO;
      const bool ascii_symbol = cp < 0x7f && category >= UTF8PROC_CATEGORY_SM && category <= UTF8PROC_CATEGORY_SO;
      const uint32_t shown = lowercase_ ? static_cast<uint32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp))) : cp;
      if (punctuation || ascii_symbol || is_cjk(cp)) {
        finish_word();
        append_utf8(word, shown);  // a word of its own
        finish_word();
      } else {
        append_utf8(word, shown);
      }
    }
    finish_word();
  }

  std::string token_bytes(TokenId id) const override {
    const size_t i = static_cast<size_t>(id);
    if (types_[i] != TokenType::kNormal && types_[i] != TokenType::kUserDefined) return {};
    const std::string& t = texts_[i];
    if (t.compare(0, kWordMark.size(), kWordMark) != 0) return t;
    std::string piece(1, ' ');
    piece.append(t, kWordMark.size());
    return piece;
  }

 private:
  TokenId find(std::string_view text) const {
    const auto it = id_of_.find(text);
    return it == id_of_.end() ? kNoToken : it->second;
  }

  // Greedy longest match from the left over the marked word's bytes; any
  // position nothing matches makes the whole word [UNK].
  void emit_word(std::string_view word, std::vector<TokenId>& out) const {
    const size_t first_piece = out.size();
    for (size_t start = 0; start < word.size();) {
      size_t end = std::min(word.size(), start + max_token_length_);
      TokenId id = kNoToken;
      for (; end > start; --end) {
        id = find(word.substr(start, end - start));
        if (id != kNoToken) break;
      }
      if (id == kNoToken) {
        out.resize(first_piece);
        break;
      }
      out.push_back(id);
      start = end;
    }
    if (out.size() == first_piece && unk_ != kNoToken) out.push_back(unk_);
  }

  bool lowercase_;
  std::vector<std::string> texts_;
  std::vector<TokenType> types_;
  std::unordered_map<std::string_view, TokenId> id_of_;  // views into texts_
  size_t max_token_length_ = 0;
  TokenId unk_ = kNoToken;
};

}  // namespace

std::unique_ptr<TokenizerAlgorithm> make_wpm_tokenizer(const Vocab& vocab) {
  return std::make_unique<WordPieceTokenizer>(vocab);
}

}  // namespace nomoat
