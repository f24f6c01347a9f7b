#include "kernels/activation.h"

#include <algorithm>

#include "base/thread_pool.h"
#include "kernels/ops.h"

namespace nomoat::kernels {

void glu_isa(Isa isa, GluActivation act, float* g, const float* u, int64_t n) {
  if (isa == Isa::Avx512 && isa_supported(Isa::Avx512)) {
    if (act == GluActivation::kSilu) {
      glu_silu_avx512(g, u, n);
    } else {
      glu_gelu_avx512(g, u, n);
    }
    return;
  }
  for (int64_t i = 0; i < n; ++i) g[i] = (act == GluActivation::kSilu ? silu(g[i]) : gelu_tanh(g[i])) * u[i];
}

void glu(GluActivation act, float* g, const float* u, int64_t n, int threads) {
  const Isa isa = active_isa();
  ThreadPool& pool = ThreadPool::global();
  const int n_threads = std::min(threads, pool.size());
  // Below ~64K values the pool's wake-up costs more than it saves.
  if (n_threads <= 1 || n < (1 << 16)) {
    glu_isa(isa, act, g, u, n);
    return;
  }
  const int64_t n_tasks = 4 * n_threads;
  const int64_t per_task = (n / n_tasks + 15) / 16 * 16;  // whole vectors
  pool.run(
      n_tasks,
      [&](int64_t task) {
        const int64_t begin = std::min(n, task * per_task);
        const int64_t end = task + 1 == n_tasks ? n : std::min(n, begin + per_task);
        if (end > begin) glu_isa(isa, act, g + begin, u + begin, end - begin);
      },
      n_threads);
}

}  // namespace nomoat::kernels
