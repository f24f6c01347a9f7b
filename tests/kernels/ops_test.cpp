// Reference ops (kernels/ops.h): the two-step RoPE equals the one-call
// form bit for bit, and matmul_reference gives the same bits on any number
// of pool threads.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/ops.h"
#include "tensor/dtype.h"
#include "tensor/view.h"

namespace nomoat::kernels {
namespace {

float pseudo_random(uint64_t i) {
  uint64_t z = (i + 1) * 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z ^= z >> 31;
  return static_cast<float>(z >> 40) / 16777216.0f * 2.0f - 1.0f;
}

TEST(Rope, CachedCosSinGivesTheSameBits) {
  for (bool neox : {false, true}) {
    for (int64_t rope_dim : {2, 32, 64, 66}) {
      const int64_t half = rope_dim / 2;
      std::vector<double> freq(static_cast<size_t>(half));
      for (int64_t i = 0; i < half; ++i) freq[static_cast<size_t>(i)] = std::pow(10000.0, -2.0 * static_cast<double>(i) / static_cast<double>(rope_dim));
      for (int64_t pos : {0, 1, 17, 4095, 131071}) {
        std::vector<float> a(static_cast<size_t>(rope_dim) + 3), b;
        for (size_t i = 0; i < a.size(); ++i) a[i] = pseudo_random(i + static_cast<uint64_t>(pos));
        b = a;
        rope(a.data(), rope_dim, pos, freq.data(), 0.9f, neox);
        std::vector<float> c(static_cast<size_t>(half)), s(static_cast<size_t>(half));
        rope_cos_sin(half, pos, freq.data(), 0.9f, c.data(), s.data());
        rope_apply(b.data(), rope_dim, c.data(), s.data(), neox);
        EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0) << rope_dim << " " << pos << " " << neox;
        // Turning by a position and back by its negative restores x.
        rope_cos_sin(half, -pos, freq.data(), 1.0f / 0.9f, c.data(), s.data());
        rope_apply(b.data(), rope_dim, c.data(), s.data(), neox);
        for (int64_t i = 0; i < rope_dim; ++i) {
          EXPECT_NEAR(b[static_cast<size_t>(i)], pseudo_random(static_cast<uint64_t>(i + pos)), 1e-5f);
        }
      }
    }
  }
}

TEST(MatmulReference, PoolThreadsGiveTheSameBits) {
  // Big enough (rows * cols * vectors >= 2^18) to run on the pool.
  const int64_t rows = 301, cols = 256, n = 5;
  const DType type = DType::Q4_K;
  const size_t row_bytes = dtype_row_bytes(type, cols);
  std::vector<uint8_t> data(row_bytes * static_cast<size_t>(rows));
  std::vector<float> row(static_cast<size_t>(cols));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) row[static_cast<size_t>(c)] = pseudo_random(static_cast<uint64_t>(r * cols + c));
    dtype_traits(type).quantize(row.data(), data.data() + row_bytes * static_cast<size_t>(r), cols);
  }
  const MatrixView w{data.data(), type, cols, rows, row_bytes};
  std::vector<float> x(static_cast<size_t>(n * cols));
  for (size_t i = 0; i < x.size(); ++i) x[i] = pseudo_random(1000000 + i);
  std::vector<float> one(static_cast<size_t>(n * rows)), many(one.size(), std::nanf(""));
  matmul_reference(w, x.data(), n, one.data(), 1);
  matmul_reference(w, x.data(), n, many.data(), 4);
  EXPECT_EQ(std::memcmp(one.data(), many.data(), one.size() * sizeof(float)), 0);
}

}  // namespace
}  // namespace nomoat::kernels
