// `nomoat quantize` and `nomoat convert` stopped while writing (Ctrl-C, kill):
// the process ends with the signal and leaves neither the output nor its
// model-sized OUT.partial behind.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "support/npm_packages.h"
#include "support/test_data.h"

namespace nomoat {
namespace {

namespace fs = std::filesystem;
using testing::run_command;

// Runs the nomoat binary with `args` (output discarded), sends `sig` as soon
// as `partial` appears, and returns the wait status; `started` says whether
// it appeared (within 60 s).
int interrupt_when_writing(const std::vector<std::string>& args, const fs::path& partial, int sig, bool* started) {
  const std::string binary = testing::nomoat_binary();
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, STDOUT_FILENO);
    ::dup2(null, STDERR_FILENO);
    std::vector<char*> argv = {const_cast<char*>(binary.c_str())};
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }
  for (int i = 0; i < 12000 && !fs::exists(partial); ++i) ::usleep(5000);
  *started = fs::exists(partial);
  ::kill(pid, sig);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

void expect_ended_by(int status, int sig) {
  EXPECT_TRUE(WIFSIGNALED(status)) << "not ended by a signal: exit status " << WEXITSTATUS(status)
                                   << " (the write finished before the signal came?)";
  if (WIFSIGNALED(status)) { EXPECT_EQ(WTERMSIG(status), sig); }
}

TEST(CliInterruptedWrite, QuantizeStoppedByCtrlCLeavesNoPartialFile) {
  const fs::path dir = testing::scratch_dir("interrupted_quantize");
  const std::string in = (dir / "f16.gguf").string(), out = (dir / "q4_k_m.gguf").string();
  std::string log;
  // Big enough that one thread takes a few seconds.
  ASSERT_EQ(run_command(testing::nomoat_binary() + " gen-model -q --n-embd 512 --n-layer 8 --n-ff 1536 --n-vocab 4096 -o " + in, &log), 0)
      << log;
  for (const int sig : {SIGINT, SIGTERM}) {
    SCOPED_TRACE(sig);
    bool started = false;
    const int status = interrupt_when_writing({"quantize", "-t", "1", in, out, "q4_k_m"}, out + ".partial", sig, &started);
    EXPECT_TRUE(started);
    expect_ended_by(status, sig);
    EXPECT_FALSE(fs::exists(out + ".partial"));
    EXPECT_FALSE(fs::exists(out));
  }
}

TEST(CliInterruptedWrite, ConvertStoppedByKillLeavesNoPartialFile) {
  std::string log;
  if (run_command("/usr/bin/python3 -c 'import numpy'", &log) != 0) GTEST_SKIP() << "/usr/bin/python3 with numpy not installed";
  const fs::path dir = testing::scratch_dir("interrupted_convert") / "model";
  const std::string script = (testing::source_dir() / "tests" / "reference" / "hf_model_ref.py").string();
  ASSERT_EQ(run_command("/usr/bin/python3 " + script + " build " + dir.string() +
                            R"( --spec '{"arch": "llama", "n_embd": 512, "n_ff": 1536, "n_head": 8, "n_head_kv": 4, "n_layer": 8}')",
                        &log),
            0)
      << log;
  const std::string out = (dir.parent_path() / "out.gguf").string();
  bool started = false;
  const int status = interrupt_when_writing({"convert", dir.string(), "-o", out, "--type", "q4_k_m", "-t", "1"}, out + ".partial", SIGTERM, &started);
  EXPECT_TRUE(started);
  expect_ended_by(status, SIGTERM);
  EXPECT_FALSE(fs::exists(out + ".partial"));
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
}  // namespace nomoat
