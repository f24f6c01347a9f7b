#include "model/hf_cache.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "base/error.h"
#include "model/hf_convert.h"

namespace nomoat {
namespace {

namespace fs = std::filesystem;

// Bump when conversion output changes, so older cache files are not reused.
constexpr const char* kConverterVersion = "nomoat-hf-convert-2";

uint64_t fnv1a(const std::string& bytes, uint64_t h = 0xcbf29ce484222325ull) {
  for (unsigned char c : bytes) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

std::string hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string canonical(const std::string& dir) {
  std::error_code ec;
  const fs::path p = fs::canonical(dir, ec);
  if (ec) fail(dir, ": cannot resolve the folder's path: ", ec.message());
  return p.string();
}

// Holds an exclusive lock on a file for its lifetime.
class Lock {
 public:
  explicit Lock(const std::string& path) : fd_(::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644)) {
    if (fd_ < 0) fail(path, ": cannot create the lock file: ", std::strerror(errno));
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno != EINTR) fail(path, ": cannot lock: ", std::strerror(errno));
    }
  }
  ~Lock() { ::close(fd_); }
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

 private:
  int fd_;
};

}  // namespace

std::string hf_cache_dir() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  // The XDG rules: a relative XDG_CACHE_HOME is ignored.
  if (xdg != nullptr && xdg[0] == '/') return (fs::path(xdg) / "nomoat" / "hf").string();
  const char* home = std::getenv("HOME");
  if (home == nullptr || home[0] == '\0') {
    fail("no folder for converted Hugging Face models: set XDG_CACHE_HOME or HOME (or convert with `nomoat convert`)");
  }
  return (fs::path(home) / ".cache" / "nomoat" / "hf").string();
}

std::string hf_cache_path(const std::string& dir) {
  const std::string where = canonical(dir);
  uint64_t state = fnv1a(kConverterVersion);
  for (const std::string& file : hf_input_files(where)) {
    std::error_code ec;
    const uint64_t size = fs::file_size(file, ec);
    if (ec) fail(file, ": cannot read its size: ", ec.message());
    const auto mtime = fs::last_write_time(file, ec);
    if (ec) fail(file, ": cannot read its modification time: ", ec.message());
    state = fnv1a(fs::path(file).filename().string() + '\0' + std::to_string(size) + '\0' +
                      std::to_string(mtime.time_since_epoch().count()) + '\0',
                  state);
  }
  return (fs::path(hf_cache_dir()) / (hex(fnv1a(where)) + "-" + hex(state) + ".gguf")).string();
}

std::string hf_folder_gguf(const std::string& dir, const std::function<void(const std::string&)>& note) {
  const std::string path = hf_cache_path(dir);
  if (fs::exists(path)) return path;
  const fs::path cache = fs::path(path).parent_path();
  std::error_code ec;
  fs::create_directories(cache, ec);
  if (ec) fail(cache.string(), ": cannot create the cache folder: ", ec.message());
  const std::string folder_key = fs::path(path).filename().string().substr(0, 16);
  const Lock lock((cache / (folder_key + ".lock")).string());
  if (fs::exists(path)) return path;  // another process converted it meanwhile
  // Under the lock no other process converts this folder, so every other
  // file of its prefix is stale: earlier conversions, and partial files of
  // conversions that were killed (SIGKILL, power loss) before cleaning up.
  for (const auto& entry : fs::directory_iterator(cache, ec)) {
    const std::string name = entry.path().filename().string();
    const bool ours = name.rfind(folder_key + "-", 0) == 0 && (name.ends_with(".gguf") || name.ends_with(".gguf.partial"));
    if (ours && entry.path().string() != path) fs::remove(entry.path(), ec);
  }
  if (note) note("converting Hugging Face folder " + dir + " once to " + path);
  HfConvertOptions options;
  int last_tenth = -1;
  options.progress = [&](size_t done, size_t total, uint64_t bytes, uint64_t total_bytes) {
    const int tenth = total_bytes == 0 ? 10 : static_cast<int>(10 * bytes / total_bytes);
    if (!note || tenth == last_tenth) return;
    last_tenth = tenth;
    const uint64_t percent = total_bytes == 0 ? 100 : 100 * bytes / total_bytes;
    note("converted " + std::to_string(done) + "/" + std::to_string(total) + " tensors (" + std::to_string(percent) + "%)");
  };
  options.note = note;
  convert_hf_folder(dir, path, options);
  return path;
}

}  // namespace nomoat
