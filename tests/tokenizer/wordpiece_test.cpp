// WordPiece tokenizer: normalization (lower case, accents, controls), word
// splitting (whitespace, punctuation, CJK) and longest-match pieces.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "formats/gguf.h"
#include "support/test_data.h"
#include "tokenizer/tokenizer.h"

namespace nomoat {
namespace {

// [PAD] [UNK] [CLS] [SEP] then `pieces`; word-initial pieces carry "▁".
Vocab small_vocab(const std::vector<std::string>& pieces) {
  Vocab v;
  v.kind = TokenizerKind::kWpm;
  v.model = "bert";
  v.add_bos = true;
  v.add_eos = true;
  v.add_space_prefix = true;
  v.lowercase = true;
  v.clean_spaces = true;
  v.pad = 0;
  v.unk = 1;
  v.cls = v.bos = 2;
  v.sep = v.eos = 3;
  v.tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]"};
  v.types = {TokenType::kControl, TokenType::kUnknown, TokenType::kControl, TokenType::kControl};
  for (const std::string& p : pieces) {
    v.tokens.push_back(p);
    v.types.push_back(TokenType::kNormal);
  }
  v.finalize("test vocabulary");
  return v;
}

const std::vector<std::string> kPieces = {
    "▁hello", "▁world", "▁un", "aff", "able", "▁unaff", "▁a", "pf", "el", "▁,", "▁!", "▁.",
    "▁$",     "▁中",    "▁国", "▁x",  "▁2",   "▁hell",  "o",  "▁é", "▁ß", "▁i",  "▁'", "s",
};

EncodeOptions plain() {
  EncodeOptions o;
  o.add_special = false;
  o.parse_special = false;
  return o;
}

class WordPieceTokenizerTest : public ::testing::Test {
 protected:
  WordPieceTokenizerTest() : tok_(small_vocab(kPieces)) {}
  std::vector<TokenId> ids(std::initializer_list<const char*> texts) const {
    std::vector<TokenId> out;
    for (const char* t : texts) {
      const TokenId id = tok_.vocab().find(t);
      EXPECT_NE(id, kNoToken) << t;
      out.push_back(id);
    }
    return out;
  }
  std::vector<TokenId> encode(std::string_view text) const { return tok_.encode(text, plain()); }
  Tokenizer tok_;
};

TEST_F(WordPieceTokenizerTest, LongestPiecesFromTheLeft) {
  EXPECT_EQ(encode("hello world"), ids({"▁hello", "▁world"}));
  // "▁unaff" is longer than "▁un", so it wins; then "able".
  EXPECT_EQ(encode("unaffable"), ids({"▁unaff", "able"}));
  EXPECT_EQ(encode("hello"), ids({"▁hello"}));
  // No continuation piece starts with "h": the whole word is unknown.
  EXPECT_EQ(encode("hellohello"), std::vector<TokenId>{1});
}

TEST_F(WordPieceTokenizerTest, WordWithUnmatchedPartIsOneUnk) {
  EXPECT_EQ(encode("helloq"), std::vector<TokenId>{1});
  EXPECT_EQ(encode("hello helloq world"), ids({"▁hello", "[UNK]", "▁world"}));
  EXPECT_EQ(encode("\xF0\x9F\x9A\x80"), std::vector<TokenId>{1});  // emoji: a letter-like symbol, no piece
}

TEST_F(WordPieceTokenizerTest, LowerCasesAndStripsAccents) {
  EXPECT_EQ(encode("HeLLo WORLD"), ids({"▁hello", "▁world"}));
  EXPECT_EQ(encode("\xC3\x84pfel"), ids({"▁a", "pf", "el"}));  // Äpfel: Ä -> a
  EXPECT_EQ(encode("h\xC3\xA9llo"), ids({"▁hello"}));  // é -> e
  EXPECT_EQ(encode("H\xC3\x89LLO"), ids({"▁hello"}));  // É -> E -> e
  EXPECT_EQ(encode("\xC3\xA9"), std::vector<TokenId>{1});  // "▁e" is no piece; "▁é" is never reached
  EXPECT_EQ(encode("\xC3\x9F"), ids({"▁ß"}));                    // ß has no decomposition and stays
}

TEST_F(WordPieceTokenizerTest, PunctuationAndCjkAreWordsOfTheirOwn) {
  EXPECT_EQ(encode("hello,world!"), ids({"▁hello", "▁,", "▁world", "▁!"}));
  EXPECT_EQ(encode("x$2"), ids({"▁x", "▁$", "▁2"}));  // ASCII symbols split too
  EXPECT_EQ(encode("中国"), ids({"▁中", "▁国"}));
  EXPECT_EQ(encode("hello中world"), ids({"▁hello", "▁中", "▁world"}));
  std::vector<TokenId> expected = ids({"▁i", "▁'"});
  expected.push_back(1);  // "s" alone is a word; only the continuation piece "s" exists
  EXPECT_EQ(encode("i's"), expected);
}

TEST_F(WordPieceTokenizerTest, WhitespaceAndControlsSeparateOrVanish) {
  EXPECT_TRUE(encode("").empty());
  EXPECT_TRUE(encode("   \t\n  ").empty());
  EXPECT_EQ(encode("  hello \t\n world  "), ids({"▁hello", "▁world"}));
  EXPECT_EQ(encode("hello\xE2\x80\x83world"), ids({"▁hello", "▁world"}));  // em space
  EXPECT_EQ(encode("hel\x01lo"), ids({"▁hello"}));                           // control dropped, no split
  EXPECT_EQ(encode(std::string("hel\0lo", 6)), ids({"▁hello"}));
  EXPECT_EQ(encode("hel\xE2\x80\x8Blo"), ids({"▁hello"}));  // zero-width space (Cf) dropped
}

TEST_F(WordPieceTokenizerTest, InvalidUtf8IsDropped) {
  EXPECT_EQ(encode("hel\xFFlo"), ids({"▁hello"}));
  EXPECT_EQ(encode("hello\xC3"), ids({"▁hello"}));
  EXPECT_EQ(encode("\x80\x80 world \xE2\x82"), ids({"▁world"}));
  EXPECT_EQ(encode("\xEF\xBF\xBD"), std::vector<TokenId>{});
}

TEST_F(WordPieceTokenizerTest, SpecialTokensAndDecode) {
  EXPECT_EQ(tok_.encode("Hello, world!"), ids({"[CLS]", "▁hello", "▁,", "▁world", "▁!", "[SEP]"}));
  EXPECT_EQ(tok_.decode(tok_.encode("Hello, world!")), "hello, world!");
  EXPECT_EQ(tok_.decode(tok_.encode("unaffable hello")), "unaffable hello");
  EXPECT_EQ(tok_.token_bytes(tok_.vocab().find("▁hello")), " hello");
  EXPECT_EQ(tok_.token_bytes(tok_.vocab().find("able")), "able");
  EXPECT_EQ(tok_.token_bytes(2), "");
}

TEST(WordPieceBge, KnownIdsAndDecode) {
  NOMOAT_REQUIRE_SHARED_DATA();
  const Tokenizer tok(load_vocab_gguf(
      GgufFile::open((testing::shared_data_dir() / "vocab" / "ggml-vocab-bert-bge.gguf").string())));
  // Reference ids from llama.cpp for this vocabulary.
  EXPECT_EQ(tok.encode("Hello, world!", plain()), (std::vector<TokenId>{7592, 1010, 2088, 999}));
  EXPECT_EQ(tok.encode("\xC3\x84pfel", plain()), (std::vector<TokenId>{9706, 7959, 2140}));
  EXPECT_EQ(tok.decode(tok.encode("Hello, World! It's unbelievable.")), "hello, world! it's unbelievable.");
  std::string long_text;
  for (int i = 0; i < 2000; ++i) long_text += "The quick brown fox, 1234 jumps; über 東京 ";
  EXPECT_GT(tok.encode(long_text, plain()).size(), 20000u);
}

}  // namespace
}  // namespace nomoat
