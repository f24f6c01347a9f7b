#include "base/partial_file.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>

namespace nomoat {
namespace {

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};
constexpr int kNumSignals = sizeof(kSignals) / sizeof(kSignals[0]);

// A registered path. The buffer is static storage, so the handler never
// reads freed memory; `used` is set after the path is written and cleared
// before it may be rewritten.
struct Slot {
  std::atomic<bool> used{false};
  char path[PartialFileGuard::kMaxPath];
};
Slot g_slots[PartialFileGuard::kMaxGuards];

std::mutex g_mutex;  // registration and handler installation (never taken in the handler)
int g_active = 0;
bool g_installed[kNumSignals] = {};
struct sigaction g_previous[kNumSignals];

extern "C" void remove_partial_files_and_reraise(int sig) {
  for (Slot& s : g_slots) {
    if (s.used.load(std::memory_order_acquire)) ::unlink(s.path);
  }
  struct sigaction dfl{};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  ::sigaction(sig, &dfl, nullptr);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  ::raise(sig);  // the default action: the process ends here
}

void install_handlers() {
  for (int i = 0; i < kNumSignals; ++i) {
    struct sigaction current{};
    g_installed[i] = false;
    if (::sigaction(kSignals[i], nullptr, &current) != 0) continue;
    if ((current.sa_flags & SA_SIGINFO) != 0 || current.sa_handler != SIG_DFL) continue;  // someone else's
    struct sigaction ours{};
    ours.sa_handler = remove_partial_files_and_reraise;
    sigemptyset(&ours.sa_mask);
    for (int s : kSignals) sigaddset(&ours.sa_mask, s);  // one cleanup at a time
    if (::sigaction(kSignals[i], &ours, &g_previous[i]) == 0) g_installed[i] = true;
  }
}

void restore_handlers() {
  for (int i = 0; i < kNumSignals; ++i) {
    if (!g_installed[i]) continue;
    struct sigaction current{};
    // Only if still ours: a handler set since then stays.
    if (::sigaction(kSignals[i], nullptr, &current) == 0 && (current.sa_flags & SA_SIGINFO) == 0 &&
        current.sa_handler == remove_partial_files_and_reraise) {
      ::sigaction(kSignals[i], &g_previous[i], nullptr);
    }
    g_installed[i] = false;
  }
}

}  // namespace

PartialFileGuard::PartialFileGuard(const std::string& path) {
  std::error_code ec;
  const std::string absolute = std::filesystem::absolute(path, ec).string();
  if (ec || absolute.size() >= kMaxPath) return;
  std::lock_guard<std::mutex> lock(g_mutex);
  for (int i = 0; i < kMaxGuards; ++i) {
    Slot& s = g_slots[i];
    if (s.used.load(std::memory_order_relaxed)) continue;
    std::memcpy(s.path, absolute.c_str(), absolute.size() + 1);
    s.used.store(true, std::memory_order_release);
    slot_ = i;
    if (g_active++ == 0) install_handlers();
    return;
  }
}

PartialFileGuard::~PartialFileGuard() {
  if (slot_ < 0) return;
  std::lock_guard<std::mutex> lock(g_mutex);
  g_slots[slot_].used.store(false, std::memory_order_release);
  if (--g_active == 0) restore_handlers();
}

}  // namespace nomoat
