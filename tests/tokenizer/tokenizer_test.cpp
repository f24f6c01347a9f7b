// The tokenizer front end: special tokens, BOS/EOS, decoding and streaming,
// on the real Llama 2 vocabulary in ../shared/data.
#include "tokenizer/tokenizer.h"

#include <gtest/gtest.h>

#include "base/error.h"
#include "formats/gguf.h"
#include "formats/gguf_writer.h"
#include "support/test_data.h"

namespace nomoat {
namespace {

Tokenizer llama_spm() {
  return Tokenizer(load_vocab_gguf(GgufFile::open((testing::shared_data_dir() / "vocab" / "ggml-vocab-llama-spm.gguf").string())));
}

TEST(Tokenizer, BosAndSpecialParsing) {
  NOMOAT_REQUIRE_SHARED_DATA();
  const Tokenizer tok = llama_spm();
  EXPECT_EQ(tok.vocab().bos, 1);
  EXPECT_EQ(tok.vocab().eos, 2);
  EXPECT_TRUE(tok.vocab().add_bos);
  EXPECT_EQ(tok.encode("Hello world"), (std::vector<TokenId>{1, 15043, 3186}));
  EncodeOptions no_bos;
  no_bos.add_special = false;
  EXPECT_EQ(tok.encode("Hello world", no_bos), (std::vector<TokenId>{15043, 3186}));
  // "</s>" is one control token when specials are parsed, text otherwise.
  const auto parsed = tok.encode("Hello</s>", no_bos);
  EXPECT_EQ(parsed, (std::vector<TokenId>{15043, 2}));
  no_bos.parse_special = false;
  const auto plain = tok.encode("Hello</s>", no_bos);
  EXPECT_GT(plain.size(), 2u);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), 2), 0);
  EXPECT_EQ(tok.decode(plain), "Hello</s>");
}

TEST(Tokenizer, DecodeDropsControlTokensUnlessAsked) {
  NOMOAT_REQUIRE_SHARED_DATA();
  const Tokenizer tok = llama_spm();
  EXPECT_EQ(tok.decode({1, 15043, 3186, 2}), "Hello world");
  EXPECT_EQ(tok.decode({1, 15043, 3186, 2}, true), "<s> Hello world</s>");
  EXPECT_EQ(tok.decode({29871, 15043}), " Hello");  // an explicit leading space survives
  EXPECT_THROW(tok.decode({32000}), Error);
  EXPECT_THROW(tok.decode({-1}), Error);
}

TEST(Tokenizer, StreamDecoderHoldsBackPartialUtf8) {
  NOMOAT_REQUIRE_SHARED_DATA();
  const Tokenizer tok = llama_spm();
  Tokenizer::StreamDecoder stream(tok);
  EXPECT_EQ(stream.push(1), "");
  EXPECT_EQ(stream.push(15043), "Hello");
  EXPECT_EQ(stream.push(29871), " ");
  // 😁 = F0 9F 98 81 arrives as four byte tokens.
  EXPECT_EQ(stream.push(243), "");
  EXPECT_EQ(stream.push(162), "");
  EXPECT_EQ(stream.push(155), "");
  EXPECT_EQ(stream.push(132), "\xF0\x9F\x98\x81");
  EXPECT_EQ(stream.flush(), "");
  // A sequence cut short is flushed as one replacement character.
  EXPECT_EQ(stream.push(243), "");
  EXPECT_EQ(stream.push(162), "");
  EXPECT_EQ(stream.flush(), "\xEF\xBF\xBD");
}

TEST(Tokenizer, RoundTripThroughGgufMetadata) {
  NOMOAT_REQUIRE_SHARED_DATA();
  const Tokenizer tok = llama_spm();
  GgufWriter w;
  write_vocab_gguf(tok.vocab(), w);
  const auto bytes = w.to_bytes();
  const Tokenizer again(load_vocab_gguf(GgufFile::parse(bytes, "rewritten.gguf")));
  const std::string text = "Hello, y'all! How are you 😁 ?我想在apple工作1314151天～";
  EXPECT_EQ(again.encode(text), tok.encode(text));
  EXPECT_EQ(again.vocab().tokens, tok.vocab().tokens);
  EXPECT_EQ(again.vocab().scores, tok.vocab().scores);
}

