// Every vocabulary in ../shared/data/vocab with test cases must reproduce the
// reference ids exactly. Convention (checked against the files): no BOS/EOS
// added and control tokens not parsed from the text.
#include <gtest/gtest.h>

#include "formats/gguf.h"
#include "support/test_data.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab_cases.h"

namespace nomoat {
namespace {

class GgufVocabCases : public ::testing::TestWithParam<std::string> {};

TEST_P(GgufVocabCases, MatchReferenceIds) {
  NOMOAT_REQUIRE_SHARED_DATA();
  const auto dir = testing::shared_data_dir() / "vocab";
  const std::string base = "ggml-vocab-" + GetParam() + ".gguf";
  const auto cases = testing::read_vocab_cases(dir / (base + ".inp"), dir / (base + ".out"));
  ASSERT_FALSE(cases.empty()) << "no test cases for " << base;
  const Tokenizer tok(load_vocab_gguf(GgufFile::open((dir / base).string())));
  EncodeOptions opts;
  opts.add_special = false;
  opts.parse_special = false;
  int passed = 0;
  for (const auto& c : cases) {
    const auto ids = tok.encode(c.text, opts);
    if (ids == c.expected) {
      ++passed;
    } else {
      ADD_FAILURE() << base << ": text \"" << c.text << "\"\n  expected" << testing::ids_to_string(c.expected)
                    << "\n  got     " << testing::ids_to_string(ids);
    }
  }
  std::printf("%s: %d of %zu cases match\n", base.c_str(), passed, cases.size());
}

INSTANTIATE_TEST_SUITE_P(Shared, GgufVocabCases,
                         ::testing::Values("llama-spm", "phi-3", "gpt-2", "deepseek-coder", "deepseek-llm",
                                           "falcon", "mpt", "refact", "starcoder", "bert-bge"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) if (c == '-') c = '_';
                           return name;
                         });

}  // namespace
}  // namespace nomoat
