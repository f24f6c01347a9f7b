// SentencePiece-style tokenizer: merge order, byte fallback, malformed
// input, whitespace, and decoding (whole and streamed) back to the text.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "support/test_data.h"
#include "tokenizer/tokenizer.h"

namespace nomoat {
namespace {

constexpr TokenId kFirstByteToken = 3;  // <0x00> in the small vocabularies below

TokenId byte_id(unsigned char b) { return kFirstByteToken + b; }

// <unk> <s> </s>, the 256 byte tokens, then `pieces` with their scores.
Vocab small_vocab(const std::vector<std::pair<std::string, float>>& pieces, bool with_bytes = true) {
  Vocab v;
  v.kind = TokenizerKind::kSpm;
  v.model = "llama";
  v.add_bos = true;
  v.add_space_prefix = true;
  v.unk = 0;
  v.bos = 1;
  v.eos = 2;
  auto add = [&](std::string text, float score, TokenType type) {
    v.tokens.push_back(std::move(text));
    v.scores.push_back(score);
    v.types.push_back(type);
  };
  add("<unk>", 0, TokenType::kUnknown);
  add("<s>", 0, TokenType::kControl);
  add("</s>", 0, TokenType::kControl);
  if (with_bytes) {
    for (int b = 0; b < 256; ++b) {
      char name[8];
      std::snprintf(name, sizeof(name), "<0x%02X>", b);
      add(name, 0, TokenType::kByte);
    }
  }
  for (const auto& [text, score] : pieces) add(text, score, TokenType::kNormal);
  v.finalize("test vocabulary");
  return v;
}

EncodeOptions plain() {
  EncodeOptions o;
  o.add_special = false;
  o.parse_special = false;
  return o;
}

std::vector<TokenId> ids_of(const Tokenizer& tok, std::initializer_list<const char*> texts) {
  std::vector<TokenId> ids;
  for (const char* t : texts) {
    const TokenId id = tok.vocab().find(t);
    EXPECT_NE(id, kNoToken) << t;
    ids.push_back(id);
  }
  return ids;
}

TEST(SpmTokenizer, MergesHighestScoringPairFirst) {
  const Tokenizer tok(small_vocab({{"a", -5}, {"b", -5}, {"c", -5}, {"ab", -2}, {"bc", -1}, {"▁", -5}}));
  EXPECT_EQ(tok.encode("abc", plain()), ids_of(tok, {"▁", "a", "bc"}));
}

TEST(SpmTokenizer, EqualScoresMergeLeftmostFirst) {
  // "aba": "ab" and "ba" score the same and overlap; the left one wins.
  const Tokenizer tok(small_vocab({{"a", -5}, {"b", -5}, {"ab", -1}, {"ba", -1}, {"▁", -5}}));
  EXPECT_EQ(tok.encode("aba", plain()), ids_of(tok, {"▁", "ab", "a"}));
  EXPECT_EQ(tok.encode("bab", plain()), ids_of(tok, {"▁", "ba", "b"}));
}

TEST(SpmTokenizer, MergesGrowLongerTokens) {
  const Tokenizer tok(small_vocab({{"▁", -9}, {"h", -9}, {"i", -9}, {"▁h", -3}, {"hi", -2}, {"▁hi", -1}}));
  // "hi" first (best pair), then "▁" + "hi".
  EXPECT_EQ(tok.encode("hi", plain()), ids_of(tok, {"▁hi"}));
}

TEST(SpmTokenizer, MergesReachAcrossBytesOnlyWhenSomeTokenHoldsThem) {
  // "\n" inside a longer token: the text is not cut at the newline.
  const Tokenizer joined(small_vocab({{"▁", -5}, {"a", -5}, {"b", -5}, {"\n", -5}, {"a\n", -3}, {"a\nb", -1}}));
  EXPECT_EQ(joined.encode("a\nb", plain()), ids_of(joined, {"▁", "a\nb"}));
  // No token holds "\n" with anything else: each side merges on its own.
  const Tokenizer apart(small_vocab({{"▁", -5}, {"a", -5}, {"b", -5}, {"\n", -5}, {"▁a", -1}, {"ab", -2}}));
  EXPECT_EQ(apart.encode("a\nab\n\nb", plain()), ids_of(apart, {"▁a", "\n", "ab", "\n", "\n", "b"}));
}

TEST(SpmTokenizer, UnknownCharactersFallBackToBytes) {
  const Tokenizer tok(small_vocab({{"▁", -1}, {"a", -1}}));
  EXPECT_EQ(tok.encode("a\xC3\xA9", plain()), (std::vector<TokenId>{tok.vocab().find("▁"), tok.vocab().find("a"),
                                                                   byte_id(0xC3), byte_id(0xA9)}));
  EXPECT_EQ(tok.decode(tok.encode("a\xC3\xA9")), "a\xC3\xA9");
}

TEST(SpmTokenizer, WithoutByteTokensUnknownBytesBecomeUnk) {
  const Tokenizer tok(small_vocab({{"▁", -1}, {"a", -1}}, /*with_bytes=*/false));
  EXPECT_EQ(tok.encode("a\xC3\xA9", plain()), (std::vector<TokenId>{tok.vocab().find("▁"), tok.vocab().find("a"), 0, 0}));
}

TEST(SpmTokenizer, InvalidUtf8DoesNotCrashAndRoundTrips) {
  const Tokenizer tok(small_vocab({{"▁", -1}, {"a", -1}, {"b", -1}, {"ab", 0}}));
  const std::vector<std::string> inputs = {"\xFF", "a\x80" "b", "ab\xC3", "\xE2\x82", "\xF0\x9F\x98", "\xC0\xAF",
                                           std::string("a\0b", 3), "\xED\xA0\x80", "\xF8\x88\x80\x80\x80"};
  for (const std::string& text : inputs) {
    const auto ids = tok.encode(text, plain());
    EXPECT_FALSE(ids.empty()) << text;
    EXPECT_EQ(tok.decode(ids), text);
    EXPECT_EQ(tok.decode(tok.encode(text)), text);
  }
  // A stray or truncated byte is a symbol of its own, so "ab" still merges...
  const TokenId space = tok.vocab().find("▁"), ab = tok.vocab().find("ab");
  EXPECT_EQ(tok.encode("\x80" "ab", plain()), (std::vector<TokenId>{space, byte_id(0x80), ab}));
  EXPECT_EQ(tok.encode("\xC3" "ab", plain()), (std::vector<TokenId>{space, byte_id(0xC3), ab}));
  // ...and a truncated lead byte cannot swallow the space mark after it.
  EXPECT_EQ(tok.encode("\xF0 ab", plain()), (std::vector<TokenId>{space, byte_id(0xF0), space, ab}));
  EXPECT_EQ(tok.decode(tok.encode("\xF0\x9F a\xE2 ")), "\xF0\x9F a\xE2 ");
}

TEST(SpmTokenizer, EmptyTextGivesNoTokens) {
  const Tokenizer tok(small_vocab({{"▁", -1}}));
  EXPECT_TRUE(tok.encode("", plain()).empty());
  EXPECT_EQ(tok.encode(""), std::vector<TokenId>{1});  // just BOS
  EXPECT_EQ(tok.decode({}), "");
}

TEST(SpmTokenizer, SpacesBecomeSpaceMarks) {
  const Tokenizer tok(small_vocab({{"▁", -3}, {"▁▁", -2}, {"a", -5}, {"▁a", -1}, {"\t", -1}}));
  // " a" -> "▁▁a": "▁a" scores best and takes the second mark.
  EXPECT_EQ(tok.encode(" a", plain()), ids_of(tok, {"▁", "▁a"}));
  EXPECT_EQ(tok.encode("a   a", plain()), ids_of(tok, {"▁a", "▁▁", "▁a"}));
  EXPECT_EQ(tok.encode("\t", plain()), ids_of(tok, {"▁", "\t"}));
  for (const char* text : {" a", "a   a", "  ", "\t a \n", " "}) EXPECT_EQ(tok.decode(tok.encode(text)), text);
}

TEST(SpmTokenizer, NoSpacePrefixWhenVocabularyOmitsIt) {
  Vocab v = small_vocab({{"▁", -1}, {"a", -1}});
  v.add_space_prefix = false;
  const Tokenizer tok(std::move(v));
  EXPECT_EQ(tok.encode("a a", plain()), ids_of(tok, {"a", "▁", "a"}));
  EXPECT_EQ(tok.decode(tok.encode(" a")), " a");
}

TEST(SpmTokenizer, RemovesExtraWhitespacesWhenAsked) {
  Vocab v = small_vocab({{"▁", -1}, {"a", -1}, {"▁a", 0}});
  v.remove_extra_whitespaces = true;
  const Tokenizer tok(std::move(v));
  EXPECT_EQ(tok.encode("  a    a  ", plain()), ids_of(tok, {"▁a", "▁a"}));
}

TEST(SpmTokenizer, TokenBytes) {
  const Tokenizer tok(small_vocab({{"▁ab", -1}, {"c▁d", -1}}));
  EXPECT_EQ(tok.token_bytes(tok.vocab().find("▁ab")), " ab");
  EXPECT_EQ(tok.token_bytes(tok.vocab().find("c▁d")), "c d");
  EXPECT_EQ(tok.token_bytes(byte_id(0x0A)), "\n");
  EXPECT_EQ(tok.token_bytes(byte_id(0xE2)), "\xE2");
  EXPECT_EQ(tok.token_bytes(1), "");  // control
  EXPECT_EQ(tok.decode({1, tok.vocab().find("▁ab"), 2}), "ab");
}

TEST(SpmTokenizer, StreamDecoderHoldsBackSplitCharacters) {
  const Tokenizer tok(small_vocab({{"▁", -1}, {"a", -1}}));
  const std::string text = "a\xF0\x9F\xA6\x99" "a\xE4\xBD\xA0";  // a🦙a你, all non-ASCII as byte tokens
  const auto ids = tok.encode(text);
  Tokenizer::StreamDecoder stream(tok);
  std::string streamed;
  std::vector<std::string> pieces;
  for (TokenId id : ids) {
    pieces.push_back(stream.push(id));
    streamed += pieces.back();
    // Never a partial character on the way out.
    EXPECT_EQ(tok.decode(tok.encode(pieces.back())), pieces.back());
  }
  streamed += stream.flush();
  EXPECT_EQ(streamed, text);
  // The emoji's first three byte tokens give nothing; the fourth gives it whole.
  ASSERT_GE(pieces.size(), 7u);
  EXPECT_EQ(pieces[3], "");
  EXPECT_EQ(pieces[4], "");
  EXPECT_EQ(pieces[5], "");
  EXPECT_EQ(pieces[6], "\xF0\x9F\xA6\x99");
}

TEST(SpmTokenizer, StreamDecoderFlushesTruncatedCharacterAsReplacement) {
  const Tokenizer tok(small_vocab({{"▁", -1}, {"a", -1}}));
  Tokenizer::StreamDecoder stream(tok);
  EXPECT_EQ(stream.push(tok.vocab().find("a")), "a");
  EXPECT_EQ(stream.push(byte_id(0xE4)), "");
  EXPECT_EQ(stream.push(byte_id(0xBD)), "");
  EXPECT_EQ(stream.flush(), "\xEF\xBF\xBD");
}

// The shared Llama 2 vocabulary: realistic merges over 32000 pieces.
class SpmLlamaVocab : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto dir = testing::shared_data_dir();
    if (dir.empty()) return;
    tokenizer_ = new Tokenizer(load_vocab_gguf(GgufFile::open((dir / "vocab" / "ggml-vocab-llama-spm.gguf").string())));
  }
  static void TearDownTestSuite() {
    delete tokenizer_;
    tokenizer_ = nullptr;
  }
  void SetUp() override { NOMOAT_REQUIRE_SHARED_DATA(); }
  static const Tokenizer& tok() { return *tokenizer_; }
  static inline Tokenizer* tokenizer_ = nullptr;
};

