// Matmul over the packed x16 layouts (kernels/packed_matmul.h):
//   BM_PackedGemm/type/tokens/k/threads/rows: the prompt-processing shapes
//     of a Llama-3.2-1B-like layer (q/o, k/v, gate/up, down) against a
//     batch of tokens, counters Gop/s (2 ops per multiply-add) and int8_frac =
//     Gop/s over the int8 peak probed right before and after it (vpdpbusd
//     loop on the same threads).
//     Where the CPU has AMX, the prompt shapes run on it (kernels/amx.h);
//     NOMOAT_AMX=0 measures the VNNI kernels instead.
//   BM_PackedMatvec/type/threads/mib: one token (decode) against 256 MiB
//     of weights on 2 threads (GB/s, a read-bandwidth probe right after,
//     their ratio), or 1 MiB in L2 on one thread (the compute ceiling).
//   BM_PackedMatvecShapes/rows/cols: decode (Q4_0, one token, 2 threads)
//     cycling through matrices of one layer shape, 256 MiB in all, as a
//     share of the read probe: the per-call costs (pool hand-off, the
//     prefetch ramp at each start, the tail) that one 256 MiB matrix hides.
// Run e.g.:
//   build/bench/nomoat_bench --benchmark_filter=Packed --benchmark_repetitions=3
//     --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "base/thread_pool.h"
#include "engine/benchmark.h"
#include "kernels/ops.h"
#include "kernels/packed_matmul.h"
#include "kernels/peak.h"
#include "tensor/dtype.h"
#include "tensor/packed.h"
#include "tensor/view.h"

