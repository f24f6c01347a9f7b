// Byte-level BPE (GPT-2, Llama 3, Qwen, DeepSeek, ...), matching llama.cpp's
// llm_tokenizer_bpe_session token for token.
//
// Symbols are integers instead of strings: every token text and every string a
// merge can produce gets an id (token ids first, then "extended" ids for
// strings that are not tokens), and the merges become a hash table from an id
// pair to (rank, merged id). Each word starts as one symbol per raw byte (the
// GPT-2 byte-to-unicode character of that byte), so the text is never
// converted to byte-level characters while encoding. Results per word are
// cached, since most words of a text repeat.
#include <algorithm>
#include <array>
#include <climits>
#include <cstring>
#include <mutex>
#include <tuple>
#include <unordered_map>

#include "base/utf8.h"
#include "base/error.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/tokenizer.h"

namespace nomoat {
namespace {

// GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves, the
// other 68 bytes take U+0100, U+0101, ... in byte order.
std::array<char32_t, 256> make_byte_to_codepoint() {
  std::array<char32_t, 256> table{};
  char32_t next = 0x100;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    table[static_cast<size_t>(b)] = printable ? static_cast<char32_t>(b) : next++;
  }
  return table;
}


// Decodes one well-formed UTF-8 code point at s[i]; false if there is none.
bool next_codepoint(std::string_view s, size_t& i, char32_t& cp) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || i + len > s.size()) return false;
  cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
  for (size_t k = 1; k < len; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return false;
    cp = (cp << 6) | (cc & 0x3F);
  }
  i += len;
  return true;
}

// A fast non-cryptographic hash of a short byte string (never 0: 0 marks an empty slot).
uint64_t hash_bytes(std::string_view s) {
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ull;
  uint64_t h = s.size() * kMul;
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
  }
  if (i < s.size()) {
    uint64_t w = 0;
    std::memcpy(&w, s.data() + i, s.size() - i);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
  }
  h = (h ^ (h >> 32)) * kMul;
  return (h ^ (h >> 31)) | 1;
}

// Open-addressing map from (left symbol, right symbol) to the merge that joins them.
class MergeTable {
 public:
  struct Merge {
    int32_t rank;
    int32_t result;  // symbol id of left + right
  };

  void reserve(size_t count) {
    size_t capacity = 16;
    while (capacity < count * 2) capacity *= 2;
    slots_.assign(capacity, Slot{kEmpty, {0, 0}});
    mask_ = capacity - 1;
  }

  // Keeps the first merge of a pair, as llama.cpp does.
  void insert(int32_t left, int32_t right, Merge merge) {
    const uint64_t key = make_key(left, right);
    for (size_t i = slot_of(key);; i = (i + 1) & mask_) {
      if (slots_[i].key == key) return;
      if (slots_[i].key == kEmpty) {
        slots_[i] = {key, merge};
        return;
      }
    }
  }

  const Merge* find(int32_t left, int32_t right) const {
    const uint64_t key = make_key(left, right);
    for (size_t i = slot_of(key);; i = (i + 1) & mask_) {
      if (slots_[i].key == key) return &slots_[i].merge;
      if (slots_[i].key == kEmpty) return nullptr;
    }
  }

 private:
  struct Slot {
    uint64_t key;
    Merge merge;
  };
  static constexpr uint64_t kEmpty = ~0ull;
  static uint64_t make_key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }
  size_t slot_of(uint64_t key) const { return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> 20) & mask_; }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

// One generation of the word cache: an open-addressing table from a word's
// bytes to its ids, with keys and ids kept in two arenas.
class WordTable {
 public:
  WordTable() { slots_.assign(kSlots, Slot{}); }

  bool full() const { return used_ * 2 >= kSlots || keys_.size() > kMaxArenaBytes; }

