// `nomoat run` and `nomoat perplexity` as a user runs them.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/test_data.h"

namespace nomoat {
namespace {

using testing::nomoat_binary;
using testing::run_command;

std::string stories() { return (testing::shared_data_dir() / "tiny" / "stories260K.gguf").string(); }

TEST(CliRun, GreedyContinuationAndTimings) {
  NOMOAT_REQUIRE_SHARED_DATA();
  std::string out, both;
  ASSERT_EQ(run_command(nomoat_binary() + " run " + stories() + " -p 'Once upon a time' -n 16 --temp 0 2>/dev/null", &out, false), 0);
  EXPECT_EQ(out, ", there was a little girl named Lily. She loved to play\n");
  ASSERT_EQ(run_command(nomoat_binary() + " run " + stories() + " -p 'Once upon a time' -n 4 --temp 0 -v --echo", &both), 0);
  EXPECT_EQ(both.rfind("Once upon a time, there was a", 0), 0u) << both;
  EXPECT_NE(both.find("tokens/s"), std::string::npos) << both;
  EXPECT_NE(both.find("peak RSS"), std::string::npos) << both;
  // Stop strings end the text before them.
  ASSERT_EQ(run_command(nomoat_binary() + " run " + stories() + " -p 'Once upon a time' -n 64 --temp 0 --stop Lily 2>/dev/null", &out, false), 0);
  EXPECT_EQ(out, ", there was a little girl named \n");
  // Sampling is reproducible with a seed.
  std::string a, b;
  ASSERT_EQ(run_command(nomoat_binary() + " run " + stories() + " -p 'Once' -n 24 --seed 5 2>/dev/null", &a, false), 0);
  ASSERT_EQ(run_command(nomoat_binary() + " run " + stories() + " -p 'Once' -n 24 --seed 5 2>/dev/null", &b, false), 0);
  EXPECT_EQ(a, b);
}

// The acceptance check as a user would run it: every reference prompt.
TEST(CliRun, EveryReferenceContinuationExactly) {
  NOMOAT_REQUIRE_SHARED_DATA();
  std::ifstream in(testing::shared_data_dir() / "tiny" / "expected.jsonl");
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line);
    std::string prompt = j["prompt"], out;
    for (size_t at = 0; (at = prompt.find('\'', at)) != std::string::npos; at += 4) prompt.replace(at, 1, "'\\''");
    ASSERT_EQ(run_command(nomoat_binary() + " run " + stories() + " -p '" + prompt + "' --temp 0 -n " + std::to_string(j["n_predict"].get<int>()) +
                              " 2>/dev/null",
                          &out, false),
              0);
    EXPECT_EQ(out, j["text"].get<std::string>() + "\n") << prompt;
    ++n;
  }
  EXPECT_EQ(n, 8);
}

TEST(CliRun, Errors) {
  NOMOAT_REQUIRE_SHARED_DATA();
  std::string out;
  EXPECT_EQ(run_command(nomoat_binary() + " run " + stories() + " -p 'Once' -c 2", &out), 1);
  EXPECT_NE(out.find("does not fit the context of 2"), std::string::npos) << out;
  EXPECT_EQ(run_command(nomoat_binary() + " run " + stories() + " -p x --cache-type q4_0", &out), 1);
  EXPECT_NE(out.find("--cache-type"), std::string::npos) << out;
  const std::pair<const char*, const char*> bad_params[] = {
      {"--temp -1", "temperature"}, {"--top-p 0", "top-p"},          {"--top-k -3", "top-k"},
      {"--min-p -0.5", "min-p"},    {"--typical 0", "typical-p"},    {"--repeat-penalty 0", "repeat penalty"},
      {"-n -5", "predict"},         {"-b 0", "batch size"},          {"-t 0", "--threads"},
  };
  for (const auto& [flag, word] : bad_params) {
    EXPECT_EQ(run_command(nomoat_binary() + " run " + stories() + " -p Once " + flag, &out), 1) << flag;
    EXPECT_NE(out.find(word), std::string::npos) << flag << ": " << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  }
  // Beyond the trained context (128): refused, or allowed with a warning.
  EXPECT_EQ(run_command(nomoat_binary() + " run " + stories() + " -p Once -n 2 -c 256", &out), 1);
  EXPECT_NE(out.find("--allow-long-context"), std::string::npos) << out;
  EXPECT_EQ(run_command(nomoat_binary() + " run " + stories() + " -p Once -n 2 -c 256 --allow-long-context", &out), 0) << out;
  EXPECT_NE(out.find("warning: context 256"), std::string::npos) << out;
}

TEST(CliPerplexity, StoriesText) {
  NOMOAT_REQUIRE_SHARED_DATA();
  std::string out;
  ASSERT_EQ(run_command(nomoat_binary() + " perplexity " + stories() + " -f " + (testing::shared_data_dir() / "tiny" / "ppl.txt").string() +
                            " -c 128 2>/dev/null",
                        &out, false),
            0);
  EXPECT_EQ(out.rfind("PPL = 2.9775 +/- 0.14191", 0), 0u) << out;
}

}  // namespace
}  // namespace nomoat
