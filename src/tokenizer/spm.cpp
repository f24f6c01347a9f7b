// SentencePiece-style BPE for GGUF "llama" vocabularies (Llama 2, Mistral,
// Phi-3, Gemma, Baichuan), reproducing llama.cpp's SPM tokenizer: characters
// are merged pairwise, always taking the adjacent pair whose concatenation is
// the best-scoring vocabulary token, and whatever is left unknown falls back
// to byte tokens "<0xXX>".
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace nomoat {
namespace {

constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // U+2581 "▁", SentencePiece's space

// Length of the UTF-8 character at `offset`. A byte that does not start a
// complete, well-formed sequence is a symbol of its own (it ends up as a byte
// token), so it can never swallow a following space mark or letter. On valid
// UTF-8 this splits exactly as llama.cpp does.
size_t symbol_length(std::string_view text, size_t offset) {
  const auto lead = static_cast<unsigned char>(text[offset]);
  size_t length = 1;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
  }
  if (offset + length > text.size()) return 1;
  for (size_t k = 1; k < length; ++k) {
    if ((static_cast<unsigned char>(text[offset + k]) & 0xc0) != 0x80) return 1;
  }
  return length;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// The byte a "<0xXX>" token stands for, or -1.
int byte_token_value(std::string_view text) {
  if (text.size() != 6 || text.substr(0, 3) != "<0x" || text[5] != '>') return -1;
  const int hi = hex_digit(text[3]), lo = hex_digit(text[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

// SentencePiece's remove_extra_whitespaces: no leading or trailing spaces,
// runs of spaces inside collapsed to one.
std::string collapse_spaces(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out.push_back(c);
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

class SpmTokenizer final : public TokenizerAlgorithm {
 public:
  SpmTokenizer(const SpmTokenizer&) = delete;  // id_of_ views into texts_
  SpmTokenizer& operator=(const SpmTokenizer&) = delete;

  explicit SpmTokenizer(const Vocab& vocab)
      : remove_extra_whitespaces_(vocab.remove_extra_whitespaces), add_space_prefix_(vocab.add_space_prefix) {
    const size_t n = vocab.size();
    // Own copies of the texts: the Vocab may move after this is built.
    texts_ = vocab.tokens;
    score_rank_.resize(n);
    for (size_t i = 0; i < n; ++i) score_rank_[i] = ordered_score(vocab.scores.empty() ? 0.0f : vocab.scores[i]);
    types_.resize(n);
    id_of_.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      types_[i] = vocab.type_of(static_cast<TokenId>(i));
      // Later duplicates win, as in llama.cpp's text -> id map.
      id_of_[texts_[i]] = static_cast<TokenId>(i);
      max_token_length_ = std::max(max_token_length_, texts_[i].size());
      mark_joinable_bytes(texts_[i]);
      if (has_space_after_text(texts_[i])) words_are_separable_ = false;
    }
    for (int b = 0; b < 256; ++b) {
      static const char kHex[] = "0123456789ABCDEF";
      const char name[] = {'<', '0', 'x', kHex[b >> 4], kHex[b & 15], '>'};
      TokenId id = find(std::string_view(name, sizeof(name)));
      const char raw = static_cast<char>(b);
      if (id == kNoToken) id = find(std::string_view(&raw, 1));  // the raw byte as a token
      if (id == kNoToken) id = vocab.unk;
      byte_tokens_[b] = id;
    }
  }

  void encode(std::string_view text, bool first, std::vector<TokenId>& out) const override {
    if (text.empty()) return;  // llama.cpp gives nothing for empty text, not even the space prefix
    std::string collapsed;
    if (remove_extra_whitespaces_) {
      collapsed = collapse_spaces(text);
      if (collapsed.empty()) return;
      text = collapsed;
    }
    std::string escaped;
    escaped.reserve(text.size() * 3 + 3);
    if (first && add_space_prefix_) escaped += kSpaceMark;
    for (char c : text) {
      if (c == ' ') {
        escaped += kSpaceMark;
      } else {
        escaped.push_back(c);
      }
    }
    merge_and_emit(escaped, out);
  }

  std::string token_bytes(TokenId id) const override {
    const size_t i = static_cast<size_t>(id);
    switch (types_[i]) {
      case TokenType::kByte: {
        const int b = byte_token_value(texts_[i]);
        if (b >= 0) return std::string(1, static_cast<char>(b));
        return texts_[i];
      }
      case TokenType::kNormal:
      case TokenType::kUserDefined: {
        std::string piece;
        const std::string& t = texts_[i];
        piece.reserve(t.size());
        for (size_t p = 0; p < t.size();) {
          if (t.compare(p, kSpaceMark.size(), kSpaceMark) == 0) {
            piece.push_back(' ');
            p += kSpaceMark.size();
          } else {
            piece.push_back(t[p++]);
          }
        }
        return piece;
      }
      default:
        return {};  // control, unknown, unused: no text of their own
    }
  }

 private:
  // One stretch of the text in a doubly linked list; merged-away symbols keep
  // length 0.
  struct Symbol {
    uint32_t start;
    uint32_t length;
    int32_t prev;
    int32_t next;
  };
  // A candidate merge, kept small for the heap: `rank` orders by score, then
  // leftmost first, with one integer comparison.
  struct Pair {
    uint64_t rank;    // ordered score bits << 32 | (UINT32_MAX - left)
    int32_t right;
    uint32_t length;  // combined length when queued; stale if either side changed
    int32_t left() const { return static_cast<int32_t>(UINT32_MAX - static_cast<uint32_t>(rank)); }
    bool operator<(const Pair& other) const { return rank < other.rank; }
  };
  // Float bits mapped so that unsigned order is numeric order.
  static uint64_t ordered_score(float score) {
    if (score == 0.0f) score = 0.0f;  // -0 and +0 tie, as float comparison has them
    uint32_t bits;
    std::memcpy(&bits, &score, sizeof(bits));
    return (bits & 0x80000000u) ? ~bits : bits | 0x80000000u;
  }

  // True if "▁" follows some other character inside the token: then a merge
  // can join the end of one word to the next, and words cannot be cut apart.
  static bool has_space_after_text(std::string_view token) {
    for (size_t p = token.find(kSpaceMark, 1); p != std::string_view::npos; p = token.find(kSpaceMark, p + 1)) {
      if (p < kSpaceMark.size() || token.substr(p - kSpaceMark.size(), kSpaceMark.size()) != kSpaceMark) return true;
    }
    return false;
  }

  // Records the 1-byte symbols of a token made of two or more symbols.
  void mark_joinable_bytes(std::string_view token) {
    if (token.empty() || symbol_length(token, 0) == token.size()) return;
    for (size_t offset = 0; offset < token.size();) {
      const size_t length = symbol_length(token, offset);
      if (length == 1) joinable_byte_[static_cast<unsigned char>(token[offset])] = true;
      offset += length;
    }
  }

  TokenId find(std::string_view text) const {
    const auto it = id_of_.find(text);
    return it == id_of_.end() ? kNoToken : it->second;
  }

  // Reused between the chunks of one call.
  struct Workspace {
    std::vector<Symbol> symbols;
    std::vector<Pair> heap;
  };

  // Cuts the text at bytes that no multi-symbol token contains: no merge can
  // reach across them, so each chunk is merged on its own with a small,
  // cache-resident heap, and the result is the same as for the whole text.
  void merge_and_emit(std::string_view text, std::vector<TokenId>& out) const {
    Workspace work;
    size_t chunk_start = 0;
    for (size_t offset = 0; offset < text.size();) {
      const size_t length = symbol_length(text, offset);
      if (length == 1 && !joinable_byte_[static_cast<unsigned char>(text[offset])]) {
        merge_chunk(text.substr(chunk_start, offset - chunk_start), work, out);
        emit_symbol(text.substr(offset, 1), out);
        chunk_start = offset + 1;
      } else if (words_are_separable_ && offset > chunk_start && text.substr(offset, kSpaceMark.size()) == kSpaceMark &&
                 text.substr(offset - kSpaceMark.size(), kSpaceMark.size()) != kSpaceMark) {
        // Word start: no token holds "x▁", so no merge crosses here.
        merge_chunk(text.substr(chunk_start, offset - chunk_start), work, out);
        chunk_start = offset;
      }
      offset += length;
    }
    merge_chunk(text.substr(chunk_start), work, out);
  }

  void merge_chunk(std::string_view text, Workspace& work, std::vector<TokenId>& out) const {
    if (text.empty()) return;
    std::vector<Symbol>& symbols = work.symbols;
    std::vector<Pair>& heap = work.heap;
    symbols.clear();
    heap.clear();
    for (size_t offset = 0; offset < text.size();) {
      const size_t length = symbol_length(text, offset);
      const auto index = static_cast<int32_t>(symbols.size());
      symbols.push_back({static_cast<uint32_t>(offset), static_cast<uint32_t>(length), index - 1,
                         offset + length == text.size() ? -1 : index + 1});
      offset += length;
    }

    auto try_pair = [&](int32_t left, int32_t right) {
      if (left < 0 || right < 0) return;
      const Symbol& l = symbols[static_cast<size_t>(left)];
      const Symbol& r = symbols[static_cast<size_t>(right)];
      const size_t length = l.length + r.length;
      if (length > max_token_length_) return;
      const TokenId id = find(text.substr(l.start, length));
      if (id == kNoToken) return;
      const uint64_t rank = score_rank_[static_cast<size_t>(id)] << 32 | (UINT32_MAX - static_cast<uint32_t>(left));
      heap.push_back({rank, right, static_cast<uint32_t>(length)});
      std::push_heap(heap.begin(), heap.end());
    };
    for (size_t i = 1; i < symbols.size(); ++i) try_pair(static_cast<int32_t>(i - 1), static_cast<int32_t>(i));

    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end());
      const Pair pair = heap.back();
      heap.pop_back();
      const int32_t left_index = pair.left();
      Symbol& left = symbols[static_cast<size_t>(left_index)];
      Symbol& right = symbols[static_cast<size_t>(pair.right)];
      // Symbols only grow, so an unchanged combined length means both sides are as queued.
      if (left.length == 0 || right.length == 0 || left.length + right.length != pair.length) continue;
      left.length += right.length;
      right.length = 0;
      left.next = right.next;
      if (right.next >= 0) symbols[static_cast<size_t>(right.next)].prev = left_index;
      try_pair(left.prev, left_index);
      try_pair(left_index, left.next);
    }

    for (int32_t i = 0; i >= 0; i = symbols[static_cast<size_t>(i)].next) {
      const Symbol& s = symbols[static_cast<size_t>(i)];
      emit_symbol(text.substr(s.start, s.length), out);
    }
  }

  // Every merged symbol is a token; an unmerged character may not be one and
  // then goes out as byte tokens.
  void emit_symbol(std::string_view symbol, std::vector<TokenId>& out) const {
    const TokenId id = find(symbol);
    if (id != kNoToken) {
      out.push_back(id);
      return;
    }
    for (char c : symbol) {
      const TokenId byte_id = byte_tokens_[static_cast<unsigned char>(c)];
      if (byte_id != kNoToken) out.push_back(byte_id);
    }
  }

  bool remove_extra_whitespaces_;
  bool add_space_prefix_;
  std::vector<std::string> texts_;
  std::vector<uint64_t> score_rank_;  // id -> ordered_score(score)
  std::vector<TokenType> types_;
  std::unordered_map<std::string_view, TokenId> id_of_;  // views into texts_
  size_t max_token_length_ = 0;
  TokenId byte_tokens_[256];
  bool joinable_byte_[256] = {};
  bool words_are_separable_ = true;  // no token has "▁" after another character  // the byte is a 1-byte symbol inside some multi-symbol token
};

}  // namespace

std::unique_ptr<TokenizerAlgorithm> make_spm_tokenizer(const Vocab& vocab) {
  return std::make_unique<SpmTokenizer>(vocab);
}

}  // namespace nomoat