  // The cached ids of `word`, or {nullptr, 0}.
  std::pair<const TokenId*, size_t> find(std::string_view word, uint64_t hash) const {
    for (size_t i = hash & (kSlots - 1);; i = (i + 1) & (kSlots - 1)) {
      const Slot& slot = slots_[i];
      if (slot.hash == 0) return {nullptr, 0};
      if (slot.hash == hash && slot.key_length == word.size() &&
          std::memcmp(keys_.data() + slot.key_offset, word.data(), word.size()) == 0) {
        return {ids_.data() + slot.ids_offset, slot.ids_count};
      }
    }
  }

  // The caller checks full() first.
  void insert(std::string_view word, uint64_t hash, const TokenId* ids, size_t count) {
    size_t i = hash & (kSlots - 1);
    while (slots_[i].hash != 0) i = (i + 1) & (kSlots - 1);
    slots_[i] = Slot{hash, static_cast<uint32_t>(keys_.size()), static_cast<uint32_t>(word.size()),
                     static_cast<uint32_t>(ids_.size()), static_cast<uint32_t>(count)};
    keys_.append(word);
    ids_.insert(ids_.end(), ids, ids + count);
    ++used_;
  }

  void clear() {
    std::fill(slots_.begin(), slots_.end(), Slot{});
    keys_.clear();
    ids_.clear();
    used_ = 0;
  }

 private:
  static constexpr size_t kSlots = size_t{1} << 15;
  static constexpr size_t kMaxArenaBytes = size_t{1} << 20;
  struct Slot {
    uint64_t hash = 0;
    uint32_t key_offset = 0, key_length = 0, ids_offset = 0, ids_count = 0;
  };
  std::vector<Slot> slots_;
  std::string keys_;
  std::vector<TokenId> ids_;
  size_t used_ = 0;
};

// Remembers the ids of recently seen words, in two generations: when the
// current one fills up it becomes the previous one, and words found there
// move back to the current one. Frequent words so survive, rare ones age out,
// and memory stays bounded.
class WordCache {
 public:
  static constexpr size_t kMaxWordBytes = 128;

  // Appends the cached ids of `word` to `out`; false if it is not cached.
  bool find(std::string_view word, uint64_t hash, std::vector<TokenId>& out) {
    auto [ids, count] = current_.find(word, hash);
    if (ids == nullptr) {
      std::tie(ids, count) = previous_.find(word, hash);
      if (ids == nullptr) return false;
      out.insert(out.end(), ids, ids + count);
      insert(word, hash, out.data() + out.size() - count, count);
      return true;
    }
    out.insert(out.end(), ids, ids + count);
    return true;
  }

  void insert(std::string_view word, uint64_t hash, const TokenId* ids, size_t count) {
    if (current_.full()) {
      std::swap(current_, previous_);
      current_.clear();
    }
    current_.insert(word, hash, ids, count);
  }

 private:
  WordTable current_, previous_;
};

// Working memory of one encode call, reused across its words.
struct MergeScratch {
  struct Symbol {
    int32_t id;  // -1 once merged into its left neighbour
    int32_t prev, next;
  };
  struct Candidate {
    int32_t rank;
    int32_t left, right;
    int32_t left_id, right_id;  // the pair as it was when queued, to spot stale entries
    int32_t result;
  };
  std::vector<Symbol> symbols;
  std::vector<Candidate> queue;  // a heap: lowest rank first, then leftmost
};

// A pre-tokenizer name llama.cpp runs without the byte-level mapping (Gemma 4 style).
bool is_raw_utf8_pre_tokenizer(const std::string& pre) {
  try {
    return !pre_tokenizer_info(pre).byte_level;
  } catch (const Error&) {
    return false;  // names from tokenizer.json imports need not be llama.cpp's
  }
}

bool later_candidate(const MergeScratch::Candidate& a, const MergeScratch::Candidate& b) {
  return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
}

class BpeTokenizer final : public TokenizerAlgorithm {
 public:
  explicit BpeTokenizer(const Vocab& vocab);
  void encode(std::string_view text, bool first, std::vector<TokenId>& out) const override;
  std::string token_bytes(TokenId id) const override;