// A vocabulary whose metadata is inconsistent is refused with the key named.
TEST(Tokenizer, InconsistentMetadataNamesTheKey) {
  auto expect_error = [](GgufWriter& w, const std::string& fragment) {
    const auto bytes = w.to_bytes();
    try {
      load_vocab_gguf(GgufFile::parse(bytes, "v.gguf"));
      ADD_FAILURE() << "expected an error mentioning " << fragment;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  GgufWriter none;
  expect_error(none, "tokenizer.ggml.model");
  GgufWriter unknown;
  unknown.set("tokenizer.ggml.model", GgufValue::string("t9"));
  expect_error(unknown, "'t9'");
  GgufWriter no_tokens;
  no_tokens.set("tokenizer.ggml.model", GgufValue::string("llama"));
  expect_error(no_tokens, "tokenizer.ggml.tokens");
  GgufWriter bad_scores;
  bad_scores.set("tokenizer.ggml.model", GgufValue::string("llama"));
  bad_scores.set("tokenizer.ggml.tokens", GgufValue::string_array({"<unk>", "<s>", "</s>"}));
  bad_scores.set("tokenizer.ggml.scores", GgufValue::f32_array({0, 0}));
  expect_error(bad_scores, "tokenizer.ggml.scores");
  GgufWriter bad_id;
  bad_id.set("tokenizer.ggml.model", GgufValue::string("llama"));
  bad_id.set("tokenizer.ggml.tokens", GgufValue::string_array({"<unk>", "<s>", "</s>"}));
  bad_id.set("tokenizer.ggml.eos_token_id", GgufValue::u32(7));
  expect_error(bad_id, "tokenizer.ggml.eos_token_id");
  GgufWriter bpe_no_merges;
  bpe_no_merges.set("tokenizer.ggml.model", GgufValue::string("gpt2"));
  bpe_no_merges.set("tokenizer.ggml.tokens", GgufValue::string_array({"a", "b"}));
  expect_error(bpe_no_merges, "merges");
  GgufWriter bad_merge;
  bad_merge.set("tokenizer.ggml.model", GgufValue::string("gpt2"));
  bad_merge.set("tokenizer.ggml.tokens", GgufValue::string_array({"a", "b", "ab"}));
  bad_merge.set("tokenizer.ggml.merges", GgufValue::string_array({"ab"}));
  expect_error(bad_merge, "tokenizer.ggml.merges entry 0");
}

}  // namespace
}  // namespace nomoat

namespace nomoat {
namespace {

// Phi-3's added tokens swallow the whitespace after them, as its
// tokenizer.json's rstrip flags say.
TEST(Tokenizer, Phi3AddedTokensStripFollowingSpace) {
  NOMOAT_REQUIRE_SHARED_DATA();
  const Tokenizer tok(load_vocab_gguf(GgufFile::open((testing::shared_data_dir() / "vocab" / "ggml-vocab-phi-3.gguf").string())));
  const TokenId end = tok.vocab().find("<|end|>");
  ASSERT_NE(end, kNoToken);
  EncodeOptions opts;
  opts.add_special = false;
  const auto with_space = tok.encode("<|end|>  \n Hello", opts);
  const auto without = tok.encode("<|end|>Hello", opts);
  EXPECT_EQ(with_space, without);
  EXPECT_EQ(with_space.front(), end);
  // <s> keeps the space after it.
  EXPECT_NE(tok.encode("<s> Hello", opts), tok.encode("<s>Hello", opts));
}

}  // namespace
}  // namespace nomoat

namespace nomoat {
namespace {

TEST(Tokenizer, StreamDecoderReplacesBytesThatCannotBeUtf8) {
  NOMOAT_REQUIRE_SHARED_DATA();
  const Tokenizer tok = llama_spm();
  Tokenizer::StreamDecoder stream(tok);
  // <0xF0> then "Hello": the lead byte can never complete.
  EXPECT_EQ(stream.push(243), "");
  EXPECT_EQ(stream.push(15043), "\xEF\xBF\xBD Hello");
  // decode() keeps raw bytes so that decode(encode(x)) == x for any bytes.
  EXPECT_EQ(tok.decode({243, 15043}), "\xF0 Hello");
}

}  // namespace
}  // namespace nomoat