TEST_F(SpmLlamaVocab, DecodeOfEncodeGivesTheText) {
  const std::vector<std::string> texts = {
      "Hello world",
      " Hello world",
      "   leading and trailing   ",
      "tabs\tand\nnewlines\r\n\n",
      "Ünïcödé façade naïve coöperate",
      "我想在apple工作1314151天～",
      "日本語のテキストと한국어 텍스트",
      "emoji 🦙🚀😶‍🌫️ ✅ and flags 🇯🇵",
      "Привет, мир! Γειά σου Κόσμε",
      "កាន់តែពិសេសអាចខលចេញ",
      "code: for (int i = 0; i < n; ++i) { x[i] <<= 1; }",
      "3.14159 1e-9 0x7fff ------======= ''''''```````",
      std::string(200, ' ') + "x",
      "\xF0\x9F\xA6\x99\xF0\x9F\xA6\x99",
  };
  for (const std::string& text : texts) {
    EXPECT_EQ(tok().decode(tok().encode(text)), text);
    EXPECT_EQ(tok().decode(tok().encode(text, plain())), text);
  }
}

TEST_F(SpmLlamaVocab, KnownIds) {
  // Reference ids from llama.cpp for this vocabulary.
  EXPECT_EQ(tok().encode("Hello world", plain()), (std::vector<TokenId>{15043, 3186}));
  EXPECT_EQ(tok().encode(" this is 🦙.cpp", plain()), (std::vector<TokenId>{29871, 445, 338, 29871, 243, 162, 169, 156, 29889, 8223}));
  EXPECT_EQ(tok().encode("Hello world"), (std::vector<TokenId>{1, 15043, 3186}));
}

TEST_F(SpmLlamaVocab, StreamingMatchesWholeDecode) {
  const std::string text = "a🦙 b你好 ✅ Ünï 😶‍🌫️ end";
  const auto ids = tok().encode(text);
  Tokenizer::StreamDecoder stream(tok());
  std::string streamed;
  bool saw_byte_token = false;
  for (TokenId id : ids) {
    saw_byte_token |= tok().vocab().type_of(id) == TokenType::kByte;
    const std::string piece = stream.push(id);
    // Each piece is complete UTF-8: it survives a round trip through the tokenizer.
    EXPECT_EQ(tok().decode(tok().encode(piece)), piece);
    streamed += piece;
  }
  streamed += stream.flush();
  EXPECT_TRUE(saw_byte_token);
  EXPECT_EQ(streamed, text);
}

TEST_F(SpmLlamaVocab, LongInputIsFast) {
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "The quick brown fox jumps over the lazy dog 🦙 1234. ";
  const auto ids = tok().encode(text, plain());
  EXPECT_GT(ids.size(), 20000u);
  EXPECT_EQ(tok().decode(ids), text);
}

}  // namespace
}  // namespace nomoat