 private:
  static constexpr size_t kShortWordBytes = 48;

  void encode_word(std::string_view word, std::vector<TokenId>& out, MergeScratch& scratch) const;
  void merge_short_word(std::string_view word, std::vector<TokenId>& out) const;
  void queue_pair(MergeScratch& scratch, int32_t left, int32_t right) const;
  void emit_symbol(int32_t symbol, std::vector<TokenId>& out) const;

  int32_t token_count_ = 0;
  bool ignore_merges_ = false;
  RegexSplitter splitter_;
  MergeTable merges_;
  std::array<int32_t, 256> byte_symbol_{};        // raw byte -> symbol id of its byte-level character
  std::array<TokenId, 256> single_byte_token_{};  // token whose text is this one byte (llama.cpp's fallback)
  std::vector<std::string> extended_texts_;      // byte-level text of symbols that are not tokens
  std::string token_byte_arena_;                  // raw bytes of every token, back to back
  std::vector<uint32_t> token_byte_offsets_;      // token id -> its slice of the arena (size + 1)
  std::vector<bool> token_is_control_;
  std::unordered_map<TokenId, std::string> user_defined_texts_;  // printed as written, as llama.cpp does
  std::unordered_map<std::string_view, TokenId> raw_bytes_to_token_;  // for ignore_merges

  mutable std::mutex cache_mutex_;
  mutable WordCache cache_;
};

BpeTokenizer::BpeTokenizer(const Vocab& vocab)
    : token_count_(static_cast<int32_t>(vocab.size())),
      ignore_merges_(vocab.ignore_merges),
      splitter_(vocab.pre_regexes) {
  if (is_raw_utf8_pre_tokenizer(vocab.pre)) {
    fail("key 'tokenizer.ggml.pre' is '", vocab.pre,
         "': BPE over raw UTF-8 (not GPT-2 byte-level) is not supported by nomoat");
  }
  const std::array<char32_t, 256> byte_to_cp = make_byte_to_codepoint();
  std::array<int16_t, 324> cp_to_byte;  // the byte map's code points all lie below U+0144
  cp_to_byte.fill(-1);
  for (int b = 0; b < 256; ++b) cp_to_byte[byte_to_cp[static_cast<size_t>(b)]] = static_cast<int16_t>(b);

  // Raw bytes of each token (its text when a character is outside the byte map).
  token_byte_offsets_.reserve(vocab.size() + 1);
  std::vector<bool> token_decodes(vocab.size());  // all characters of the token are in the byte map
  token_is_control_.resize(vocab.size());
  for (size_t id = 0; id < vocab.size(); ++id) {
    token_byte_offsets_.push_back(static_cast<uint32_t>(token_byte_arena_.size()));
    token_is_control_[id] = vocab.is_control(static_cast<TokenId>(id));
    if (vocab.type_of(static_cast<TokenId>(id)) == TokenType::kUserDefined) {
      user_defined_texts_.emplace(static_cast<TokenId>(id), vocab.tokens[id]);
    }
    const std::string& text = vocab.tokens[id];
    std::string raw;
    bool decodes = true;
    for (size_t i = 0; i < text.size() && decodes;) {
      char32_t cp;
      decodes = next_codepoint(text, i, cp) && cp < cp_to_byte.size() && cp_to_byte[cp] >= 0;
      if (decodes) raw.push_back(static_cast<char>(cp_to_byte[cp]));
    }
    token_decodes[id] = decodes;
    token_byte_arena_ += decodes ? raw : text;
  }
  token_byte_offsets_.push_back(static_cast<uint32_t>(token_byte_arena_.size()));
  raw_bytes_to_token_.reserve(vocab.size());
  for (size_t id = 0; id < vocab.size(); ++id) {
    if (!token_decodes[id]) continue;
    const std::string_view raw(token_byte_arena_.data() + token_byte_offsets_[id],
                               token_byte_offsets_[id + 1] - token_byte_offsets_[id]);
    raw_bytes_to_token_.emplace(raw, static_cast<TokenId>(id));  // duplicates keep the first id
  }

  // Symbol ids: a token's first id, else an extended id past the vocabulary.
  std::unordered_map<std::string, int32_t> extended_ids;
  auto symbol_of = [&](const std::string& text) -> int32_t {
    if (const TokenId id = vocab.find(text); id != kNoToken) return id;
    auto [it, added] = extended_ids.emplace(text, token_count_ + static_cast<int32_t>(extended_texts_.size()));
    if (added) extended_texts_.push_back(text);
    return it->second;
  };
  for (int b = 0; b < 256; ++b) {
    std::string ch;
    append_utf8(ch, byte_to_cp[static_cast<size_t>(b)]);
    byte_symbol_[static_cast<size_t>(b)] = symbol_of(ch);
    single_byte_token_[static_cast<size_t>(b)] = vocab.find(std::string(1, static_cast<char>(b)));
  }
  merges_.reserve(vocab.merges.size());
  for (size_t rank = 0; rank < vocab.merges.size(); ++rank) {
    const std::string& merge = vocab.merges[rank];
    const size_t space = merge.find(' ', 1);  // as llama.cpp splits "left right"
    if (space == std::string::npos) continue;
    const std::string left = merge.substr(0, space);
    const std::string right = merge.substr(space + 1);
    const int32_t left_id = symbol_of(left);
    const int32_t right_id = symbol_of(right);
    merges_.insert(left_id, right_id, {static_cast<int32_t>(rank), symbol_of(left + right)});
  }
}

