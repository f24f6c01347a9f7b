// Persistent worker pool for the hot path (matmul). Spawning threads per
// call costs tens of microseconds, which is a large share of one matrix x
// vector product; these workers stay alive, spin briefly after each job
// (the next matmul of a forward pass usually follows within microseconds)
// and then sleep on a condition variable so an idle process does not burn
// cores.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace nomoat {

// Physical cores of the machine (SMT siblings counted once), at least 1.
int physical_core_count();

class ThreadPool {
 public:
  // `n_threads` counts the calling thread: n_threads - 1 workers are started.
  // 0 means physical_core_count().
  explicit ThreadPool(int n_threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Threads that take part in a run, the caller included.
  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(task) once for every task in [0, n_tasks), spread over at most
  // `max_threads` threads (0 or more than size(): all), the caller included;
  // returns when all are done. Each thread starts on its own contiguous
  // share of the tasks (in order, so a matmul's thread streams one region)
  // and then claims what is left of the others' from their ends, so uneven
  // tasks balance. At most 2^31 - 1 tasks.
  // (One shared counter cost a cache-line transfer per claim: a 64-task run
  // of empty tasks took 5.4 us against 1.7 now, and in interleaved A/B runs
  // Q4_0 decode read 0.61-0.78 of the bandwidth probe against 0.73-0.83.)
  // The first exception thrown by a task is rethrown here. A run started
  // while another is in progress (from a task, or another thread) executes
  // serially on its caller instead of deadlocking.
  void run(int64_t n_tasks, const std::function<void(int64_t)>& fn, int max_threads = 0);

  // Process-wide pool sized to the physical cores, created on first use.
  static ThreadPool& global();

 private:
  void worker_loop(int index);
  void do_tasks(int participant);

  std::vector<std::thread> workers_;
  std::atomic<bool> running_{false};  // one run at a time; others run serially

  // Current job; written by run() before the generation bump that publishes it.
  const std::function<void(int64_t)>* job_fn_ = nullptr;
  int job_workers_ = 0;  // workers (not counting the caller) taking part; also in generation_
  // Each participant's contiguous share of the tasks: its owner claims from
  // the front, the others (once their own share is done) from the back, so
  // the owner's stream stays in order and a thief takes the share's last,
  // for the guided splits smallest, tasks. Front (low 32 bits) and back
  // (high 32 bits) are one word, claimed by compare-and-swap; each share on
  // its own cache line.
  struct alignas(64) TaskShare {
    std::atomic<uint64_t> range{0};
  };
  std::unique_ptr<TaskShare[]> shares_;
  std::atomic<int> workers_done_{0};
  std::exception_ptr error_;
  std::mutex error_mutex_;

  std::atomic<uint64_t> generation_{0};
  std::mutex sleep_mutex_;
  std::condition_variable wake_;
  std::atomic<bool> stop_{false};
};

}  // namespace nomoat
