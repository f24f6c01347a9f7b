// Simple fork-join parallelism for load-time and tool work (not the hot path).
#pragma once

#include <cstdint>
#include <functional>

namespace nomoat {

// Number of threads to use by default: the hardware's, at least 1.
int default_thread_count();

// Splits [0, n) into contiguous chunks and runs fn(begin, end) on up to
// `threads` threads (0 = default). Exceptions from any chunk are rethrown.
void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn, int threads = 0);

}  // namespace nomoat
