// Matrix x vector throughput of kernels::matmul_fast per weight type and ISA,
// in GB/s of weights read, each beside a STREAM-like read-bandwidth figure
// taken right after it on the same threads (this VM's bandwidth drifts, so
// only adjacent numbers are compared). Counters:
//   GB/s      weight bytes / time
//   bw_GB/s   plain read bandwidth (sum of a 512 MiB buffer) just afterwards
//   ratio     GB/s / bw_GB/s: 1.0 means the kernel runs at memory speed
// Run e.g.:
//   build-kern/bench/nomoat_bench --benchmark_filter=Matvec
//     --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <iterator>
#include <random>
#include <vector>

#include "base/huge_pages.h"
#include "base/thread_pool.h"
#include "engine/benchmark.h"
#include "kernels/fast_matmul.h"
#include "tensor/dtype.h"
#include "tensor/view.h"

namespace nomoat::kernels {
namespace {

constexpr int64_t kCols = 4096;
// Weights well beyond the 32 MiB L3, so every pass reads memory.
constexpr size_t kWeightBytes = size_t{256} << 20;

int bench_threads() { return ThreadPool::global().size(); }

// The read bandwidth on the pool's threads, measured as `nomoat bench
// --roofline` does (engine/benchmark.h).
double read_bandwidth_gbs() { return measure_read_bandwidth(kWeightBytes, bench_threads(), 1).best / 1e9; }

struct Weights {
  // On huge pages, where a loaded model keeps its weights on AVX-512 VNNI
  // machines (Model::repack copies every matrix there).
  HugeBuffer data{nullptr, [](void*) {}};
  MatrixView view;
};

// 64 distinct quantized rows repeated to fill kWeightBytes (quantizing
// 256 MiB with the scalar quantizers would take longer than the benchmark).
const Weights& weights(DType type) {
  const DType slots[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0,
                         DType::Q5_1, DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K};
  static Weights cache[std::size(slots)];
  const int slot = static_cast<int>(std::find(std::begin(slots), std::end(slots), type) - std::begin(slots));
  Weights& w = cache[slot];
  if (w.data) return w;
  const size_t row_bytes = dtype_row_bytes(type, kCols);
  const int64_t rows = static_cast<int64_t>(kWeightBytes / row_bytes);
  w.data = allocate_huge_pages(row_bytes * static_cast<size_t>(rows), "benchmark weights");
  std::mt19937 rng(11);
  std::normal_distribution<float> dist(0.0f, 0.02f);
  std::vector<float> row(kCols);
  constexpr int64_t kDistinct = 64;
  for (int64_t r = 0; r < kDistinct; ++r) {
    for (auto& v : row) v = dist(rng);
    dtype_traits(type).quantize(row.data(), w.data.get() + row_bytes * static_cast<size_t>(r), kCols);
  }
  for (int64_t r = kDistinct; r < rows; ++r) {
    std::memcpy(w.data.get() + row_bytes * static_cast<size_t>(r),
                w.data.get() + row_bytes * static_cast<size_t>(r % kDistinct), row_bytes);
  }
  w.view = MatrixView{w.data.get(), type, kCols, rows, row_bytes};
  return w;
}

void BM_Matvec(benchmark::State& state, DType type, Isa isa) {
  if (!isa_supported(isa)) {
    state.SkipWithError("ISA not supported by this CPU");
    return;
  }
  const int64_t n_vectors = state.range(0);
  const Weights& w = weights(type);
  std::vector<float> x(static_cast<size_t>(n_vectors * kCols));
  std::mt19937 rng(5);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (auto& v : x) v = dist(rng);
  std::vector<float> y(static_cast<size_t>(n_vectors * w.view.rows));
  const int threads = bench_threads();
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    matmul_fast(isa, w.view, x.data(), n_vectors, y.data(), threads);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double bytes = static_cast<double>(w.view.row_bytes) * static_cast<double>(w.view.rows);
  const double gbs = bytes * static_cast<double>(state.iterations()) / seconds / 1e9;
  // Measured right after, outside the timed loop, on the same threads.
  const double bw = read_bandwidth_gbs();
  state.counters["GB/s"] = gbs;
  state.counters["bw_GB/s"] = bw;
  state.counters["ratio"] = gbs / bw;
  state.counters["threads"] = threads;
  state.SetLabel(std::string(dtype_name(type)) + " " + isa_name(isa));
}

// Per type, the ISAs side by side; Arg = number of activation vectors.
#define NOMOAT_MATVEC(TYPE, ISA)                                                                              \
  BENCHMARK_CAPTURE(BM_Matvec, TYPE##_##ISA, DType::TYPE, Isa::ISA)->Arg(1)->Arg(4)->UseRealTime()->Unit( \
      benchmark::kMillisecond)->MinTime(0.5)

NOMOAT_MATVEC(Q8_0, Avx512);
NOMOAT_MATVEC(Q8_0, Avx2);
NOMOAT_MATVEC(Q4_0, Avx512);
NOMOAT_MATVEC(Q4_0, Avx2);
NOMOAT_MATVEC(Q4_K, Avx512);
NOMOAT_MATVEC(Q4_K, Avx2);
NOMOAT_MATVEC(Q6_K, Avx512);
NOMOAT_MATVEC(Q6_K, Avx2);
NOMOAT_MATVEC(F16, Avx512);
NOMOAT_MATVEC(F16, Avx2);
NOMOAT_MATVEC(F32, Avx512);
NOMOAT_MATVEC(F32, Avx2);
NOMOAT_MATVEC(Q4_1, Avx512);
NOMOAT_MATVEC(Q4_1, Avx2);
NOMOAT_MATVEC(Q5_0, Avx512);
NOMOAT_MATVEC(Q5_0, Avx2);
NOMOAT_MATVEC(Q5_1, Avx512);
NOMOAT_MATVEC(Q5_1, Avx2);
NOMOAT_MATVEC(Q2_K, Avx512);
NOMOAT_MATVEC(Q2_K, Avx2);
NOMOAT_MATVEC(Q3_K, Avx512);
NOMOAT_MATVEC(Q3_K, Avx2);
NOMOAT_MATVEC(Q5_K, Avx512);
NOMOAT_MATVEC(Q5_K, Avx2);
NOMOAT_MATVEC(BF16, Avx512);
NOMOAT_MATVEC(BF16, Avx2);

// Single thread on weights that stay in L2 (1 MiB): the kernel's compute
// ceiling, to tell a compute-bound kernel from a memory-bound one.
void BM_MatvecInCache(benchmark::State& state, DType type, Isa isa) {
  if (!isa_supported(isa)) {
    state.SkipWithError("ISA not supported by this CPU");
    return;
  }
  const Weights& all = weights(type);
  MatrixView w = all.view;
  w.rows = static_cast<int64_t>((size_t{1} << 20) / w.row_bytes);
  const int64_t n_vectors = state.range(0);
  std::vector<float> x(static_cast<size_t>(n_vectors * kCols), 0.25f), y(static_cast<size_t>(n_vectors * w.rows));
  for (auto _ : state) {
    matmul_fast(isa, w, x.data(), n_vectors, y.data(), 1);
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GB/s"] = benchmark::Counter(
      static_cast<double>(w.row_bytes * static_cast<size_t>(w.rows)) * static_cast<double>(state.iterations()) / 1e9,
      benchmark::Counter::kIsRate);
}
#define NOMOAT_IN_CACHE(TYPE, ISA) \
  BENCHMARK_CAPTURE(BM_MatvecInCache, TYPE##_##ISA, DType::TYPE, Isa::ISA)->Arg(1)->Arg(4)->MinTime(0.2)
NOMOAT_IN_CACHE(Q8_0, Avx512);
NOMOAT_IN_CACHE(Q8_0, Avx2);
NOMOAT_IN_CACHE(Q4_0, Avx512);
NOMOAT_IN_CACHE(Q4_0, Avx2);
NOMOAT_IN_CACHE(Q4_K, Avx512);
NOMOAT_IN_CACHE(Q4_K, Avx2);
NOMOAT_IN_CACHE(Q6_K, Avx512);
NOMOAT_IN_CACHE(Q6_K, Avx2);
NOMOAT_IN_CACHE(F16, Avx512);
NOMOAT_IN_CACHE(F16, Avx2);
NOMOAT_IN_CACHE(F32, Avx512);
NOMOAT_IN_CACHE(F32, Avx2);
NOMOAT_IN_CACHE(Q4_1, Avx512);
NOMOAT_IN_CACHE(Q4_1, Avx2);
NOMOAT_IN_CACHE(Q5_0, Avx512);
NOMOAT_IN_CACHE(Q5_0, Avx2);
NOMOAT_IN_CACHE(Q5_1, Avx512);
NOMOAT_IN_CACHE(Q5_1, Avx2);
NOMOAT_IN_CACHE(Q2_K, Avx512);
NOMOAT_IN_CACHE(Q2_K, Avx2);
NOMOAT_IN_CACHE(Q3_K, Avx512);
NOMOAT_IN_CACHE(Q3_K, Avx2);
NOMOAT_IN_CACHE(Q5_K, Avx512);
NOMOAT_IN_CACHE(Q5_K, Avx2);
NOMOAT_IN_CACHE(BF16, Avx512);
NOMOAT_IN_CACHE(BF16, Avx2);

// Cost of one pool run with trivial tasks: the fixed overhead each threaded
// matmul pays (wake or hand-off to spinning workers, then the join).
void BM_ThreadPoolRun(benchmark::State& state) {
  ThreadPool& pool = ThreadPool::global();
  std::vector<int64_t> out(64);
  for (auto _ : state) {
    pool.run(static_cast<int64_t>(out.size()), [&](int64_t t) { out[static_cast<size_t>(t)] = t; });
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["threads"] = pool.size();
}
BENCHMARK(BM_ThreadPoolRun)->UseRealTime();

void BM_MatvecScalarReference(benchmark::State& state) {
  const Weights& w = weights(DType::Q8_0);
  std::vector<float> x(kCols, 0.5f), y(static_cast<size_t>(w.view.rows));
  for (auto _ : state) {
    matmul_fast(Isa::Scalar, w.view, x.data(), 1, y.data(), bench_threads());
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GB/s"] = benchmark::Counter(
      static_cast<double>(w.view.row_bytes * static_cast<size_t>(w.view.rows)) * static_cast<double>(state.iterations()) / 1e9,
      benchmark::Counter::kIsRate);
  state.counters["bw_GB/s"] = read_bandwidth_gbs();
}
BENCHMARK(BM_MatvecScalarReference)->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(2);

}  // namespace
}  // namespace nomoat::kernels
