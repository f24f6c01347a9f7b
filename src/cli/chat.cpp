// `nomoat chat`: an interactive terminal chat with a model's own chat
// template; reading lines from a pipe, it answers each line.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>

#include "base/error.h"
#include "cli/commands.h"
#include "cli/model_options.h"
#include "engine/conversation.h"
#include "engine/model_chat_template.h"

namespace nomoat::cli {
namespace {

std::atomic<bool> g_interrupted{false};
// Self-pipe: the handler also writes a byte here, so a Ctrl-C that lands
// just before the reader blocks still wakes it.
int g_wake[2] = {-1, -1};

void on_sigint(int) {
  g_interrupted.store(true);
  const char byte = 1;
  [[maybe_unused]] const ssize_t n = ::write(g_wake[1], &byte, 1);
}

// Forgets Ctrl-C presses so far (those that stopped a reply).
void clear_interrupts() {
  char buf[64];
  while (::read(g_wake[0], buf, sizeof buf) > 0) {
  }
  g_interrupted.store(false);
}

// SIGINT sets a flag and wakes the line reader instead of ending the process.
class InterruptGuard {
 public:
  InterruptGuard() {
    if (::pipe(g_wake) != 0) fail("chat: cannot create a pipe for Ctrl-C handling");
    for (int fd : g_wake) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    struct sigaction sa{};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, &old_);
  }
  ~InterruptGuard() {
    sigaction(SIGINT, &old_, nullptr);
    for (int& fd : g_wake) {
      ::close(fd);
      fd = -1;
    }
  }

