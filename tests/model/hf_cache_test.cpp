// Hugging Face folders where a GGUF file is expected: converted once into
// the cache, reused while unchanged, converted again (and the stale copy
// removed) when a file changes, converted once under concurrent loads.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <thread>

#include "base/error.h"
#include "model/hf_cache.h"
#include "model/model.h"
#include "support/npm_packages.h"
#include "support/test_data.h"

namespace nomoat {
namespace {

namespace fs = std::filesystem;
using testing::have_numpy;

// Points XDG_CACHE_HOME at a scratch folder for the test's lifetime.
class ScratchCache {
 public:
  explicit ScratchCache(const fs::path& dir) {
    if (const char* old = std::getenv("XDG_CACHE_HOME")) old_ = old, had_ = true;
    ::setenv("XDG_CACHE_HOME", dir.c_str(), 1);
  }
  ~ScratchCache() {
    if (had_) ::setenv("XDG_CACHE_HOME", old_.c_str(), 1);
    else ::unsetenv("XDG_CACHE_HOME");
  }

 private:
  std::string old_;
  bool had_ = false;
};

size_t cached_files(const fs::path& cache) {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(cache)) n += e.path().extension() == ".gguf";
  return n;
}

TEST(HfCache, CachePlaceFollowsXdgThenHome) {
  const fs::path root = testing::scratch_dir("hf_cache_dir");
  {
    ScratchCache cache(root);
    EXPECT_EQ(hf_cache_dir(), (root / "nomoat" / "hf").string());
  }
  ScratchCache relative("relative/ignored");  // the XDG rules ignore relative paths
  const char* home = std::getenv("HOME");
  if (home != nullptr) {
    EXPECT_EQ(hf_cache_dir(), (fs::path(home) / ".cache" / "nomoat" / "hf").string());
  }
}

TEST(HfCache, ConvertsOnceReusesAndRefreshes) {
  if (!have_numpy()) GTEST_SKIP() << "/usr/bin/python3 with numpy not installed";
  const fs::path root = testing::scratch_dir("hf_cache");
  const fs::path dir = root / "model";
  std::string log;
  ASSERT_EQ(testing::run_command("/usr/bin/python3 " + (testing::source_dir() / "tests/reference/hf_model_ref.py").string() + " build " +
                                     dir.string() + " --spec '{\"arch\": \"qwen3\"}'",
                                 &log),
            0)
      << log;
  ScratchCache scratch(root / "cache");
  const fs::path cache = root / "cache" / "nomoat" / "hf";
  std::vector<std::string> notes;
  std::mutex mu;
  LoadOptions options;
  options.note = [&](const std::string& line) {
    std::lock_guard<std::mutex> hold(mu);
    notes.push_back(line);
  };
  auto conversions = [&] {
    return std::count_if(notes.begin(), notes.end(), [](const std::string& l) { return l.rfind("converting Hugging Face folder", 0) == 0; });
  };

  // Two loads at once: one conversion, both get the model.
  std::unique_ptr<Model> a, b;
  std::thread t1([&] { a = Model::load(dir.string(), options); });
  std::thread t2([&] { b = Model::load(dir.string(), options); });
  t1.join();
  t2.join();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->spec().arch, "qwen3");
  EXPECT_EQ(conversions(), 1);
  EXPECT_NE(notes.back().find("tensors (100%)"), std::string::npos) << notes.back();
  EXPECT_EQ(a->file().path(), hf_cache_path(dir.string()));
  EXPECT_EQ(cached_files(cache), 1u);

  // Unchanged: reused. A relative spelling of the same folder finds the same file.
  Model::load(dir.string(), options);
  EXPECT_EQ(conversions(), 1);
  const fs::path old_cwd = fs::current_path();
  fs::current_path(root);
  EXPECT_EQ(hf_cache_path("model"), a->file().path());
  fs::current_path(old_cwd);

  // A changed input file: converted again, the stale copy removed.
  const std::string before = hf_cache_path(dir.string());
  fs::last_write_time(dir / "config.json", fs::last_write_time(dir / "config.json") + std::chrono::hours(1));
  EXPECT_NE(hf_cache_path(dir.string()), before);
  Model::load(dir.string(), options);
  EXPECT_EQ(conversions(), 2);
  EXPECT_EQ(cached_files(cache), 1u);
  EXPECT_FALSE(fs::exists(before));
}

// A conversion killed with SIGKILL (no handler runs) leaves <A>-<B>.gguf.partial:
// the next conversion of that folder removes it, with older copies, and
// leaves other folders' files alone.
TEST(HfCache, StalePartialAndOlderCopiesAreRemovedBeforeConverting) {
  if (!have_numpy()) GTEST_SKIP() << "/usr/bin/python3 with numpy not installed";
  const fs::path root = testing::scratch_dir("hf_cache_stale");
  const fs::path dir = root / "model";
  std::string log;
  ASSERT_EQ(testing::run_command("/usr/bin/python3 " + (testing::source_dir() / "tests/reference/hf_model_ref.py").string() + " build " +
                                     dir.string() + " --spec '{\"arch\": \"llama\"}'",
                                 &log),
            0)
      << log;
  ScratchCache scratch(root / "cache");
  const fs::path cache = root / "cache" / "nomoat" / "hf";
  fs::create_directories(cache);
  const std::string path = hf_cache_path(dir.string());
  const std::string prefix = fs::path(path).filename().string().substr(0, 16);
  const fs::path killed = cache / (prefix + "-00000000000000aa.gguf.partial");
  const fs::path killed_now = fs::path(path + ".partial");
  const fs::path older = cache / (prefix + "-00000000000000bb.gguf");
  const fs::path elsewhere = cache / "ffffffffffffffff-00000000000000cc.gguf.partial";  // another folder's, maybe in progress
  for (const fs::path& p : {killed, killed_now, older, elsewhere}) testing::write_file(p, "stale");
  const auto model = Model::load(dir.string());
  EXPECT_EQ(model->file().path(), path);
  EXPECT_FALSE(fs::exists(killed));
  EXPECT_FALSE(fs::exists(killed_now));
  EXPECT_FALSE(fs::exists(older));
  EXPECT_TRUE(fs::exists(elsewhere));
}

TEST(HfCache, FolderWithoutConfigIsRefused) {
  const fs::path dir = testing::scratch_dir("hf_cache_not_a_model");
  try {
    Model::load(dir.string());
    FAIL() << "loaded a folder without config.json";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(dir.string() + ": a folder without config.json"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace nomoat