void BpeTokenizer::queue_pair(MergeScratch& scratch, int32_t left, int32_t right) const {
  if (left < 0 || right < 0) return;
  const int32_t left_id = scratch.symbols[static_cast<size_t>(left)].id;
  const int32_t right_id = scratch.symbols[static_cast<size_t>(right)].id;
  const MergeTable::Merge* merge = merges_.find(left_id, right_id);
  if (merge == nullptr) return;
  scratch.queue.push_back({merge->rank, left, right, left_id, right_id, merge->result});
  std::push_heap(scratch.queue.begin(), scratch.queue.end(), later_candidate);
}

void BpeTokenizer::emit_symbol(int32_t symbol, std::vector<TokenId>& out) const {
  if (symbol < token_count_) {
    out.push_back(symbol);
    return;
  }
  // Not a token: llama.cpp looks up each byte of the byte-level text and
  // drops the ones that are not tokens.
  for (const char c : extended_texts_[static_cast<size_t>(symbol - token_count_)]) {
    const TokenId id = single_byte_token_[static_cast<unsigned char>(c)];
    if (id != kNoToken) out.push_back(id);
  }
}

// The same merge order as the queue below (lowest rank, then leftmost), found
// by scanning a small array of pair ranks: cheaper for the short words that
// make up nearly all text.
void BpeTokenizer::merge_short_word(std::string_view word, std::vector<TokenId>& out) const {
  constexpr int32_t kNoMerge = INT32_MAX;
  int32_t symbols[kShortWordBytes];
  int32_t ranks[kShortWordBytes];    // ranks[i]: merge of symbols i and i + 1
  int32_t results[kShortWordBytes];  // the symbol that merge makes
  size_t count = word.size();
  for (size_t i = 0; i < count; ++i) symbols[i] = byte_symbol_[static_cast<unsigned char>(word[i])];
  const auto look_up = [&](size_t i) {
    const MergeTable::Merge* merge = merges_.find(symbols[i], symbols[i + 1]);
    ranks[i] = merge != nullptr ? merge->rank : kNoMerge;
    results[i] = merge != nullptr ? merge->result : -1;
  };
  for (size_t i = 0; i + 1 < count; ++i) look_up(i);
  while (count > 1) {
    size_t best = 0;
    for (size_t i = 1; i + 1 < count; ++i) {
      if (ranks[i] < ranks[best]) best = i;
    }
    if (ranks[best] == kNoMerge) break;
    symbols[best] = results[best];
    std::copy(symbols + best + 2, symbols + count, symbols + best + 1);
    if (best + 2 < count) {
      std::copy(ranks + best + 2, ranks + count - 1, ranks + best + 1);
      std::copy(results + best + 2, results + count - 1, results + best + 1);
    }
    --count;
    if (best > 0) look_up(best - 1);
    if (best + 1 < count) look_up(best);
  }
  for (size_t i = 0; i < count; ++i) emit_symbol(symbols[i], out);
}

