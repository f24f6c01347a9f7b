#include "tokenizer/vocab_cases.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "support/test_data.h"

namespace nomoat::testing {

std::vector<VocabCase> read_vocab_cases(const std::filesystem::path& inp, const std::filesystem::path& out) {
  std::vector<VocabCase> cases;
  if (!std::filesystem::exists(inp) || !std::filesystem::exists(out)) return cases;
  const std::string in_text = slurp(inp);
  const std::string separator = "\n__ggml_vocab_test__\n";
  size_t pos = 0;
  while (pos < in_text.size()) {
    const size_t end = in_text.find(separator, pos);
    if (end == std::string::npos) break;
    cases.push_back({in_text.substr(pos, end - pos), {}});
    pos = end + separator.size();
  }
  std::istringstream lines(slurp(out));
  std::string line;
  size_t i = 0;
  while (std::getline(lines, line) && i < cases.size()) {
    std::istringstream ids(line);
    TokenId id;
    while (ids >> id) cases[i].expected.push_back(id);
    ++i;
  }
  EXPECT_EQ(i, cases.size()) << inp << " and " << out << " disagree on the number of cases";
  return cases;
}

std::string ids_to_string(const std::vector<TokenId>& ids) {
  std::string s;
  for (TokenId id : ids) {
    s += ' ';
    s += std::to_string(id);
  }
  return s;
}

}  // namespace nomoat::testing
