// Reads the tokenizer test cases in ../shared/data/vocab: NAME.gguf.inp holds
// test strings, each followed by "\n__ggml_vocab_test__\n"; NAME.gguf.out
// holds one line of space-separated expected ids per string.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "tokenizer/vocab.h"

namespace nomoat::testing {

struct VocabCase {
  std::string text;
  std::vector<TokenId> expected;
};

// Empty when the files are absent. Fails the calling test on a malformed pair.
std::vector<VocabCase> read_vocab_cases(const std::filesystem::path& inp, const std::filesystem::path& out);

// Human-readable ids for failure messages.
std::string ids_to_string(const std::vector<TokenId>& ids);

}  // namespace nomoat::testing
