// Locating test inputs: the shared data folder from outside the project and
// a scratch directory for files the tests write.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

namespace nomoat::testing {

// ../shared/data beside the repository (or $NOMOAT_SHARED_DATA); empty if absent.
std::filesystem::path shared_data_dir();

// A fresh empty directory for this test, removed at process exit.
std::filesystem::path scratch_dir(const std::string& name);

// Path of the built `nomoat` binary.
std::string nomoat_binary();

// Runs a shell command, returns its exit status and captures stdout (+stderr if asked).
int run_command(const std::string& cmd, std::string* output, bool merge_stderr = true);

// Whether Debian's /usr/bin/python3 with NumPy (the Python references) is here.
bool have_numpy();

// The message of the nomoat::Error `f` throws, or "(no error)".
std::string error_of(const std::function<void()>& f);

// Small file and shell helpers the tests share.
std::filesystem::path build_dir();   // where the nomoat binary is
std::filesystem::path source_dir();  // the repository root
std::string slurp(const std::filesystem::path& p);
void write_file(const std::filesystem::path& p, const std::string& text);
uint64_t fnv1a(const std::string& bytes, uint64_t h = 1469598103934665603ull);
std::string shell_quote(const std::string& s);
std::string last_lines(const std::string& text, size_t n);

// Serializes setup work across test processes (ctest runs each test alone).
class FileLock {
 public:
  explicit FileLock(const std::filesystem::path& path);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_;
};

}  // namespace nomoat::testing

// Skips the current test with a clear message when ../shared/data is absent.
#define NOMOAT_REQUIRE_SHARED_DATA()                                                       \
  do {                                                                                     \
    if (::nomoat::testing::shared_data_dir().empty()) {                                    \
      GTEST_SKIP() << "../shared/data not found (a user's clone has no shared test data)"; \
    }                                                                                      \
  } while (0)
