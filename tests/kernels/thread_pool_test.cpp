// The persistent pool behind the fast matmul (base/thread_pool.h).
#include "base/thread_pool.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include <atomic>
#include <stdexcept>
#include <vector>

#include "base/error.h"

namespace nomoat {
namespace {

TEST(ThreadPool, RunsEveryTaskExactlyOnce) {
  ThreadPool pool(4);
  EXPECT_EQ(pool.size(), 4);
  for (int64_t n : {0, 1, 2, 3, 7, 100, 1001}) {
    for (int max_threads : {0, 1, 2, 4, 9}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      pool.run(n, [&](int64_t t) { hits[static_cast<size_t>(t)].fetch_add(1); }, max_threads);
      for (int64_t t = 0; t < n; ++t) ASSERT_EQ(hits[static_cast<size_t>(t)].load(), 1) << n << " " << max_threads;
    }
  }
}

// Each thread starts on its own share of the tasks (the caller on the
// first); threads done with theirs take the rest of a share from its back.
TEST(ThreadPool, IdleThreadsTakeOverTheEndOfASlowShare) {
  ThreadPool pool(4);
  std::vector<std::thread::id> ran_on(16);
  std::vector<std::atomic<int>> hits(16);
  std::vector<int> order(16);
  std::atomic<int> started{0};
  std::atomic<bool> task0_started{false};
  pool.run(16, [&](int64_t t) {
    if (t == 0) {
      task0_started.store(true);
    } else if (t >= 4) {
      // The workers' own shares wait for task 0, so on a loaded machine no
      // worker can finish early and take task 0 before the caller starts.
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (!task0_started.load() && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
    }
    order[static_cast<size_t>(t)] = started.fetch_add(1);
    ran_on[static_cast<size_t>(t)] = std::this_thread::get_id();
    hits[static_cast<size_t>(t)].fetch_add(1);
    if (t == 0) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  });
  for (auto& h : hits) EXPECT_EQ(h.load(), 1);
  EXPECT_EQ(ran_on[0], std::this_thread::get_id());  // the caller's share is tasks 0-3
  for (int t = 1; t < 4; ++t) EXPECT_NE(ran_on[static_cast<size_t>(t)], ran_on[0]) << t;  // taken while task 0 slept
  EXPECT_LT(order[3], order[2]);  // from the back
  EXPECT_LT(order[2], order[1]);
}

TEST(ThreadPool, RefusesMoreTasksThanOneRunTakes) {
  ThreadPool pool(2);
  std::atomic<int64_t> ran{0};
  EXPECT_THROW(pool.run(int64_t{1} << 31, [&](int64_t) { ran.fetch_add(1); }), Error);
  EXPECT_EQ(ran.load(), 0);
}

TEST(ThreadPool, ManyBackToBackRunsAndSleepingWorkers) {
  // Back-to-back runs hit the spinning workers; the pauses let them fall
  // asleep so the next run has to wake them.
  ThreadPool pool(3);
  std::atomic<int64_t> sum{0};
  for (int i = 0; i < 2000; ++i) {
    pool.run(16, [&](int64_t t) { sum.fetch_add(t); }, i % 3 + 1);
    if (i % 500 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ(sum.load(), 2000 * 120);
}

TEST(ThreadPool, RethrowsTaskExceptions) {
  ThreadPool pool(2);
  EXPECT_THROW(pool.run(10, [](int64_t t) { if (t == 7) throw std::runtime_error("task 7"); }), std::runtime_error);
  // Still usable afterwards.
  std::atomic<int> count{0};
  pool.run(10, [&](int64_t) { count.fetch_add(1); });
  EXPECT_EQ(count.load(), 10);
}

TEST(ThreadPool, NestedRunExecutesSerially) {
  ThreadPool pool(2);
  std::atomic<int> inner{0};
  pool.run(4, [&](int64_t) { pool.run(3, [&](int64_t) { inner.fetch_add(1); }); });
  EXPECT_EQ(inner.load(), 12);
}

TEST(ThreadPool, GlobalPoolIsSizedToPhysicalCores) {
  EXPECT_EQ(ThreadPool::global().size(), physical_core_count());
  EXPECT_GE(physical_core_count(), 1);
}

}  // namespace
}  // namespace nomoat
