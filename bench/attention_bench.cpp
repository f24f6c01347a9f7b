// Prompt-processing attention (kernels::attention) per ISA on a prefill
// shape: a causal prompt of Arg queries over an F16 cache, 32 query heads
// sharing 8 KV heads of 64 (Llama-3.2-1B), one layer. Counter: (query
// head, key) pairs attended per second. Run e.g.:
//   build/bench/nomoat_bench --benchmark_filter=Attention
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "base/fp16.h"
#include "kernels/attention.h"
#include "kernels/fast_matmul.h"

namespace nomoat::kernels {
namespace {

constexpr int64_t kHeads = 32, kKvHeads = 8, kHeadDim = 64;

void BM_AttentionPrefill(benchmark::State& state, Isa isa, int threads) {
  if (!isa_supported(isa)) {
    state.SkipWithError("ISA not supported by this CPU");
    return;
  }
  const int64_t n = state.range(0);
  const int64_t kv_row = kKvHeads * kHeadDim;
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<uint16_t> k(static_cast<size_t>(n * kv_row)), v(k.size());
  for (auto& x : k) x = f32_to_fp16(normal(rng));
  for (auto& x : v) x = f32_to_fp16(normal(rng));
  std::vector<float> q(static_cast<size_t>(n * kHeads * kHeadDim)), out(q.size());
  for (auto& x : q) x = normal(rng);
  const AttentionShape shape{kHeads, kKvHeads, kHeadDim, 0.125f, 0.0f};
  const KvRows kv{DType::F16, reinterpret_cast<const uint8_t*>(k.data()), reinterpret_cast<const uint8_t*>(v.data()),
                  static_cast<size_t>(kv_row) * 2};
  std::vector<AttentionQuery> queries(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    queries[static_cast<size_t>(i)] = AttentionQuery{&q[static_cast<size_t>(i * kHeads * kHeadDim)],
                                                     &out[static_cast<size_t>(i * kHeads * kHeadDim)], 0, i, kv};
  }
  for (auto _ : state) {
    attention(isa, shape, queries.data(), n, threads);
    benchmark::DoNotOptimize(out.data());
  }
  const double pairs = static_cast<double>(kHeads) * static_cast<double>(n) * static_cast<double>(n + 1) / 2;
  state.counters["pairs/s"] = benchmark::Counter(pairs * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.SetLabel(std::string(isa_name(isa)) + " " + std::to_string(threads) + " thread(s)");
}

BENCHMARK_CAPTURE(BM_AttentionPrefill, Scalar_1t, Isa::Scalar, 1)->Arg(128)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_AttentionPrefill, Avx2_1t, Isa::Avx2, 1)->Arg(512)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_AttentionPrefill, Avx512_1t, Isa::Avx512, 1)->Arg(512)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_AttentionPrefill, Avx512_2t, Isa::Avx512, 2)->Arg(512)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace nomoat::kernels
