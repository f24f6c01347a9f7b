// `nomoat tokenize` / `nomoat detokenize` as a user runs them.
#include <gtest/gtest.h>

#include <fstream>

#include "support/test_data.h"

namespace nomoat {
namespace {

using testing::nomoat_binary;
using testing::run_command;

std::string spm_vocab() { return (testing::shared_data_dir() / "vocab" / "ggml-vocab-llama-spm.gguf").string(); }

TEST(CliTokenize, IdsAndPieces) {
  NOMOAT_REQUIRE_SHARED_DATA();
  std::string out;
  ASSERT_EQ(run_command(nomoat_binary() + " tokenize " + spm_vocab() + " 'Hello world' --ids", &out), 0) << out;
  EXPECT_EQ(out, "1 15043 3186\n");
  ASSERT_EQ(run_command(nomoat_binary() + " tokenize " + spm_vocab() + " 'Hello world' --ids --no-bos", &out), 0);
  EXPECT_EQ(out, "15043 3186\n");
  ASSERT_EQ(run_command(nomoat_binary() + " tokenize " + spm_vocab() + " \"$(printf 'a\\tb</s>')\"", &out), 0) << out;
  EXPECT_NE(out.find("1\t<s>\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\t\\t\n"), std::string::npos) << out;  // the tab piece, escaped
  EXPECT_NE(out.find("2\t</s>\n"), std::string::npos) << out;
  ASSERT_EQ(run_command(nomoat_binary() + " tokenize " + spm_vocab() + " '</s>' --ids --no-special --no-bos", &out), 0);
  EXPECT_EQ(out.find(" 2 "), std::string::npos) << out;
  const auto dir = testing::scratch_dir("cli_tokenize");
  std::ofstream(dir / "t.txt") << "Hello world";
  ASSERT_EQ(run_command(nomoat_binary() + " tokenize " + spm_vocab() + " -f " + (dir / "t.txt").string() + " --ids", &out), 0);
  EXPECT_EQ(out, "1 15043 3186\n");
  ASSERT_EQ(run_command("echo -n 'Hello world' | " + nomoat_binary() + " tokenize " + spm_vocab() + " -f - --ids", &out), 0);
  EXPECT_EQ(out, "1 15043 3186\n");
}

TEST(CliTokenize, Detokenize) {
  NOMOAT_REQUIRE_SHARED_DATA();
  std::string out;
  ASSERT_EQ(run_command(nomoat_binary() + " detokenize " + spm_vocab() + " 1 15043 3186", &out), 0) << out;
  EXPECT_EQ(out, "Hello world\n");
  ASSERT_EQ(run_command(nomoat_binary() + " detokenize " + spm_vocab() + " 1,15043,3186,2 --special", &out), 0) << out;
  EXPECT_EQ(out, "<s> Hello world</s>\n");  // as other engines print it: the space stays after a kept BOS
  EXPECT_EQ(run_command(nomoat_binary() + " detokenize " + spm_vocab() + " 99999", &out), 1);
  EXPECT_EQ(out, "nomoat: error: '99999' is not a token id of this vocabulary (0 to 31999)\n");
  EXPECT_EQ(run_command(nomoat_binary() + " tokenize /nonexistent.gguf hi", &out), 1);
  EXPECT_EQ(out, "nomoat: error: /nonexistent.gguf: cannot open: No such file or directory\n");
}

}  // namespace
}  // namespace nomoat
