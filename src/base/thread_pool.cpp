#include "base/thread_pool.h"

#include <algorithm>
#include <climits>
#include <chrono>
#include <fstream>
#include <set>
#include <string>

#include "base/error.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define NOMOAT_CPU_RELAX() _mm_pause()
#else
#define NOMOAT_CPU_RELAX() std::this_thread::yield()
#endif

namespace nomoat {

namespace {

// How long an idle worker polls for the next job before sleeping. Long
// enough to bridge the gap between the matmuls of one token (norms, rope,
// attention), short enough not to steal a core from other processes.
// generation_ = (run counter << 16) | number of workers taking part.
constexpr uint64_t kWorkerMask = 0xffff;
constexpr uint64_t kGenerationStep = kWorkerMask + 1;

constexpr auto kSpinBeforeSleep = std::chrono::microseconds(200);

}  // namespace

int physical_core_count() {
  // Count distinct core_cpus_list strings: SMT siblings share one.
  std::set<std::string> cores;
  const unsigned logical = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned cpu = 0; cpu < logical; ++cpu) {
    std::ifstream f("/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/thread_siblings_list");
    std::string line;
    if (!f || !std::getline(f, line)) return static_cast<int>(logical);
    cores.insert(line);
  }
  return std::max<int>(1, static_cast<int>(cores.size()));
}

ThreadPool::ThreadPool(int n_threads) {
  if (n_threads <= 0) n_threads = physical_core_count();
  n_threads = std::min(n_threads, static_cast<int>(kWorkerMask));
  shares_ = std::make_unique<TaskShare[]>(static_cast<size_t>(n_threads));
  workers_.reserve(static_cast<size_t>(n_threads - 1));
  for (int i = 0; i < n_threads - 1; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(sleep_mutex_);
    stop_.store(true, std::memory_order_release);
    generation_.fetch_add(kGenerationStep, std::memory_order_release);
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

ThreadPool& ThreadPool::global() {
  static ThreadPool pool;
  return pool;
}

namespace {

uint64_t pack_range(int64_t front, int64_t back) {
  return static_cast<uint64_t>(front) | (static_cast<uint64_t>(back) << 32);
}

// The next task of `range` from the front (own share) or the back (a
// share being helped with), or -1 when it is empty.
int64_t claim(std::atomic<uint64_t>& range, bool from_front) {
  uint64_t r = range.load(std::memory_order_relaxed);
  for (;;) {
    const int64_t front = static_cast<int64_t>(r & 0xffffffffu), back = static_cast<int64_t>(r >> 32);
    if (front >= back) return -1;
    const uint64_t next = from_front ? pack_range(front + 1, back) : pack_range(front, back - 1);
    if (range.compare_exchange_weak(r, next, std::memory_order_relaxed)) return from_front ? front : back - 1;
  }
}

}  // namespace

void ThreadPool::do_tasks(int participant) {
  const auto& fn = *job_fn_;
  const int participants = job_workers_ + 1;
  for (int i = 0; i < participants; ++i) {
    std::atomic<uint64_t>& range = shares_[static_cast<size_t>((participant + i) % participants)].range;
    for (int64_t task; (task = claim(range, i == 0)) >= 0;) {
      try {
        fn(task);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex_);
        if (!error_) error_ = std::current_exception();
      }
    }
  }
}

void ThreadPool::worker_loop(int index) {
  uint64_t seen = 0;
  for (;;) {
    // Spin first: the next job usually arrives within microseconds.
    uint64_t gen = generation_.load(std::memory_order_acquire);
    const auto spin_until = std::chrono::steady_clock::now() + kSpinBeforeSleep;
    for (int i = 0; gen == seen; ++i) {
      NOMOAT_CPU_RELAX();
      gen = generation_.load(std::memory_order_acquire);
      if ((i & 255) == 255 && std::chrono::steady_clock::now() > spin_until) break;
    }
    if (gen == seen) {
      std::unique_lock<std::mutex> lock(sleep_mutex_);
      wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen || stop_.load(); });
      gen = generation_.load(std::memory_order_acquire);
    }
    if (stop_.load(std::memory_order_acquire)) return;
    seen = gen;
    // The participant count travels in the generation word itself, so a
    // worker that is not taking part never reads the job fields (which the
    // next run may already be rewriting).
    if (index < static_cast<int>(gen & kWorkerMask)) {
      do_tasks(index + 1);
      workers_done_.fetch_add(1, std::memory_order_release);
    }
  }
}

void ThreadPool::run(int64_t n_tasks, const std::function<void(int64_t)>& fn, int max_threads) {
  if (n_tasks <= 0) return;
  if (n_tasks > INT32_MAX) fail("ThreadPool::run: ", n_tasks, " tasks, more than the ", INT32_MAX, " one run takes");
  const int threads = max_threads <= 0 ? size() : std::min(max_threads, size());
  bool idle = false;
  if (threads <= 1 || n_tasks == 1 || !running_.compare_exchange_strong(idle, true, std::memory_order_acquire)) {
    for (int64_t t = 0; t < n_tasks; ++t) fn(t);
    return;
  }
  struct Release {
    std::atomic<bool>& flag;
    ~Release() { flag.store(false, std::memory_order_release); }
  } release{running_};
  job_fn_ = &fn;
  job_workers_ = static_cast<int>(std::min<int64_t>(threads - 1, n_tasks - 1));
  const uint64_t next_generation =
      ((generation_.load(std::memory_order_relaxed) & ~kWorkerMask) + kGenerationStep) | static_cast<uint64_t>(job_workers_);
  const int participants = job_workers_ + 1;
  for (int p = 0; p < participants; ++p) {
    shares_[static_cast<size_t>(p)].range.store(
        pack_range(n_tasks * p / participants, n_tasks * (p + 1) / participants), std::memory_order_relaxed);
  }
  workers_done_.store(0, std::memory_order_relaxed);
  error_ = nullptr;
  {
    // Bumping under the mutex means a worker about to sleep either sees the
    // new generation in its wait predicate or is woken by the notify.
    std::lock_guard<std::mutex> lock(sleep_mutex_);
    generation_.store(next_generation, std::memory_order_release);
  }
  wake_.notify_all();
  do_tasks(0);
  // Every worker of the generation must check in (not only finish the
  // tasks): job_fn_ and the counters are reused by the next run.
  // After a short spin, yield: on a busy (oversubscribed) machine the worker
  // being waited for may be preempted on this very core.
  for (int spins = 0; workers_done_.load(std::memory_order_acquire) < job_workers_; ++spins) {
    if (spins < 2048) {
      NOMOAT_CPU_RELAX();
    } else {
      std::this_thread::yield();
    }
  }
  if (error_) std::rethrow_exception(error_);
}

}  // namespace nomoat
