// Regex pre-tokenization: the llama.cpp name table and the splitter's cuts.
#include "tokenizer/pretokenize.h"

#include <gtest/gtest.h>

#include "base/error.h"

namespace nomoat {
namespace {

using Pieces = std::vector<std::string>;

Pieces split_for(const std::string& pre, const std::string& text) {
  return RegexSplitter(pre_tokenizer_regexes(pre)).split(text);
}

std::string joined(const Pieces& pieces) {
  std::string s;
  for (const auto& p : pieces) s += p;
  return s;
}

const char* const kKnownNames[] = {
    "default", "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2",
    "jina-v5-nano", "dbrx", "smaug-bpe", "glm4", "chatglm-bpe", "jais-2", "deepseek-llm", "deepseek-coder",
    "deepseek-v3", "hunyuan-dense", "joyai-llm", "hy_v4", "spark2_5", "youtu", "falcon", "starcoder", "refact",
    "command-r", "smollm", "codeshell", "exaone", "minerva-7b", "mellum2", "gpt-2", "phi-2", "jina-es", "jina-de",
    "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum", "modern-bert", "jina-v1-en", "jina-v2-code",
    "roberta-bpe", "exaone4", "mpt", "olmo", "jais", "trillion", "granite-docling", "qwen2", "deepseek-r1-qwen",
    "kormo", "f2llmv2", "megrez", "stablelm2", "hunyuan", "solar-open", "grok-2", "qwen35", "poro-chat", "bloom",
    "gpt3-finnish", "viking", "tekken", "chameleon", "gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2",
    "granite-embed-multi-97m", "tiny_aya", "cohere2moe", "kimi-k2", "superbpe", "bailingmoe", "bailingmoe2",
    "llada-moe", "seed-coder", "ufakzeka", "afmoe", "laguna", "exaone-moe", "minicpm5", "gemma4",
    "granite-embed-multi-311m", "sarvam-moe", "whitespace",
};

TEST(PreTokenizer, EveryKnownNameCompilesAndSplitsLosslessly) {
  const std::string sample = "Hello, World! It's 2024: 12345 apples\n\n  and\tCJK 你好世界 🙂 ~~ <tag>";
  for (const char* name : kKnownNames) {
    SCOPED_TRACE(name);
    const PreTokenizerInfo info = pre_tokenizer_info(name);
    ASSERT_FALSE(info.regexes.empty());
    const RegexSplitter splitter(info.regexes);
    EXPECT_EQ(joined(splitter.split(sample)), sample);
  }
}

TEST(PreTokenizer, UnknownNameNamesTheKeyAndValue) {
  try {
    pre_tokenizer_regexes("no-such-pre");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer.ggml.pre"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no-such-pre"), std::string::npos) << e.what();
  }
}

TEST(PreTokenizer, IgnoreMergesFollowsLlamaCpp) {
  EXPECT_TRUE(pre_tokenizer_ignores_merges("llama-bpe"));
  EXPECT_TRUE(pre_tokenizer_ignores_merges("tekken"));
  EXPECT_TRUE(pre_tokenizer_ignores_merges("pixtral"));
  EXPECT_FALSE(pre_tokenizer_ignores_merges("llama4"));
  EXPECT_FALSE(pre_tokenizer_ignores_merges("gpt-2"));
  EXPECT_FALSE(pre_tokenizer_ignores_merges("unknown"));
}

TEST(PreTokenizer, Gpt2WordsAndContractions) {
  EXPECT_EQ(split_for("gpt-2", "Hello world"), (Pieces{"Hello", " world"}));
  EXPECT_EQ(split_for("gpt-2", "I'm sure they'll can't"), (Pieces{"I", "'m", " sure", " they", "'ll", " can", "'t"}));
  // GPT-2's contractions are case-sensitive; Llama 3's are not.
  EXPECT_EQ(split_for("gpt-2", "I'M"), (Pieces{"I", "'", "M"}));
  EXPECT_EQ(split_for("llama-bpe", "I'M"), (Pieces{"I", "'M"}));
  EXPECT_EQ(split_for("gpt-2", "x ... !?"), (Pieces{"x", " ...", " !?"}));
}

