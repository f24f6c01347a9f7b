// How the matmul dispatchers cut work into thread-pool tasks. Apart from
// fast_matmul.h because it returns a std::vector: the ISA translation units
// include fast_matmul.h and must not instantiate standard-library templates
// with their own flags (see fast_matmul.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace nomoat::kernels {

// Task boundaries over `units` (bounds[i], bounds[i + 1]), claimed in order:
// tasks of up to 256 KiB of weights while much work remains, then shrinking
// (what remains / (2 n_threads), down to about 64 KiB), so the threads
// finish together instead of one waiting out the other's last big task.
std::vector<int64_t> guided_task_bounds(int64_t units, size_t unit_bytes, int n_threads);

}  // namespace nomoat::kernels
