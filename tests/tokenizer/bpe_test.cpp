// Byte-level BPE: merge order, fallbacks, decoding and round trips, on tiny
// hand-made vocabularies and on the shared GGUF vocabularies.
#include <gtest/gtest.h>

#include <climits>
#include <thread>

#include "base/error.h"
#include "formats/gguf.h"
#include "support/test_data.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/tokenizer.h"

namespace nomoat {
namespace {

// GPT-2's byte-to-unicode character for one byte, as UTF-8.
std::string byte_char(unsigned char b) {
  char32_t cp = b;
  const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
  if (!printable) {
    cp = 0x100;
    for (int i = 0; i < b; ++i) {
      const bool p = (i >= 0x21 && i <= 0x7E) || (i >= 0xA1 && i <= 0xAC) || i >= 0xAE;
      if (!p) ++cp;
    }
  }
  std::string s;
  if (cp < 0x80) {
    s.push_back(static_cast<char>(cp));
  } else {
    s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
  return s;
}

// Ids 0..255 are the 256 byte characters; `extra` tokens follow in order.
Vocab tiny_vocab(const std::vector<std::string>& extra, const std::vector<std::string>& merges,
                 const std::string& pre = "gpt-2") {
  Vocab v;
  v.kind = TokenizerKind::kBpe;
  v.model = "gpt2";
  v.pre = pre;
  for (int b = 0; b < 256; ++b) v.tokens.push_back(byte_char(static_cast<unsigned char>(b)));
  for (const auto& t : extra) v.tokens.push_back(t);
  v.types.assign(v.tokens.size(), TokenType::kNormal);
  v.merges = merges;
  v.finalize("tiny vocab");
  return v;
}

EncodeOptions plain() {
  EncodeOptions o;
  o.add_special = false;
  o.parse_special = false;
  return o;
}

TokenId byte_id(char c) { return static_cast<unsigned char>(c); }

TEST(Bpe, LowestRankMergesFirst) {
  // "b c" outranks "a b": abc -> a + bc.
  const Tokenizer t(tiny_vocab({"ab", "bc"}, {"b c", "a b"}));
  EXPECT_EQ(t.encode("abc", plain()), (std::vector<TokenId>{byte_id('a'), 257}));
  const Tokenizer u(tiny_vocab({"ab", "bc", "abc"}, {"a b", "b c", "ab c"}));
  EXPECT_EQ(u.encode("abc", plain()), (std::vector<TokenId>{258}));
}

TEST(Bpe, EqualRanksMergeLeftmostFirst) {
  const Tokenizer t(tiny_vocab({"aa"}, {"a a"}));
  EXPECT_EQ(t.encode("aaa", plain()), (std::vector<TokenId>{256, byte_id('a')}));
  EXPECT_EQ(t.encode("aaaa", plain()), (std::vector<TokenId>{256, 256}));
}

TEST(Bpe, MergesRunOnByteLevelCharacters) {
  // " a" is "Ġa" in byte-level form; words start with their space.
  const std::string space = byte_char(' ');
  const Tokenizer t(tiny_vocab({space + "a"}, {space + " a"}));
  EXPECT_EQ(t.encode("b a", plain()), (std::vector<TokenId>{byte_id('b'), 256}));
}

TEST(Bpe, MergeResultThatIsNotATokenFallsBackToSingleBytesLikeLlamaCpp) {
  // "x y" merges into "xy", which is no token: llama.cpp then looks up each
  // byte of the byte-level text and keeps those that are tokens.
  const Tokenizer t(tiny_vocab({}, {"x y"}));
  EXPECT_EQ(t.encode("xy", plain()), (std::vector<TokenId>{byte_id('x'), byte_id('y')}));
  // For "Ġa" only "a" is a one-byte token; the two bytes of "Ġ" are dropped.
  const std::string space = byte_char(' ');
  const Tokenizer u(tiny_vocab({}, {space + " a"}));
  EXPECT_EQ(u.encode(" a", plain()), (std::vector<TokenId>{byte_id('a')}));
}

TEST(Bpe, IgnoreMergesTakesWholeWords) {
  Vocab v = tiny_vocab({"hello"}, {"q u"});
  const Tokenizer with_merges(v);
  EXPECT_EQ(with_merges.encode("hello", plain()).size(), 5u);
  v.ignore_merges = true;
  const Tokenizer whole(std::move(v));
  EXPECT_EQ(whole.encode("hello", plain()), (std::vector<TokenId>{256}));
  EXPECT_EQ(whole.encode("hellos", plain()).size(), 6u);
}

TEST(Bpe, TokenBytesInvertsTheByteMap) {
  const std::string space = byte_char(' ');
  Vocab v = tiny_vocab({space + "hi", "<|end|>", "\xE2\x96\x81x", "\xC3\xB8"}, {"h i"});
  v.types[257] = TokenType::kControl;
  v.types[259] = TokenType::kUserDefined;
  const Tokenizer t(std::move(v));
  EXPECT_EQ(t.token_bytes(256), " hi");
  EXPECT_EQ(t.token_bytes(byte_id('\n')), "\n");
  EXPECT_EQ(t.token_bytes(0xE4), "\xE4");
  EXPECT_EQ(t.token_bytes(257), "");
  EXPECT_EQ(t.decode({257}, /*keep_special=*/true), "<|end|>");
  // A character outside the byte map: the token's own text.
  EXPECT_EQ(t.token_bytes(258), "\xE2\x96\x81x");
  // User-defined tokens print as written ("ø"), not as byte 0xF8.
  EXPECT_EQ(t.token_bytes(259), "\xC3\xB8");
}

TEST(Bpe, RawUtf8PreTokenizersAreRefused) {
  EXPECT_THROW(Tokenizer(tiny_vocab({}, {"a b"}, "gemma4")), Error);
}

TEST(Bpe, InvalidUtf8DoesNotCrash) {
  const Tokenizer t(tiny_vocab({}, {"a b"}));
  const std::string junk = "ok\xff\xfe\x80 \xF0\x9F\x98\xED\xA0\x80 \xC1\x81 end";
  const auto ids = t.encode(junk, plain());
  // Each bad byte is encoded as U+FFFD, as llama.cpp does; the rest survives.
  const std::string decoded = t.decode(ids);
  EXPECT_EQ(decoded.substr(0, 2), "ok");
  EXPECT_NE(decoded.find("\uFFFD"), std::string::npos);
  EXPECT_EQ(decoded.substr(decoded.size() - 6), " A end");
}

// ---------------------------------------------------------------------------
// Shared GGUF vocabularies
// ---------------------------------------------------------------------------

std::unique_ptr<Tokenizer> load_shared(const std::string& name) {
  const auto path = testing::shared_data_dir() / "vocab" / ("ggml-vocab-" + name + ".gguf");
  if (!std::filesystem::exists(path)) return nullptr;
  return std::make_unique<Tokenizer>(load_vocab_gguf(GgufFile::open(path.string())));
}

const std::vector<std::string>& varied_texts() {
  static const std::vector<std::string> texts = {
      "",
      "Hello world",
      "The quick brown fox jumps over the lazy dog. It's 3.14159 o'clock; they'll've gone.",
      "int main(int argc, char** argv) {\n\tfor (int i = 0; i < 10; ++i) {\n\t\tprintf(\"%d\\n\", i);\n\t}\n}\n",
      "    indented\n\n\n   trailing   \r\n\r\n",
      "中文分词测试：你好，世界！日本語のテキスト。한국어 텍스트.",
      "Emoji 🙂👍🏽 🇫🇷 👨‍👩‍👧 and symbols ∑∫√ ≠ ≤ € £ ¥ ©®™",
      "Ελληνικά, русский текст, العربية, עברית, हिन्दी, ไทย",
      "MixedCASE camelCase snake_case SCREAMING_CASE 1234567890 1,000,000.00",
      "\xC2\xA0non-breaking\xE2\x80\x83spaces\xE3\x80\x80ideographic",
      "<|endoftext|> <s> </s> [INST] literal special-looking text",
  };
  return texts;
}

bool is_valid_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

// A direct transcription of llama.cpp's algorithm over strings, slow but
// plain: repeatedly merge the lowest-ranked adjacent pair (leftmost on ties).
std::vector<TokenId> reference_bpe(const Vocab& vocab, const std::string& text) {
  std::vector<TokenId> out;
  for (const std::string& piece : RegexSplitter(vocab.pre_regexes).split(text)) {
    std::vector<std::string> symbols;
    for (const char c : piece) symbols.push_back(byte_char(static_cast<unsigned char>(c)));
    for (;;) {
      size_t best = 0;
      int32_t best_rank = INT32_MAX;
      for (size_t i = 0; i + 1 < symbols.size(); ++i) {
        const auto it = vocab.merge_rank.find(symbols[i] + " " + symbols[i + 1]);
        if (it != vocab.merge_rank.end() && it->second < best_rank) {
          best_rank = it->second;
          best = i;
        }
      }
      if (best_rank == INT32_MAX) break;
      symbols[best] += symbols[best + 1];
      symbols.erase(symbols.begin() + static_cast<ptrdiff_t>(best) + 1);
    }
    for (const std::string& symbol : symbols) {
      if (const TokenId id = vocab.find(symbol); id != kNoToken) {
        out.push_back(id);
        continue;
      }
      for (const char c : symbol) {
        if (const TokenId id = vocab.find(std::string(1, c)); id != kNoToken) out.push_back(id);
      }
    }
  }
  return out;
}

TEST(BpeShared, MatchesAPlainReferenceOnRandomText) {
  NOMOAT_REQUIRE_SHARED_DATA();
  const auto path = testing::shared_data_dir() / "vocab" / "ggml-vocab-gpt-2.gguf";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "ggml-vocab-gpt-2.gguf not present";
  const Vocab vocab = load_vocab_gguf(GgufFile::open(path.string()));
  const auto bpe = make_bpe_tokenizer(vocab);
  const std::vector<std::string> alphabet = {"a", "e", "t", "r", "s", "n", "x", "q", "Q", "E", "1", "7", " ", "  ",
                                             "\n", "'", ".", "é", "ß", "中", "🙂", "\xE2\x80\x83", "\xFF"};
  uint32_t state = 12345;
  const auto next = [&] { return state = state * 1664525u + 1013904223u; };
  for (int round = 0; round < 300; ++round) {
    // Short texts, and long letter runs that take the queue-based merge path.
    std::string text;
    const int length = round % 10 == 0 ? 60 + static_cast<int>(next() % 200) : 1 + static_cast<int>(next() % 40);
    for (int i = 0; i < length; ++i) {
      text += round % 10 == 0 ? alphabet[next() % 7] : alphabet[next() % alphabet.size()];
    }
    std::vector<TokenId> ids;
    bpe->encode(text, true, ids);
    ASSERT_EQ(ids, reference_bpe(vocab, repair_utf8_like_llama(text))) << "text: " << text;
  }
}

TEST(BpeShared, Gpt2KnownIds) {
  NOMOAT_REQUIRE_SHARED_DATA();
  const auto t = load_shared("gpt-2");
  if (!t) GTEST_SKIP() << "ggml-vocab-gpt-2.gguf not present";
  EXPECT_EQ(t->encode("Hello world", plain()), (std::vector<TokenId>{15496, 995}));
}

TEST(BpeShared, DecodeOfEncodeIsTheText) {
  NOMOAT_REQUIRE_SHARED_DATA();
  int checked = 0;
  for (const char* name : {"gpt-2", "deepseek-llm", "deepseek-coder", "falcon", "mpt", "refact", "starcoder"}) {
    const auto t = load_shared(name);
    if (!t) continue;
    ++checked;
    for (const std::string& text : varied_texts()) {
      EXPECT_EQ(t->decode(t->encode(text, plain())), text) << name << ": " << text;
    }
  }
  if (checked == 0) GTEST_SKIP() << "no shared BPE vocabulary present";
}

TEST(BpeShared, StreamingDecodeHoldsBackPartialCharacters) {
  NOMOAT_REQUIRE_SHARED_DATA();
  const auto t = load_shared("gpt-2");
  if (!t) GTEST_SKIP() << "ggml-vocab-gpt-2.gguf not present";
  const std::string text = "héllo 你好 🙂👍🏽 wörld ∑";
  const auto ids = t->encode(text, plain());
  // GPT-2 has no token for most CJK characters: they span several tokens.
  EXPECT_GT(ids.size(), 10u);
  Tokenizer::StreamDecoder stream(*t);
  std::string streamed;
  for (TokenId id : ids) {
    const std::string chunk = stream.push(id);
    EXPECT_TRUE(is_valid_utf8(chunk)) << "partial character after token " << id;
    streamed += chunk;
  }
  streamed += stream.flush();
  EXPECT_EQ(streamed, text);
}

TEST(BpeShared, ConcurrentEncodesAgree) {
  NOMOAT_REQUIRE_SHARED_DATA();
  const auto t = load_shared("gpt-2");
  if (!t) GTEST_SKIP() << "ggml-vocab-gpt-2.gguf not present";
  std::string text;
  for (int i = 0; i < 200; ++i) {
    for (const auto& s : varied_texts()) text += s + " " + std::to_string(i) + "\n";
  }
  const auto expected = t->encode(text, plain());
  std::vector<std::vector<TokenId>> results(4);
  std::vector<std::thread> threads;
  for (auto& r : results) threads.emplace_back([&] { r = t->encode(text, plain()); });
  for (auto& th : threads) th.join();
  for (const auto& r : results) EXPECT_EQ(r, expected);
  EXPECT_EQ(t->decode(expected), text);
}

}  // namespace
}  // namespace nomoat
