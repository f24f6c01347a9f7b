#include "support/test_data.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <vector>

#include "base/error.h"

namespace nomoat::testing {
namespace fs = std::filesystem;

fs::path shared_data_dir() {
  if (const char* env = std::getenv("NOMOAT_SHARED_DATA"); env != nullptr && *env != '\0') {
    return fs::is_directory(env) ? fs::path(env) : fs::path();
  }
  const fs::path dir = fs::path(NOMOAT_SOURCE_DIR) / ".." / "shared" / "data";
  return fs::is_directory(dir) ? fs::canonical(dir) : fs::path();
}

namespace {
struct ScratchRoot {
  fs::path root;
  ScratchRoot() {
    root = fs::temp_directory_path() / ("nomoat-test-" + std::to_string(::getpid()));
    fs::create_directories(root);
  }
  ~ScratchRoot() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
};
}  // namespace

fs::path scratch_dir(const std::string& name) {
  static ScratchRoot scratch;
  fs::path dir = scratch.root / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string nomoat_binary() { return NOMOAT_BINARY; }

int run_command(const std::string& cmd, std::string* output, bool merge_stderr) {
  const std::string full = merge_stderr ? cmd + " 2>&1" : cmd;
  FILE* pipe = ::popen(full.c_str(), "r");
  if (pipe == nullptr) return -1;
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  const int status = ::pclose(pipe);
  if (output != nullptr) *output = std::move(out);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool have_numpy() {
  static const bool found = [] {
    std::string out;
    return fs::exists("/usr/bin/python3") && run_command("/usr/bin/python3 -c 'import numpy'", &out) == 0;
  }();
  return found;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

fs::path build_dir() { return fs::path(NOMOAT_BINARY).parent_path(); }
fs::path source_dir() { return fs::path(NOMOAT_SOURCE_DIR); }

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

uint64_t fnv1a(const std::string& bytes, uint64_t h) {
  for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
  return h;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string last_lines(const std::string& text, size_t n) {
  size_t pos = text.size();
  for (size_t i = 0; i < n && pos > 0; ++i) pos = text.rfind('\n', pos - 1);
  return pos == std::string::npos || pos == 0 ? text : text.substr(pos + 1);
}

FileLock::FileLock(const fs::path& path) : fd_(::open(path.c_str(), O_CREAT | O_RDWR, 0644)) {
  if (fd_ >= 0) ::flock(fd_, LOCK_EX);
}
FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace nomoat::testing