namespace nomoat::kernels {
namespace {

const DType kTypes[] = {DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::Q6_K, DType::Q5_K};

struct PackedWeights {
  std::vector<uint8_t> bytes;
  std::unique_ptr<PackedMatrix> packed;
  MatrixView view;
};

// Random rows; past `distinct` rows they repeat (quantizing 256 MiB would
// take longer than the benchmark).
std::unique_ptr<PackedWeights> make_weights(DType type, int64_t rows, int64_t cols, int64_t distinct = 1 << 30) {
  auto w = std::make_unique<PackedWeights>();
  const size_t row_bytes = dtype_row_bytes(type, cols);
  w->bytes.resize(row_bytes * static_cast<size_t>(rows));
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> row(static_cast<size_t>(cols));
  for (int64_t r = 0; r < rows; ++r) {
    uint8_t* dst = w->bytes.data() + row_bytes * static_cast<size_t>(r);
    if (r >= distinct) {
      std::memcpy(dst, w->bytes.data() + row_bytes * static_cast<size_t>(r % distinct), row_bytes);
      continue;
    }
    for (auto& v : row) v = dist(rng);
    dtype_traits(type).quantize(row.data(), dst, cols);
  }
  w->view = MatrixView{w->bytes.data(), type, cols, rows, row_bytes};
  w->packed = pack_matrix(w->view, ThreadPool::global().size());
  w->view.packed = w->packed.get();
  return w;
}

void BM_PackedGemm(benchmark::State& state) {
  const DType type = kTypes[state.range(0)];
  const int64_t n = state.range(1);
  const int64_t rows = state.range(4), cols = state.range(2);
  if (!isa_uses_packed_weights(active_isa())) {
    state.SkipWithError("no packed kernels on this CPU");
    return;
  }
  const auto w = make_weights(type, rows, cols);
  std::vector<float> x(static_cast<size_t>(n * cols));
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (auto& v : x) v = dist(rng);
  std::vector<float> y(static_cast<size_t>(n * rows));
  const int threads = std::min<int>(static_cast<int>(state.range(3)), ThreadPool::global().size());
  // The int8 peak drifts with this machine's regime: probe it right before
  // and after the timed loop, on the same threads, and divide by the mean.
  const double peak_before = measure_peak(PeakKind::Int8, threads, 1, 0.05).median;
  const auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) {
    matmul(w->view, x.data(), n, y.data(), threads);
    benchmark::DoNotOptimize(y.data());
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double peak_after = measure_peak(PeakKind::Int8, threads, 1, 0.05).median;
  const double ops = 2.0 * static_cast<double>(rows * cols * n) * static_cast<double>(state.iterations());
  state.SetLabel(dtype_name(type));
  state.counters["Gop/s"] = ops / seconds / 1e9;
  state.counters["int8_frac"] = ops / seconds / (0.5 * (peak_before + peak_after));
}

void gemm_args(benchmark::internal::Benchmark* b) {
  for (int t = 0; t < 5; ++t) {
    for (int threads : {1, 2}) {
      b->Args({t, 512, 2048, threads, 2048});  // attention q / o
      b->Args({t, 512, 2048, threads, 512});   // k / v (8 KV heads)
      b->Args({t, 512, 2048, threads, 8192});  // FFN gate / up
      b->Args({t, 512, 8192, threads, 2048});  // FFN down
      b->Args({t, 64, 2048, threads, 2048});
    }
  }
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}
BENCHMARK(BM_PackedGemm)->Apply(gemm_args);

// Decode: one token against `mib` MiB of packed weights (2048 columns) on
// `threads` threads. Counters: GB/s of weights, and with 256 MiB (streamed
// from memory) the read bandwidth probed right after on the same threads
// and the ratio; with 1 MiB (in L2, one thread) the kernel's compute ceiling.
void BM_PackedMatvec(benchmark::State& state) {
  const DType type = kTypes[state.range(0)];
  const int threads = std::min<int>(static_cast<int>(state.range(1)), ThreadPool::global().size());
  const int64_t mib = state.range(2);
  if (!isa_uses_packed_weights(active_isa())) {
    state.SkipWithError("no packed kernels on this CPU");
    return;
  }
  const int64_t cols = 2048;
  const int64_t rows = (mib << 20) / static_cast<int64_t>(dtype_row_bytes(type, cols)) / 16 * 16;
  const auto w = make_weights(type, rows, cols, 256);
  std::vector<float> x(static_cast<size_t>(cols), 0.25f), y(static_cast<size_t>(rows));
  const auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) {
    matmul(w->view, x.data(), 1, y.data(), threads);
    benchmark::DoNotOptimize(y.data());
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double gbs = static_cast<double>(w->packed->bytes) * static_cast<double>(state.iterations()) / seconds / 1e9;
  state.SetLabel(dtype_name(type));
  state.counters["GB/s"] = gbs;
  if (mib >= 64) {
    const double bw = measure_read_bandwidth(uint64_t{256} << 20, threads, 1).best / 1e9;
    state.counters["bw_GB/s"] = bw;
    state.counters["ratio"] = gbs / bw;
  }
}
void BM_PackedMatvecShapes(benchmark::State& state) {
  const int64_t rows = state.range(0), cols = state.range(1);
  if (!isa_uses_packed_weights(active_isa())) {
    state.SkipWithError("no packed kernels on this CPU");
    return;
  }
  const int threads = std::min(2, ThreadPool::global().size());
  std::vector<std::unique_ptr<PackedWeights>> ws;
  size_t bytes = 0;
  while (bytes < (size_t{256} << 20)) {
    ws.push_back(make_weights(DType::Q4_0, rows, cols, 256));
    bytes += ws.back()->packed->bytes;
  }
  std::vector<float> x(static_cast<size_t>(cols), 0.25f), y(static_cast<size_t>(rows));
  const auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) {
    for (const auto& w : ws) matmul(w->view, x.data(), 1, y.data(), threads);
    benchmark::DoNotOptimize(y.data());
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double gbs = static_cast<double>(bytes) * static_cast<double>(state.iterations()) / seconds / 1e9;
  const double bw = measure_read_bandwidth(uint64_t{256} << 20, threads, 1).best / 1e9;
  state.counters["GB/s"] = gbs;
  state.counters["bw_GB/s"] = bw;
  state.counters["ratio"] = gbs / bw;
  state.counters["matrices"] = static_cast<double>(ws.size());
}
BENCHMARK(BM_PackedMatvecShapes)
    ->Args({2048, 2048})   // attention q / o
    ->Args({512, 2048})    // k / v
    ->Args({8192, 2048})   // FFN gate / up
    ->Args({2048, 8192})   // FFN down
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

BENCHMARK(BM_PackedMatvec)
    ->ArgsProduct({{0, 1, 2, 3, 4}, {2}, {256}})
    ->ArgsProduct({{0, 1, 2, 3, 4}, {1}, {1}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace nomoat::kernels
