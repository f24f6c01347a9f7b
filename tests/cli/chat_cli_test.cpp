// `nomoat chat` driven through a pseudo-terminal, as a person would: a
// two-turn conversation, /save, /reset, Ctrl-C in the middle of a reply and
// Ctrl-D to leave; and the same conversation piped in, line by line.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/npm_packages.h"
#include "support/test_data.h"

namespace nomoat {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// A child process on the slave side of a pty; the test holds the master.
class PtyProcess {
 public:
  explicit PtyProcess(const std::vector<std::string>& argv) {
    struct winsize ws{};
    ws.ws_row = 40;
    ws.ws_col = 200;
    pid_ = ::forkpty(&master_, nullptr, nullptr, &ws);
    if (pid_ == 0) {
      std::vector<char*> args;
      for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      std::perror("execv");
      ::_exit(127);
    }
  }
  ~PtyProcess() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (master_ >= 0) ::close(master_);
  }
  bool started() const { return pid_ > 0 && master_ >= 0; }

  void send(const std::string& keys) { ASSERT_EQ(::write(master_, keys.data(), keys.size()), static_cast<ssize_t>(keys.size())); }

  // Reads until the output from offset `from` on contains `marker`; false
  // on timeout or when the child closed the terminal.
  bool wait_for(const std::string& marker, size_t from, double seconds = 60) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
    while (output_.find(marker, from) == std::string::npos) {
      if (!read_some(deadline)) return false;
    }
    return true;
  }
  // Waits for `marker` (from `from` on), then for the prompt printed after
  // it: the chat is idle again, so what is read next belongs to the next input.
  bool wait_then_prompt(const std::string& marker, size_t from, double seconds = 60) {
    if (!wait_for(marker, from, seconds)) return false;
    return wait_for("\n> ", output_.find(marker, from) + marker.size(), seconds);
  }
  // Reads until more than `n` bytes have arrived in all.
  bool wait_bytes(size_t n, double seconds = 60) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
    while (output_.size() <= n) {
      if (!read_some(deadline)) return false;
    }
    return true;
  }
  // Waits for the process to end; its exit status, or -1 on timeout.
  int wait_exit(double seconds = 30) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
    while (Clock::now() < deadline) {
      int status = 0;
      char buf[4096];
      // Drain without blocking, so the child is never stuck writing.
      ::fcntl(master_, F_SETFL, ::fcntl(master_, F_GETFL) | O_NONBLOCK);
      for (ssize_t n; (n = ::read(master_, buf, sizeof buf)) > 0;) output_.append(buf, static_cast<size_t>(n));
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      ::usleep(20000);
    }
    return -1;
  }
  const std::string& output() const { return output_; }
  size_t size() const { return output_.size(); }

 private:
  bool read_some(Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    struct pollfd p{master_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) return true;  // timed out or interrupted: the caller re-checks
    char buf[4096];
    const ssize_t n = ::read(master_, buf, sizeof buf);
    if (n <= 0) return false;  // EIO: the child closed the terminal
    output_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int master_ = -1;
  pid_t pid_ = -1;
  bool exited_ = false;
  std::string output_;
};

// A random-weight model carrying Phi-3's real vocabulary and chat template.
std::string chat_model(const fs::path& dir) {
  const fs::path vocab = testing::shared_data_dir() / "vocab" / "ggml-vocab-phi-3.gguf";
  const std::string path = (dir / "chat.gguf").string();
  std::string output;
  const int status = testing::run_command(testing::nomoat_binary() + " gen-model -o " + path +
                                              " --arch llama --n-embd 128 --n-layer 2 --n-head 4 --n-head-kv 2 --vocab-from " +
                                              vocab.string(), &output);
  EXPECT_EQ(status, 0) << output;
  return path;
}

Json load_json(const fs::path& p) {
  std::ifstream in(p);
  return Json::parse(in);
}