void BpeTokenizer::encode_word(std::string_view word, std::vector<TokenId>& out, MergeScratch& scratch) const {
  if (ignore_merges_) {
    if (const auto it = raw_bytes_to_token_.find(word); it != raw_bytes_to_token_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  if (word.size() <= kShortWordBytes) {
    merge_short_word(word, out);
    return;
  }
  auto& symbols = scratch.symbols;
  const auto n = static_cast<int32_t>(word.size());
  symbols.resize(word.size());
  for (int32_t i = 0; i < n; ++i) {
    symbols[static_cast<size_t>(i)] = {byte_symbol_[static_cast<unsigned char>(word[static_cast<size_t>(i)])], i - 1,
                                       i + 1 < n ? i + 1 : -1};
  }
  scratch.queue.clear();
  for (int32_t i = 0; i + 1 < n; ++i) queue_pair(scratch, i, i + 1);
  while (!scratch.queue.empty()) {
    std::pop_heap(scratch.queue.begin(), scratch.queue.end(), later_candidate);
    const MergeScratch::Candidate c = scratch.queue.back();
    scratch.queue.pop_back();
    auto& left = symbols[static_cast<size_t>(c.left)];
    auto& right = symbols[static_cast<size_t>(c.right)];
    if (left.id != c.left_id || right.id != c.right_id) continue;  // one side changed since it was queued
    left.id = c.result;
    left.next = right.next;
    if (right.next >= 0) symbols[static_cast<size_t>(right.next)].prev = c.left;
    right.id = -1;
    queue_pair(scratch, left.prev, c.left);
    queue_pair(scratch, c.left, left.next);
  }
  for (int32_t i = 0; i >= 0; i = symbols[static_cast<size_t>(i)].next) emit_symbol(symbols[static_cast<size_t>(i)].id, out);
}

void BpeTokenizer::encode(std::string_view text, bool /*first*/, std::vector<TokenId>& out) const {
  std::string storage;
  MergeScratch scratch;
  // The cache is shared; a thread that finds it busy encodes without it.
  std::unique_lock<std::mutex> lock(cache_mutex_, std::try_to_lock);
  WordCache* cache = lock.owns_lock() ? &cache_ : nullptr;
  splitter_.for_each_piece(text, storage, [&](std::string_view word) {
    if (cache == nullptr || word.size() > WordCache::kMaxWordBytes) {
      encode_word(word, out, scratch);
      return;
    }
    const uint64_t hash = hash_bytes(word);
    if (cache->find(word, hash, out)) return;
    const size_t before = out.size();
    encode_word(word, out, scratch);
    cache->insert(word, hash, out.data() + before, out.size() - before);
  });
}

std::string BpeTokenizer::token_bytes(TokenId id) const {
  const auto index = static_cast<size_t>(id);
  if (token_is_control_[index]) return {};
  if (const auto it = user_defined_texts_.find(id); it != user_defined_texts_.end()) return it->second;
  return token_byte_arena_.substr(token_byte_offsets_[index], token_byte_offsets_[index + 1] - token_byte_offsets_[index]);
}

}  // namespace

std::unique_ptr<TokenizerAlgorithm> make_bpe_tokenizer(const Vocab& vocab) { return std::make_unique<BpeTokenizer>(vocab); }

}  // namespace nomoat
