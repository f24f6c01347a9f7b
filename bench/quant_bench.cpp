// Throughput of the scalar reference conversions, per type. These are the
// baseline the fast kernels of src/kernels/ are measured against.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "tensor/dtype.h"

namespace nomoat {
namespace {

constexpr int64_t kElements = 1 << 20;

std::vector<float> random_floats() {
  std::vector<float> v(kElements);
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(0.0f, 0.02f);
  for (auto& x : v) x = dist(rng);
  return v;
}

void BM_Quantize(benchmark::State& state, DType type) {
  const auto src = random_floats();
  std::vector<uint8_t> dst(dtype_row_bytes(type, kElements));
  const auto& t = dtype_traits(type);
  for (auto _ : state) {
    t.quantize(src.data(), dst.data(), kElements);
    benchmark::DoNotOptimize(dst.data());
  }
  state.SetBytesProcessed(state.iterations() * kElements * 4);
}

void BM_Dequantize(benchmark::State& state, DType type) {
  const auto src = random_floats();
  std::vector<uint8_t> q(dtype_row_bytes(type, kElements));
  const auto& t = dtype_traits(type);
  t.quantize(src.data(), q.data(), kElements);
  std::vector<float> out(kElements);
  for (auto _ : state) {
    t.dequantize(q.data(), out.data(), kElements);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * kElements * 4);
}

int register_all() {
  size_t n = 0;
  const DType* types = convertible_dtypes(&n);
  for (size_t i = 0; i < n; ++i) {
    const std::string name = dtype_traits(types[i]).name;
    benchmark::RegisterBenchmark(("quantize/" + name).c_str(), BM_Quantize, types[i])->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("dequantize/" + name).c_str(), BM_Dequantize, types[i])->Unit(benchmark::kMillisecond);
  }
  return 0;
}
const int registered = register_all();

}  // namespace
}  // namespace nomoat