TEST(ChatCli, TwoTurnsSaveResetAndCtrlDInATerminal) {
  NOMOAT_REQUIRE_SHARED_DATA();
  const fs::path dir = testing::scratch_dir("chat_cli_turns");
  const std::string model = chat_model(dir);
  PtyProcess chat({testing::nomoat_binary(), "chat", model, "-n", "12", "--temp", "0", "-t", "1", "--system", "Be brief."});
  ASSERT_TRUE(chat.started());
  ASSERT_TRUE(chat.wait_for("> ", 0)) << chat.output();

  size_t mark = chat.size();
  chat.send("Hello there\n");
  ASSERT_TRUE(chat.wait_for("\n> ", mark)) << chat.output();
  mark = chat.size();
  chat.send("/save " + (dir / "one.json").string() + "\n");
  ASSERT_TRUE(chat.wait_then_prompt("(saved 3 messages", mark)) << chat.output();
  const Json one = load_json(dir / "one.json");
  ASSERT_EQ(one["messages"].size(), 3u);
  EXPECT_EQ(one["messages"][0]["content"], "Be brief.");
  EXPECT_EQ(one["messages"][1]["content"], "Hello there");
  EXPECT_EQ(one["messages"][2]["role"], "assistant");

  mark = chat.size();
  chat.send("And a second question?\n");
  ASSERT_TRUE(chat.wait_for("\n> ", mark)) << chat.output();
  mark = chat.size();
  chat.send("/save " + (dir / "two.json").string() + "\n");
  ASSERT_TRUE(chat.wait_then_prompt("(saved 5 messages", mark)) << chat.output();
  const Json two = load_json(dir / "two.json");
  EXPECT_EQ(two["messages"][3]["content"], "And a second question?");
  // The reply was streamed to the terminal as the history has it.
  const std::string first_reply = one["messages"][2]["content"];
  EXPECT_NE(chat.output().find(first_reply), std::string::npos) << first_reply;

  mark = chat.size();
  chat.send("/reset\n");
  ASSERT_TRUE(chat.wait_then_prompt("(conversation cleared)", mark)) << chat.output();
  mark = chat.size();
  chat.send("/save " + (dir / "reset.json").string() + "\n");
  ASSERT_TRUE(chat.wait_then_prompt("(saved 1 messages", mark)) << chat.output();
  EXPECT_EQ(load_json(dir / "reset.json")["messages"][0]["role"], "system");

  // After /reset a question starts a new conversation: the system prompt,
  // the question, its reply — nothing of the old exchanges — and the same
  // greedy reply as the first time, though the prompt now comes from the cache.
  mark = chat.size();
  chat.send("Hello there\n");
  ASSERT_TRUE(chat.wait_for("\n> ", mark)) << chat.output();
  mark = chat.size();
  chat.send("/save " + (dir / "fresh.json").string() + "\n");
  ASSERT_TRUE(chat.wait_then_prompt("(saved 3 messages", mark)) << chat.output();
  const Json fresh = load_json(dir / "fresh.json");
  EXPECT_EQ(fresh["messages"][1]["content"], "Hello there");
  EXPECT_EQ(fresh["messages"][2]["content"], first_reply);

  chat.send("\x04");  // Ctrl-D at an empty prompt
  EXPECT_EQ(chat.wait_exit(), 0) << chat.output();

  // The same lines piped in give the same replies.
  std::string piped;
  const std::string command = "printf 'Hello there\\nAnd a second question?\\n' | " + testing::nomoat_binary() + " chat " +
                              model + " -n 12 --temp 0 -t 1 --system 'Be brief.' 2>/dev/null";
  ASSERT_EQ(testing::run_command(command, &piped, false), 0) << piped;
  EXPECT_EQ(piped, first_reply + "\n" + two["messages"][4]["content"].get<std::string>() + "\n");
}

TEST(ChatCli, PipedSaveKeepsAnyTextAndFailsLoudly) {
  NOMOAT_REQUIRE_SHARED_DATA();
  const fs::path dir = testing::scratch_dir("chat_cli_save");
  const std::string model = chat_model(dir);
  const std::string chat = testing::nomoat_binary() + " chat " + model + " -n 4 --temp 0 -t 1";
  // Text that is not valid UTF-8 is saved (as U+FFFD), not a crash.
  std::string output;
  ASSERT_EQ(testing::run_command("printf 'caf\\351\\n/save " + (dir / "bytes.json").string() + "\\n' | " + chat, &output), 0)
      << output;
  const Json saved = load_json(dir / "bytes.json");
  EXPECT_EQ(saved["messages"][0]["content"], "caf\xEF\xBF\xBD");
  // A /save that cannot write ends a piped chat with an error naming the file.
  const std::string bad = (dir / "missing" / "x.json").string();
  EXPECT_EQ(testing::run_command("printf 'Hi\\n/save " + bad + "\\n' | " + chat, &output), 1) << output;
  EXPECT_NE(output.find(bad + ": cannot write the conversation"), std::string::npos) << output;
  EXPECT_FALSE(fs::exists(bad + ".partial"));
}

TEST(ChatCli, CtrlCStopsTheReplyAndTheChatGoesOn) {
  NOMOAT_REQUIRE_SHARED_DATA();
  const fs::path dir = testing::scratch_dir("chat_cli_interrupt");
  const std::string model = chat_model(dir);
  // No length limit: the reply runs until the 2048-token context is full, far
  // longer than the test waits before pressing Ctrl-C.
  PtyProcess chat({testing::nomoat_binary(), "chat", model, "-n", "-1", "--temp", "1", "-t", "1"});
  ASSERT_TRUE(chat.started());
  ASSERT_TRUE(chat.wait_for("> ", 0)) << chat.output();
  size_t mark = chat.size();
  chat.send("Tell me everything\n");
  ASSERT_TRUE(chat.wait_for("everything\r\n", mark)) << chat.output();  // the terminal's echo
  mark = chat.size();
  ASSERT_TRUE(chat.wait_bytes(mark + 8)) << chat.output();  // the reply is streaming
  const auto pressed = Clock::now();
  chat.send("\x03");  // Ctrl-C
  ASSERT_TRUE(chat.wait_for("[stopped]", mark, 10)) << chat.output();
  ASSERT_TRUE(chat.wait_for("\n> ", mark, 10)) << chat.output();
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - pressed).count(), 5.0);

  // Still chatting: the stopped reply is in the history, and a new turn works.
  mark = chat.size();
  chat.send("/save " + (dir / "after.json").string() + "\n");
  ASSERT_TRUE(chat.wait_then_prompt("(saved 2 messages", mark)) << chat.output();
  EXPECT_FALSE(load_json(dir / "after.json")["messages"][1]["content"].get<std::string>().empty());
  // Ctrl-C at the prompt does not leave either.
  mark = chat.size();
  chat.send("\x03");
  ASSERT_TRUE(chat.wait_for("Ctrl-D", mark, 10)) << chat.output();
  chat.send("/exit\n");
  EXPECT_EQ(chat.wait_exit(), 0) << chat.output();
}

}  // namespace
}  // namespace nomoat