TEST(PreTokenizer, DigitGrouping) {
  EXPECT_EQ(split_for("gpt-2", "a 1234567"), (Pieces{"a", " 1234567"}));
  EXPECT_EQ(split_for("llama-bpe", "1234567"), (Pieces{"123", "456", "7"}));
  EXPECT_EQ(split_for("qwen2", "2024"), (Pieces{"2", "0", "2", "4"}));
  EXPECT_EQ(split_for("starcoder", " 42"), (Pieces{" ", "4", "2"}));
  EXPECT_EQ(split_for("superbpe", "1234567 89"), (Pieces{"1", "234", "567", " ", "89"}));
  // AFMoE: head of 1-2 digits then threes; text before a run joins its first group.
  EXPECT_EQ(RegexSplitter({pre_tokenizer_regexes("afmoe")[0]}).split("ab1234567x"),
            (Pieces{"ab1", "234", "567", "x"}));
  EXPECT_EQ(split_for("afmoe", "ab1234567x"), (Pieces{"ab", "1", "234", "567", "x"}));
}

TEST(PreTokenizer, WhitespaceRunsAndNewlines) {
  EXPECT_EQ(split_for("gpt-2", "a   b"), (Pieces{"a", "  ", " b"}));
  EXPECT_EQ(split_for("gpt-2", "a\tb  "), (Pieces{"a", "\t", "b", "  "}));
  EXPECT_EQ(split_for("gpt-2", "a\n\nb"), (Pieces{"a", "\n", "\n", "b"}));
  EXPECT_EQ(split_for("llama-bpe", "a\n\n  b"), (Pieces{"a", "\n\n", " ", " b"}));
  EXPECT_EQ(split_for("llama-bpe", "x.\n\ny"), (Pieces{"x", ".\n\n", "y"}));
  EXPECT_EQ(split_for("llama-bpe", "   "), (Pieces{"   "}));
  EXPECT_EQ(split_for("deepseek-coder", "a\r\nb"), (Pieces{"a", "\r", "\n", "b"}));
  // Non-ASCII white space is white space.
  EXPECT_EQ(split_for("gpt-2", "a\u3000\u3000b"), (Pieces{"a", "\u3000", "\u3000", "b"}));
}

TEST(PreTokenizer, UpperCaseRunsForGpt4o) {
  EXPECT_EQ(split_for("gpt-4o", "HTTPServer getUserName"), (Pieces{"HTTPServer", " get", "User", "Name"}));
  EXPECT_EQ(split_for("gpt-4o", "don't"), (Pieces{"don't"}));
}

TEST(PreTokenizer, KimiK2KeepsHanApartAndDoesNotSplitCase) {
  EXPECT_EQ(split_for("kimi-k2", "ab你好cd getUserName"), (Pieces{"ab", "你好", "cd", " getUserName"}));
}

TEST(PreTokenizer, LlamaCppSymbolClassLacksTilde) {
  // llama.cpp's \p{S} has no '~', so " ~~" is not a symbol run for DeepSeek V3
  // (a Unicode \p{S} would make it one piece).
  EXPECT_EQ(split_for("deepseek-v3", " ++"), (Pieces{" ++"}));
  EXPECT_EQ(split_for("deepseek-v3", " ~~"), (Pieces{" ", "~~"}));
}

TEST(PreTokenizer, DeepseekCasedLettersKeepExactCodePoints) {
  // OHM SIGN, KELVIN SIGN and GREEK PROSGEGRAMMENI are in the list; their
  // canonical equivalents outside a range must not pull in ASCII 'K'..U+212D.
  EXPECT_EQ(split_for("deepseek-llm", "\u2126\u212A\u1FBE"), (Pieces{"\u2126\u212A\u1FBE"}));
  EXPECT_EQ(split_for("deepseek-llm", "a_b"), (Pieces{"a", "_", "b"}));
}

TEST(PreTokenizer, LookaroundsStopAtThePieceEdge) {
  // The second regex only sees "aa": its lookahead cannot reach the 'b'.
  EXPECT_EQ(RegexSplitter({"b", "a(?=b)"}).split("aab"), (Pieces{"aa", "b"}));
  EXPECT_EQ(RegexSplitter({"a(?=b)"}).split("aab"), (Pieces{"a", "a", "b"}));
}

TEST(PreTokenizer, EmptyRegexListKeepsTheText) {
  EXPECT_EQ(RegexSplitter(std::vector<std::string>{}).split("a b"), (Pieces{"a b"}));
  EXPECT_TRUE(RegexSplitter({"x"}).split("").empty());
}

TEST(PreTokenizer, BadRegexIsAnError) {
  EXPECT_THROW(RegexSplitter({"(unclosed"}), Error);
}