 private:
  struct sigaction old_{};
};

enum class ReadStatus { kLine, kInterrupted, kEnd };

// One line from fd 0 without stdio buffering, woken by Ctrl-C.
class LineReader {
 public:
  ReadStatus read(std::string& line) {
    line.clear();
    while (true) {
      const size_t nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return ReadStatus::kLine;
      }
      struct pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {g_wake[0], POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) continue;  // EINTR: look again
      if (fds[1].revents & POLLIN) {
        clear_interrupts();
        buffer_.clear();  // Ctrl-C discards what was typed
        return ReadStatus::kInterrupted;
      }
      char chunk[4096];
      const ssize_t n = ::read(STDIN_FILENO, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        if (buffer_.empty()) return ReadStatus::kEnd;
        line.swap(buffer_);  // a last line without a newline
        return ReadStatus::kLine;
      }
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

 private:
  std::string buffer_;
};

void out(const std::string& s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fflush(stdout);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot open");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Writes the conversation beside `path` and renames it into place, so a
// failed write never leaves a truncated file where a good one was.
void save_conversation(const Conversation& chat, const std::string& path) {
  // Text the user typed may not be valid UTF-8: JSON gets U+FFFD instead.
  const std::string text = chat.to_json().dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  const std::string partial = path + ".partial";
  {
    std::ofstream file(partial, std::ios::binary | std::ios::trunc);
    file << text;
    file.close();
    if (!file) {
      std::remove(partial.c_str());
      fail(path, ": cannot write the conversation");
    }
  }
  if (std::rename(partial.c_str(), path.c_str()) != 0) {
    std::remove(partial.c_str());
    fail(path, ": cannot write the conversation (", std::strerror(errno), ")");
  }
}

constexpr int64_t kDefaultChatContext = 4096;

const char* kHelp =
    "/reset          forget the conversation (the system prompt stays)\n"
    "/system [TEXT]  set the system prompt for the next replies (no TEXT: remove it)\n"
    "/save FILE      write the conversation as JSON ({\"messages\": [...]}, the input of `nomoat template`)\n"
    "/help           this list\n"
    "/exit, /bye     leave (or Ctrl-D); Ctrl-C stops a reply\n";

}  // namespace

void add_chat(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("chat", "Chat with a model in the terminal, using its own chat template");
  struct Options {
    std::string model, system, template_file;
    GenerationFlags flags;
    bool no_repack = false;
    bool ctx_given = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("model", o->model, "GGUF model file (or Hugging Face folder)")->required();
  cmd->add_option("--system", o->system, "System prompt");
  cmd->add_option("--template", o->template_file, "Chat template file (Jinja) instead of the model's");
  add_generation_options(cmd, o->flags, -1);
  cmd->get_option("--ctx-size")->description("Context size (default: the model's, at most 4096; 0: the model's whole context)");
  cmd->add_flag("--no-repack", o->no_repack, "Use the weights as mapped from the file (no row-interleaved copy for the SIMD kernels)");
  cmd->callback([o, cmd, &action] {
    action = [o, cmd] {
      o->ctx_given = cmd->count("--ctx-size") > 0;
      finish_generation_options(o->flags);
      GenerateOptions gen = o->flags.gen;
      const bool interactive = ::isatty(STDIN_FILENO) != 0;
      const LoadedModel l = load_model(o->model, o->no_repack, gen.threads);
      // A chat keeps its cache for the whole session: like llama.cpp and
      // ollama, take a modest window unless -c asks for more (or 0 for all).
      if (!o->ctx_given) gen.n_ctx = std::min<int64_t>(l.model->spec().n_ctx_train, kDefaultChatContext);
      const Vocab& vocab = l.tokenizer->vocab();
      std::optional<std::string> source;
      if (!o->template_file.empty()) source = read_file(o->template_file);
      const ModelChatTemplate tmpl = model_chat_template(vocab, o->model, source, o->template_file);
      auto render = [&tmpl](const nlohmann::ordered_json& messages, bool add_generation_prompt) {
        ChatTemplateInputs in = tmpl.inputs();
        in.messages = messages;
        in.add_generation_prompt = add_generation_prompt;
        return tmpl.chat_template.render(in);
      };
      Session session(*l.model, *l.tokenizer, gen);
      Conversation chat(session, *l.tokenizer, render);
      if (!o->system.empty()) chat.set_system(o->system);
      if (interactive) {
        std::fprintf(stderr, "nomoat chat: %s (context %lld tokens). /help lists commands; Ctrl-C stops a reply, Ctrl-D exits.\n",
                     o->model.c_str(), static_cast<long long>(session.n_ctx()));
      }
      // Ctrl-C handling only on a terminal: a piped chat ends on SIGINT like any filter.
      std::optional<InterruptGuard> guard;
      if (interactive) guard.emplace();
      // Command feedback: on the terminal beside the replies; with piped
      // input on stderr, so stdout holds nothing but the replies.
      auto note = [interactive](const std::string& text) {
        if (interactive) {
          out(text);
        } else {
          std::fputs(text.c_str(), stderr);
        }
      };
      LineReader reader;
      std::string line;
      while (true) {
        if (interactive) out("> ");
        const ReadStatus status = reader.read(line);
        if (status == ReadStatus::kEnd) break;
        if (status == ReadStatus::kInterrupted) {
          out("\n(Ctrl-D or /exit leaves)\n");
          continue;
        }
        if (line.empty()) continue;
        if (line[0] == '/') {
          const size_t space = line.find(' ');
          const std::string command = line.substr(0, space);
          const std::string arg = space == std::string::npos ? "" : line.substr(space + 1);
          if (command == "/exit" || command == "/bye") break;
          if (command == "/help") {
            note(kHelp);
          } else if (command == "/reset") {
            chat.reset();
            note("(conversation cleared)\n");
          } else if (command == "/system") {
            chat.set_system(arg);
            note(arg.empty() ? "(system prompt removed)\n" : "(system prompt set)\n");
          } else if (command == "/save") {
            if (arg.empty()) {
              note("(/save needs a file name)\n");
              continue;
            }
            try {
              save_conversation(chat, arg);
              note("(saved " + std::to_string(chat.messages().size()) + " messages to " + arg + ")\n");
            } catch (const Error& e) {
              if (!interactive) throw;
              note(std::string("(") + e.what() + ")\n");
            }
          } else {
            note("(unknown command " + command + "; /help lists them)\n");
          }
          continue;
        }
        try {
          const Conversation::Turn turn = chat.reply(line, gen, [](const std::string& text) { out(text); }, &g_interrupted);
          if (turn.result.reason == StopReason::kCancelled) out(" [stopped]");
          clear_interrupts();  // the press that stopped the reply is used up
          out("\n");
          if (turn.dropped_turns > 0) {
            std::fprintf(stderr, "(context full: the %d oldest exchange%s dropped)\n", turn.dropped_turns,
                         turn.dropped_turns == 1 ? " was" : "s were");
          }
          if (turn.result.reason == StopReason::kContextFull) {
            std::fprintf(stderr, "(the reply filled the context; /reset to start over)\n");
          }
        } catch (const Error& e) {
          if (!interactive) throw;
          std::fprintf(stderr, "nomoat: error: %s\n", e.what());
        }
      }
      if (interactive) out("\n");
      return 0;
    };
  });
}

}  // namespace nomoat::cli
