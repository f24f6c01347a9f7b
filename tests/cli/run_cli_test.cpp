// `nomoat run` and `nomoat perplexity` as a user runs them.
#include <gtest/gtest.h>

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

TEST(CliRun, Errors) {
  NOMOAT_REQUIRE_SHARED_DATA();
  std::string out;
  EXPECT_EQ(run_command(nomoat_binary() + " run " + stories() + " -p 'Once' -c 2", &out), 1);
  EXPECT_NE(out.find("does not fit the context of 2"), std::string::npos) << out;
  EXPECT_EQ(run_command(nomoat_binary() + " run " + stories() + " -p x --cache-type q4_0", &out), 1);
  EXPECT_NE(out.find("--cache-type"), std::string::npos) << out;
}

TEST(CliPerplexity, StoriesText) {
  NOMOAT_REQUIRE_SHARED_DATA();
  std::string out;
  ASSERT_EQ(run_command(nomoat_binary() + " perplexity " + stories() + " -f " + (testing::shared_data_dir() / "tiny" / "ppl.txt").string() +
                            " -c 128 2>/dev/null",
                        &out, false),
            0);
  EXPECT_EQ(out.rfind("PPL = 2.97", 0), 0u) << out;
}

}  // namespace
}  // namespace nomoat
