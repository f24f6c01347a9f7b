// PartialFileGuard: a signal while a guarded file exists removes it and ends
// the process with that signal; no guard, no handler; handlers set by others
// are left alone. Each case runs in a forked child so the signals end the
// child, not the test.
#include "base/partial_file.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

namespace nomoat {
namespace {

namespace fs = std::filesystem;

fs::path temp_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("nomoat-partial-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// Runs `body` in a child process; returns its wait status.
int in_child(const std::function<void()>& body) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    body();
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

sighandler_t disposition(int sig) {
  struct sigaction current{};
  ::sigaction(sig, nullptr, &current);
  return current.sa_handler;
}

TEST(PartialFile, SignalRemovesTheFileAndEndsTheProcessWithIt) {
  for (const int sig : {SIGINT, SIGTERM, SIGHUP}) {
    SCOPED_TRACE(sig);
    const fs::path dir = temp_dir("signal" + std::to_string(sig));
    const fs::path file = dir / "out.gguf.partial", other = dir / "other.gguf.partial";
    const int status = in_child([&] {
      // The guard leaves alone a signal the process inherited as ignored
      // (nohup ignores SIGHUP; a shell's background jobs, SIGINT): start
      // from the default, whatever launched the tests.
      for (const int s : {SIGINT, SIGTERM, SIGHUP}) ::signal(s, SIG_DFL);
      const PartialFileGuard guard(file.string());
      const PartialFileGuard second(other.string());
      if (!guard.active() || !second.active()) ::_exit(3);
      std::ofstream(file) << "half a model";
      std::ofstream(other) << "another half";
      ::raise(sig);
      ::_exit(4);  // not reached: the signal ends the child
    });
    EXPECT_TRUE(WIFSIGNALED(status)) << status;
    if (WIFSIGNALED(status)) { EXPECT_EQ(WTERMSIG(status), sig); }
    EXPECT_FALSE(fs::exists(file));
    EXPECT_FALSE(fs::exists(other));
    fs::remove_all(dir);
  }
}

TEST(PartialFile, RelativePathsAreResolvedWhenGuarded) {
  const fs::path dir = temp_dir("relative");
  const int status = in_child([&] {
    fs::current_path(dir);
    const PartialFileGuard guard("rel.partial");
    std::ofstream("rel.partial") << "x";
    fs::current_path("/");
    ::raise(SIGTERM);
  });
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << status;
  EXPECT_FALSE(fs::exists(dir / "rel.partial"));
  fs::remove_all(dir);
}

TEST(PartialFile, HandlersLastOnlyWhileAGuardLives) {
  const fs::path dir = temp_dir("scope");
  const fs::path kept = dir / "done.gguf";
  const int status = in_child([&] {
    if (disposition(SIGTERM) != SIG_DFL) ::_exit(3);
    {
      const PartialFileGuard guard((dir / "written.partial").string());
      if (disposition(SIGTERM) == SIG_DFL) ::_exit(4);  // ours while the guard lives
    }
    if (disposition(SIGTERM) != SIG_DFL) ::_exit(5);  // restored after the last guard
    // A file no guard names is not touched by the signal.
    std::ofstream(kept) << "finished";
    ::raise(SIGTERM);
  });
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << "exit " << WEXITSTATUS(status);
  EXPECT_TRUE(fs::exists(kept));
  fs::remove_all(dir);
}

TEST(PartialFile, IgnoredOrHandledSignalsAreLeftAlone) {
  const fs::path dir = temp_dir("others");
  const fs::path file = dir / "out.partial";
  const int status = in_child([&] {
    ::signal(SIGINT, SIG_IGN);  // as under nohup
    {
      const PartialFileGuard guard(file.string());
      std::ofstream(file) << "x";
      if (disposition(SIGINT) != SIG_IGN) ::_exit(3);
      ::raise(SIGINT);  // ignored: the write goes on
    }
    ::_exit(fs::exists(file) ? 0 : 4);
  });
  EXPECT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace nomoat