TEST(PreTokenizer, InvalidUtf8BecomesReplacementCharacterLikeLlamaCpp) {
  // Each byte that starts no well-formed sequence becomes U+FFFD.
  EXPECT_EQ(split_for("gpt-2", "abc\xff\xfe def"), (Pieces{"abc", "\uFFFD\uFFFD", " def"}));
  EXPECT_EQ(split_for("gpt-2", "x\xE4\xB8"), (Pieces{"x", "\uFFFD\uFFFD"}));
  // llama.cpp decodes overlong forms to their code point.
  EXPECT_EQ(repair_utf8_like_llama("\xC1\x81"), "A");
  // Surrogates are kept as llama.cpp keeps them, and do not break matching.
  EXPECT_EQ(split_for("gpt-2", "a\xED\xA0\x80!"), (Pieces{"a", "\xED\xA0\x80!"}));
  EXPECT_EQ(repair_utf8_like_llama("ok"), "ok");
  // Lone continuation bytes, truncated 4-byte forms, bytes above F4: no crash, nothing lost.
  const std::string junk = "\x80\x80 \xF0\x9F\x98 \xF8\xF9 \xC0";
  for (const char* name : kKnownNames) {
    EXPECT_NO_THROW(split_for(name, junk)) << name;
  }
}

TEST(PreTokenizer, RandomBytesSplitIntoTheRepairedText) {
  // Pieces never lose, add or reorder bytes of what llama.cpp would tokenize.
  const std::string atoms[] = {"a", "Z", "7", " ", "\n", "\r", "'", "s", ".", "~", "\xC3\xA9", "\xE4\xB8\xAD",
                               "\xF0\x9F\x99\x82", "\xE1\xA0\x8E", "\xED\xA0\x80", "\x80", "\xFF", "\xC1", "\xE2\x80"};
  uint32_t state = 99;
  const auto next = [&] { return state = state * 1664525u + 1013904223u; };
  std::vector<std::unique_ptr<RegexSplitter>> splitters;
  for (const char* name : kKnownNames) splitters.push_back(std::make_unique<RegexSplitter>(pre_tokenizer_regexes(name)));
  for (int round = 0; round < 300; ++round) {
    std::string text;
    for (int i = 0, n = static_cast<int>(next() % 24); i < n; ++i) text += atoms[next() % std::size(atoms)];
    const std::string expected = repair_utf8_like_llama(text);
    for (size_t k = 0; k < splitters.size(); ++k) {
      const Pieces pieces = splitters[k]->split(text);
      for (const auto& p : pieces) ASSERT_FALSE(p.empty());
      ASSERT_EQ(joined(pieces), expected) << kKnownNames[k];
    }
  }
}

TEST(PreTokenizer, MongolianVowelSeparatorIsNotWhiteSpace) {
  // PCRE2 counts U+180E as white space; llama.cpp does not.
  EXPECT_EQ(split_for("gpt-2", "\u180E\u180Ex"), (Pieces{"\u180E\u180E", "x"}));
}

TEST(PreTokenizer, LongRunsDoNotExhaustTheMatcher) {
  const std::string letters(1 << 20, 'a');
  EXPECT_EQ(split_for("gpt-2", letters).size(), 1u);
  const std::string punctuation(200000, '!');
  for (const char* name : {"deepseek-v3", "gpt-4o", "granite-embed-multi-97m", "tekken", "afmoe"}) {
    EXPECT_EQ(joined(split_for(name, punctuation)), punctuation) << name;
  }
  const std::string lower(1 << 20, 'x');
  for (const char* name : {"gpt-4o", "granite-embed-multi-97m", "exaone-moe", "kimi-k2"}) {
    EXPECT_EQ(split_for(name, lower).size(), 1u) << name;
  }
  std::string camel;
  for (int i = 0; i < 50000; ++i) camel += "Ab";
  EXPECT_EQ(joined(split_for("granite-embed-multi-97m", camel)), camel);
}

TEST(PreTokenizer, PiecesPointIntoTheInputWhenValid) {
  const std::string text = "one two";
  std::string storage;
  std::vector<std::string_view> pieces;
  RegexSplitter(pre_tokenizer_regexes("gpt-2")).for_each_piece(text, storage, [&](std::string_view p) {
    pieces.push_back(p);
  });
  ASSERT_EQ(pieces.size(), 2u);
  EXPECT_EQ(pieces[0].data(), text.data());
  EXPECT_TRUE(storage.empty());
}

}  // namespace
}  // namespace nomoat
