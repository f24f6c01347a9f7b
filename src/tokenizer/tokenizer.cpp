#include "tokenizer/tokenizer.h"

#include <utf8proc.h>

#include <algorithm>
#include <cstdlib>

#include "base/error.h"
#include "base/utf8.h"

namespace nomoat {
namespace {

// The Unicode normalization a Hugging Face normalizer asks for ("NFC",
// "NFKC", "NFD"). Text that is not valid UTF-8 is left as it is.
std::string normalize_unicode(std::string_view text, const std::string& form) {
  int options = UTF8PROC_STABLE;
  if (form == "NFC") {
    options |= UTF8PROC_COMPOSE;
  } else if (form == "NFKC") {
    options |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT;
  } else if (form == "NFD") {
    options |= UTF8PROC_DECOMPOSE;
  } else {
    return std::string(text);
  }
  utf8proc_uint8_t* mapped = nullptr;
  const utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                                          static_cast<utf8proc_ssize_t>(text.size()), &mapped,
                                          static_cast<utf8proc_option_t>(options));
  if (n < 0) return std::string(text);
  std::string out(reinterpret_cast<const char*>(mapped), static_cast<size_t>(n));
  std::free(mapped);
  return out;
}

// Where a trailing, still incomplete UTF-8 sequence starts (s.size() if none).
size_t incomplete_tail(const std::string& s) {
  const size_t n = s.size();
  for (size_t back = 1; back <= 3 && back <= n; ++back) {
    const auto c = static_cast<unsigned char>(s[n - back]);
    if ((c & 0xc0) == 0x80) continue;  // continuation byte: keep looking for the lead
    const size_t need = utf8_lead_length(c);  // 0 for a byte that starts nothing: not held back
    return need > back ? n - back : n;
  }
  return n;
}

// Hugging Face's clean_up_tokenization_spaces for BERT-style decoders, in
// one pass: at each space, the first rule whose pattern starts there wins.
std::string clean_up_spaces(const std::string& s) {
  static const std::pair<std::string_view, std::string_view> kRules[] = {
      {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"},
      {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"},
  };
  std::string out;
  out.reserve(s.size());
  const std::string_view in = s;
  for (size_t i = 0; i < in.size();) {
    bool replaced = false;
    if (in[i] == ' ') {
      for (const auto& [from, to] : kRules) {
        if (in.substr(i, from.size()) == from) {
          out += to;
          i += from.size();
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out += in[i++];
  }
  return out;
}

}  // namespace

Tokenizer::Tokenizer(Vocab vocab) : vocab_(std::move(vocab)) {
  switch (vocab_.kind) {
    case TokenizerKind::kSpm: algorithm_ = make_spm_tokenizer(vocab_); break;
    case TokenizerKind::kBpe: algorithm_ = make_bpe_tokenizer(vocab_); break;
    case TokenizerKind::kWpm: algorithm_ = make_wpm_tokenizer(vocab_); break;
  }
  // Tokens matched as whole units in input text: control, user-defined and
  // unknown tokens, longest first so that "<|im_start|>" wins over "<".
  for (size_t i = 0; i < vocab_.size(); ++i) {
    const TokenType t = vocab_.type_of(static_cast<TokenId>(i));
    if ((t == TokenType::kControl || t == TokenType::kUserDefined || t == TokenType::kUnknown) &&
        !vocab_.tokens[i].empty()) {
      special_tokens_.push_back(static_cast<TokenId>(i));
    }
  }
  std::stable_sort(special_tokens_.begin(), special_tokens_.end(), [&](TokenId a, TokenId b) {
    return vocab_.tokens[static_cast<size_t>(a)].size() > vocab_.tokens[static_cast<size_t>(b)].size();
  });
}

Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;

std::vector<TokenId> Tokenizer::encode(std::string_view text, const EncodeOptions& options) const {
  // Cut the input into plain-text runs and special tokens.
  struct Fragment {
    TokenId token;  // kNoToken for text
    std::string_view text;
  };
  std::vector<Fragment> fragments{{kNoToken, text}};
  // Vocabularies can have thousands of added tokens: a bitmap of the byte
  // pairs present in the text rules most of them out without a search.
  std::vector<uint64_t> pairs_present(65536 / 64, 0);
  std::vector<uint64_t> bytes_present(256 / 64, 0);
  for (size_t i = 0; i < text.size(); ++i) {
    const auto b = static_cast<unsigned char>(text[i]);
    bytes_present[b / 64] |= 1ull << (b % 64);
    if (i + 1 < text.size()) {
      const unsigned pair = b << 8 | static_cast<unsigned char>(text[i + 1]);
      pairs_present[pair / 64] |= 1ull << (pair % 64);
    }
  }
  auto may_occur = [&](const std::string& t) {
    const auto b = static_cast<unsigned char>(t[0]);
    if (t.size() == 1) return (bytes_present[b / 64] >> (b % 64) & 1) != 0;
    const unsigned pair = b << 8 | static_cast<unsigned char>(t[1]);
    return (pairs_present[pair / 64] >> (pair % 64) & 1) != 0;
  };
  for (TokenId id : special_tokens_) {
    const TokenType type = vocab_.type_of(id);
    // User-defined tokens are always whole units; control tokens only when asked.
    if (!options.parse_special && type != TokenType::kUserDefined) continue;
    const std::string& special = vocab_.tokens[static_cast<size_t>(id)];
    if (!may_occur(special)) continue;
    std::vector<Fragment> next;
    for (const Fragment& f : fragments) {
      if (f.token != kNoToken || f.text.find(special) == std::string_view::npos) {
        next.push_back(f);
        continue;
      }
      const uint8_t strip = vocab_.strip_of(id);
      auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
      std::string_view rest = f.text;
      size_t pos;
      while ((pos = rest.find(special)) != std::string_view::npos) {
        std::string_view left = rest.substr(0, pos);
        if (strip & Vocab::kStripLeft) {
          while (!left.empty() && is_space(left.back())) left.remove_suffix(1);
        }
        if (!left.empty()) next.push_back({kNoToken, left});
        next.push_back({id, {}});
        rest.remove_prefix(pos + special.size());
        if (strip & Vocab::kStripRight) {
          while (!rest.empty() && is_space(rest.front())) rest.remove_prefix(1);
        }
      }
      if (!rest.empty()) next.push_back({kNoToken, rest});
    }
    fragments = std::move(next);
  }

  std::vector<TokenId> out;
  const bool wpm = vocab_.kind == TokenizerKind::kWpm;
  if (options.add_special && vocab_.add_bos) {
    const TokenId first = wpm ? vocab_.cls : vocab_.bos;
    if (first != kNoToken) out.push_back(first);
  }
  bool first_text = true;  // at the start, or right after a special token
  for (const Fragment& f : fragments) {
    if (f.token != kNoToken) {
      out.push_back(f.token);
      first_text = true;
    } else if (!vocab_.normalization.empty()) {
      // A Hugging Face normalizer (Qwen's NFC) applies to the text between special tokens.
      algorithm_->encode(normalize_unicode(f.text, vocab_.normalization), first_text, out);
      first_text = false;
    } else {
      algorithm_->encode(f.text, first_text, out);
      first_text = false;
    }
  }
  if (options.add_special && vocab_.add_eos) {
    const TokenId last = wpm ? vocab_.sep : vocab_.eos;
    if (last != kNoToken) out.push_back(last);
  }
  return out;
}

std::string Tokenizer::token_bytes(TokenId id) const {
  if (id < 0 || static_cast<size_t>(id) >= vocab_.size()) fail("token id ", id, " is outside the vocabulary of ", vocab_.size());
  return algorithm_->token_bytes(id);
}

std::string Tokenizer::piece_for_decode(TokenId id, bool keep_special, bool first) const {
  if (id < 0 || static_cast<size_t>(id) >= vocab_.size()) fail("token id ", id, " is outside the vocabulary of ", vocab_.size());
  const TokenType type = vocab_.type_of(id);
  if (type == TokenType::kControl) return keep_special ? vocab_.tokens[static_cast<size_t>(id)] : std::string();
  if (type == TokenType::kUserDefined || type == TokenType::kUnknown) {
    // Added tokens are stored as their literal text.
    if (type == TokenType::kUnknown && !keep_special) return algorithm_->token_bytes(id);
    std::string text = vocab_.tokens[static_cast<size_t>(id)];
    return text;
  }
  std::string piece = algorithm_->token_bytes(id);
  // The space the encoder prepended is not part of the text.
  if (first && vocab_.add_space_prefix && !piece.empty() && piece[0] == ' ') piece.erase(0, 1);
  return piece;
}

std::string Tokenizer::decode(const std::vector<TokenId>& ids, bool keep_special) const {
  std::string out;
  bool first = true;
  for (TokenId id : ids) {
    const std::string piece = piece_for_decode(id, keep_special, first);
    if (!piece.empty() || !vocab_.is_control(id)) first = false;
    out += piece;
  }
  return vocab_.clean_spaces ? clean_up_spaces(out) : out;
}

Tokenizer::StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, bool keep_special, bool at_start)
    : tokenizer_(tokenizer), keep_special_(keep_special), first_(at_start) {}

std::string Tokenizer::StreamDecoder::push(TokenId id) {
  const std::string piece = tokenizer_.piece_for_decode(id, keep_special_, first_);
  if (!piece.empty() || !tokenizer_.vocab().is_control(id)) first_ = false;
  pending_ += piece;
  const size_t cut = incomplete_tail(pending_);
  // Bytes that can no longer become valid UTF-8 are shown as U+FFFD.
  std::string ready = sanitize_utf8(pending_.substr(0, cut));
  pending_.erase(0, cut);
  return ready;
}

std::string Tokenizer::StreamDecoder::flush() {
  std::string rest;
  // An incomplete sequence at the very end cannot be completed any more.
  for (size_t i = 0; i < pending_.size();) {
    rest += "\xEF\xBF\xBD";
    i += 1;
    while (i < pending_.size() && (static_cast<unsigned char>(pending_[i]) & 0xc0) == 0x80) ++i;
  }
  pending_.clear();
  return rest;
}

}  // namespace nomoat
