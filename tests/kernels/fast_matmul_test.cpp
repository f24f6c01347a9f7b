// Fast matmul kernels (kernels/fast_matmul.h) against the scalar reference
// kernels::matmul_reference, on random data of odd shapes, for every ISA
// path this CPU can run (the others are skipped with a message).
//
// Tolerances, per output y[t][r] (the reference sums in double):
//  * F32/F16: both sides form exact products and sum them in double, in
//    different orders, then round to float once:
//      |err| <= 2^-23 |y| + (cols + 16) * 2^-52 * sum_c |w_c x_c|
//    (two float roundings, plus the worst case of double summation).
//  * Integer-dot types (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K..Q6_K), sharp check: against the reference on the
//    activations as quantized (d * q), only float rounding of the per-block
//    scales and sums: (cols + 16) * 2^-23 * sum_c |w_c d q_c|.
//  * Integer-dot types vs float activations (per-block results summed in float): the activations are rounded to d * q with d = amax / 127
//    per 32-block, so each |x_c - d q_c| <= d / 2, and the integer dot is
//    exact; hence
//      |err| <= sum_blocks (d_block / 2) * sum_{c in block} |w_c|
//               + float term as above on sum |w_c x_c|.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "kernels/fast_matmul.h"
#include "kernels/task_split.h"
#include "kernels/ops.h"
#include "tensor/blocks.h"
#include "tensor/dtype.h"
#include "tensor/view.h"
#include "test_rng.h"

namespace nomoat::kernels {
namespace {

using testing_util::Rng;

struct Matrix {
  std::vector<uint8_t> data;
  MatrixView view;
  std::vector<float> values;  // dequantized, rows x cols
};

Matrix random_matrix(DType type, int64_t rows, int64_t cols, Rng& rng) {
  Matrix m;
  const size_t row_bytes = dtype_row_bytes(type, cols);
  m.data.resize(row_bytes * static_cast<size_t>(rows));
  m.values.resize(static_cast<size_t>(rows * cols));
  std::vector<float> row(static_cast<size_t>(cols));
  for (int64_t r = 0; r < rows; ++r) {
    // Row scales spread over three decades, like real layers.
    const float scale = std::pow(10.0f, rng.uniform(-2.0f, 1.0f));
    for (auto& v : row) v = scale * rng.uniform(-1.0f, 1.0f);
    dtype_traits(type).quantize(row.data(), m.data.data() + row_bytes * static_cast<size_t>(r), cols);
    dtype_traits(type).dequantize(m.data.data() + row_bytes * static_cast<size_t>(r), m.values.data() + r * cols, cols);
  }
  m.view = MatrixView{m.data.data(), type, cols, rows, row_bytes};
  return m;
}

std::vector<float> random_activations(int64_t n, Rng& rng) {
  std::vector<float> x(static_cast<size_t>(n));
  for (auto& v : x) v = rng.uniform(-3.0f, 3.0f);
  // A few outliers, as real activations have: they set the block scale.
  for (size_t i = 0; i < x.size(); i += 41) x[i] *= 20.0f;
  return x;
}

// The weight types whose x86 kernels run integer dots on quantized activations.
constexpr DType kIntegerDotTypes[] = {DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1,
                                      DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K};

bool quantizes_activations(DType t) {
  return std::find(std::begin(kIntegerDotTypes), std::end(kIntegerDotTypes), t) != std::end(kIntegerDotTypes);
}

// The bound described at the top of the file, for output (t, r).
double error_bound(const Matrix& m, const std::vector<float>& x, int64_t t, int64_t r, float want) {
  const int64_t cols = m.view.cols;
  const float* w = m.values.data() + r * cols;
  const float* xt = x.data() + t * cols;
  double abs_products = 0.0;
  for (int64_t c = 0; c < cols; ++c) abs_products += std::fabs(static_cast<double>(w[c]) * xt[c]);
  if (!quantizes_activations(m.view.type)) {
    return std::ldexp(std::fabs(static_cast<double>(want)), -23) +
           (static_cast<double>(cols) + 16.0) * std::ldexp(1.0, -52) * abs_products + 1e-30;
  }
  // Float sums of the per-block results: float summation bound.
  double bound = (static_cast<double>(cols) + 16.0) * std::ldexp(1.0, -23) * abs_products;
  {
    for (int64_t b = 0; b < cols / kQK; ++b) {
      double amax = 0.0, abs_w = 0.0;
      for (int64_t i = b * kQK; i < (b + 1) * kQK; ++i) {
        amax = std::max(amax, std::fabs(static_cast<double>(xt[i])));
        abs_w += std::fabs(static_cast<double>(w[i]));
      }
      // d is amax / 127 rounded to float: allow its relative error too.
      bound += (amax / 127.0) * (1.0 + 1e-6) / 2.0 * abs_w * (1.0 + 1e-5);
    }
  }
  return bound + 1e-30;
}

void expect_matches_reference(Isa isa, DType type, int64_t rows, int64_t cols, int64_t n_vectors, int threads,
                              uint64_t seed) {
  Rng rng(seed);
  const Matrix m = random_matrix(type, rows, cols, rng);
  const std::vector<float> x = random_activations(n_vectors * cols, rng);
  const size_t n_out = static_cast<size_t>(n_vectors) * static_cast<size_t>(rows);
  std::vector<float> want(n_out);
  std::vector<float> got(n_out, std::nanf(""));  // unwritten outputs fail
  matmul_reference(m.view, x.data(), n_vectors, want.data(), 1);
  matmul_fast(isa, m.view, x.data(), n_vectors, got.data(), threads);
  if (quantizes_activations(type)) {
    // The sharp check: against the reference run on the activations as the
    // kernel sees them (d * q), only float rounding may differ. (The bound
    // against the float activations below is a worst case, loose enough to
    // hide a small systematic error such as a wrong zero point.)
    const int64_t n_blocks = n_vectors * cols / kQK;
    std::vector<float> scales(static_cast<size_t>(n_blocks));
    std::vector<int8_t> qs(x.size());
    std::vector<int32_t> bias(static_cast<size_t>(n_blocks));
    quantize_activations_scalar(x.data(), n_blocks, scales.data(), qs.data(), bias.data());
    std::vector<float> xq(x.size());
    for (size_t i = 0; i < xq.size(); ++i) xq[i] = scales[i / kQK] * static_cast<float>(qs[i]);
    std::vector<float> want_q(n_out);
    matmul_reference(m.view, xq.data(), n_vectors, want_q.data(), 1);
    for (int64_t t = 0; t < n_vectors; ++t) {
      for (int64_t r = 0; r < rows; ++r) {
        const size_t i = static_cast<size_t>(t * rows + r);
        double abs_products = 0.0;
        for (int64_t c = 0; c < cols; ++c) {
          abs_products += std::fabs(static_cast<double>(m.values[static_cast<size_t>(r * cols + c)]) *
                                    xq[static_cast<size_t>(t * cols + c)]);
        }
        ASSERT_LE(std::fabs(static_cast<double>(got[i]) - want_q[i]),
                  (static_cast<double>(cols) + 16.0) * std::ldexp(1.0, -23) * abs_products + 1e-30)
            << isa_name(isa) << " " << dtype_name(type) << " vs quantized activations, rows " << rows << " cols "
            << cols << " vectors " << n_vectors << " at t " << t << " r " << r << ": got " << got[i] << " want "
            << want_q[i];
      }
    }
  }
  for (int64_t t = 0; t < n_vectors; ++t) {
    for (int64_t r = 0; r < rows; ++r) {
      const size_t i = static_cast<size_t>(t * rows + r);
      ASSERT_LE(std::fabs(static_cast<double>(got[i]) - want[i]), error_bound(m, x, t, r, want[i]))
          << isa_name(isa) << " " << dtype_name(type) << " rows " << rows << " cols " << cols << " vectors "
          << n_vectors << " threads " << threads << " at t " << t << " r " << r << ": got " << got[i] << " want "
          << want[i];
    }
  }
}

class FastMatmul : public testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    if (!isa_supported(GetParam())) GTEST_SKIP() << "this CPU lacks " << isa_name(GetParam());
  }
};

TEST_P(FastMatmul, HasKernelsForFastTypes) {
  for (DType t : {DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::Q6_K, DType::F16, DType::F32}) {
    MatrixView w{nullptr, t, 256, 1, dtype_row_bytes(t, 256)};
    EXPECT_TRUE(has_fast_matmul(GetParam(), w)) << dtype_name(t);
  }
  if (GetParam() == Isa::Avx2 || GetParam() == Isa::Avx512) {
    for (DType t : {DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q2_K, DType::Q3_K, DType::Q5_K, DType::BF16}) {
      MatrixView w{nullptr, t, 256, 1, dtype_row_bytes(t, 256)};
      EXPECT_TRUE(has_fast_matmul(GetParam(), w)) << dtype_name(t);
    }
  }
  MatrixView iq4{nullptr, DType::IQ4_NL, 256, 1, dtype_row_bytes(DType::IQ4_NL, 256)};
  EXPECT_FALSE(has_fast_matmul(GetParam(), iq4));
}

TEST_P(FastMatmul, QuantizedMatchesReferenceOnOddShapes) {
  uint64_t seed = 1;
  for (DType type : {DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1}) {
    // Rows not multiples of anything; 1 to 11 blocks per row (odd counts hit
    // the even/odd accumulator tail); every tile remainder of 1..7 vectors.
    for (int64_t rows : {1, 3, 17, 45}) {
      for (int64_t cols : {32, 96, 160, 352}) {
        for (int64_t n_vectors = 1; n_vectors <= 7; ++n_vectors) {
          expect_matches_reference(GetParam(), type, rows, cols, n_vectors, 1, seed++);
        }
      }
    }
  }
}

TEST_P(FastMatmul, KQuantsMatchReferenceOnOddShapes) {
  uint64_t seed = 500;
  for (DType type : {DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K}) {
    // 1 to 3 super-blocks per row.
    for (int64_t rows : {1, 3, 17, 45}) {
      for (int64_t cols : {256, 512, 768}) {
        for (int64_t n_vectors = 1; n_vectors <= 7; ++n_vectors) {
          expect_matches_reference(GetParam(), type, rows, cols, n_vectors, 1, seed++);
        }
      }
    }
  }
}

TEST_P(FastMatmul, FloatMatchesReferenceOnOddShapes) {
  uint64_t seed = 100;
  for (DType type : {DType::F32, DType::F16, DType::BF16}) {
    // Column counts below, at and around the 8/16/32-lane steps.
    for (int64_t rows : {1, 5, 19}) {
      for (int64_t cols : {1, 7, 8, 15, 16, 17, 31, 33, 47, 100, 257}) {
        for (int64_t n_vectors = 1; n_vectors <= 7; ++n_vectors) {
          expect_matches_reference(GetParam(), type, rows, cols, n_vectors, 1, seed++);
        }
      }
    }
    // Batches past one 8-vector tile and one 16-vector pass, and (AVX-512)
    // past one 64-row block and one 256-column chunk.
    for (int64_t n_vectors : {8, 9, 16, 17, 40}) {
      expect_matches_reference(GetParam(), type, 5, 33, n_vectors, 1, seed++);
      expect_matches_reference(GetParam(), type, 19, 257, n_vectors, 2, seed++);
    }
    expect_matches_reference(GetParam(), type, 131, 600, 21, 2, seed++);
  }
}

// One vector takes its own row loop (8, 4, then 1 rows at a time on
// AVX-512); it must give the same bits as that vector inside a batch.
TEST_P(FastMatmul, FloatOneVectorEqualsBatchedBits) {
  Rng rng(12);
  for (DType type : {DType::F32, DType::F16, DType::BF16}) {
    for (int64_t rows : {1, 5, 12, 19}) {
      for (int64_t cols : {1, 17, 257}) {
        const Matrix m = random_matrix(type, rows, cols, rng);
        // 19 vectors: two 8-vector tiles and a 3-vector one in the first
        // block, and a second block.
        constexpr int64_t kBatch = 19;
        const std::vector<float> x = random_activations(kBatch * cols, rng);
        std::vector<float> one(static_cast<size_t>(rows)), batch(static_cast<size_t>(kBatch * rows));
        matmul_fast(GetParam(), m.view, x.data(), kBatch, batch.data(), 1);
        for (int64_t t = 0; t < kBatch; ++t) {
          matmul_fast(GetParam(), m.view, x.data() + t * cols, 1, one.data(), 1);
          for (int64_t r = 0; r < rows; ++r) {
            EXPECT_EQ(one[static_cast<size_t>(r)], batch[static_cast<size_t>(t * rows + r)])
                << dtype_name(type) << " " << rows << "x" << cols << " vector " << t << " row " << r;
          }
        }
      }
    }
  }
}

TEST_P(FastMatmul, ThreadedSplitMatchesReference) {
  // Large enough to go through the pool, rows not a multiple of the task size.
  uint64_t seed = 1000;
  for (DType type : {DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q2_K, DType::Q3_K,
                     DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::F16, DType::BF16, DType::F32}) {
    for (int64_t n_vectors : {1, 5}) {
      for (int threads : {2, 3, 8}) {
        expect_matches_reference(GetParam(), type, 1001, 512, n_vectors, threads, seed++);
      }
    }
  }
}

TEST_P(FastMatmul, ZeroActivationsGiveZero) {
  // An all-zero block has scale 0: the kernels must not divide by it.
  Rng rng(7);
  for (DType type : kIntegerDotTypes) {
    const Matrix m = random_matrix(type, 9, 256, rng);
    std::vector<float> x(512, 0.0f), y(18, 1.0f);
    matmul_fast(GetParam(), m.view, x.data(), 2, y.data(), 1);
    for (float v : y) EXPECT_EQ(v, 0.0f);
  }
}

TEST_P(FastMatmul, ActivationQuantizationMatchesScalarBytes) {
  const IsaKernels& k = *isa_kernels(GetParam());
  ASSERT_NE(k.quantize_activations, nullptr);
  Rng rng(9);
  constexpr int64_t kBlocks = 37;
  std::vector<float> x = random_activations(kBlocks * kQK, rng);
  for (int i = 0; i < kQK; ++i) x[static_cast<size_t>(5 * kQK + i)] = 0.0f;  // an all-zero block
  x[3] = 0.5f;                                                              // ties round to even
  std::vector<float> want_d(kBlocks), got_d(kBlocks);
  std::vector<int8_t> want_q(kBlocks * kQK), got_q(kBlocks * kQK);
  std::vector<int32_t> want_bias(kBlocks), got_bias(kBlocks);
  quantize_activations_scalar(x.data(), kBlocks, want_d.data(), want_q.data(), want_bias.data());
  k.quantize_activations(x.data(), kBlocks, got_d.data(), got_q.data(), got_bias.data());
  EXPECT_EQ(want_d, got_d);
  EXPECT_EQ(want_q, got_q);
  EXPECT_EQ(want_bias, got_bias);
}

TEST_P(FastMatmul, SuperblockQuantizationMatchesScalarBytes) {
  const IsaKernels& k = *isa_kernels(GetParam());
  if (!k.quantize_superblocks) GTEST_SKIP() << "no super-block quantizer on this ISA (the packed kernels are x86 only)";
  Rng rng(10);
  constexpr int64_t kSupers = 5, kValues = kSupers * 8 * kQK;
  std::vector<float> x = random_activations(kValues, rng);
  for (int i = 0; i < 8 * kQK; ++i) x[static_cast<size_t>(2 * 8 * kQK + i)] = 0.0f;  // an all-zero super-block
  for (int i = 0; i < kQK; ++i) x[static_cast<size_t>(3 * 8 * kQK + 5 * kQK + i)] = 0.0f;  // a zero block beside others
  x[3 * 8 * kQK + 7] = 40.0f;  // an outlier sets the whole super-block's scale
  std::vector<float> want_d(kSupers), got_d(kSupers);
  std::vector<int8_t> want_q(kValues), got_q(kValues);
  std::vector<int32_t> want_sums(kSupers * 8), got_sums(kSupers * 8);
  quantize_superblocks_scalar(x.data(), kSupers, want_d.data(), want_q.data(), want_sums.data());
  k.quantize_superblocks(x.data(), kSupers, got_d.data(), got_q.data(), got_sums.data());
  EXPECT_EQ(want_d, got_d);
  EXPECT_EQ(want_q, got_q);
  EXPECT_EQ(want_sums, got_sums);
  EXPECT_EQ(want_d[2], 0.0f);
  EXPECT_EQ(want_d[3], 40.0f / 127.0f);
  for (int64_t b = 0; b < kSupers * 8; ++b) {
    int32_t sum = 0;
    for (int i = 0; i < kQK; ++i) sum += want_q[static_cast<size_t>(b * kQK + i)];
    EXPECT_EQ(want_sums[static_cast<size_t>(b)], sum) << "block " << b;
  }
}

INSTANTIATE_TEST_SUITE_P(Isa, FastMatmul, testing::Values(Isa::Avx2, Isa::Avx512, Isa::Neon),
                         [](const testing::TestParamInfo<Isa>& info) { return std::string(isa_name(info.param)); });

TEST(FastMatmulTasks, GuidedBoundsCoverEveryUnitAndShrinkAtTheEnd) {
  for (size_t unit_bytes : {size_t{1}, size_t{4608}, size_t{18432}, size_t{1} << 20}) {
    for (int64_t units : {int64_t{1}, int64_t{7}, int64_t{128}, int64_t{8016}}) {
      for (int threads : {1, 2, 8}) {
        const std::vector<int64_t> b = guided_task_bounds(units, unit_bytes, threads);
        ASSERT_GE(b.size(), 2u);
        EXPECT_EQ(b.front(), 0);
        EXPECT_EQ(b.back(), units);
        const int64_t cap = units_per_task(units, unit_bytes, threads);
        if (threads > 1) {
          EXPECT_GE(static_cast<int64_t>(b.size()) - 1, std::min<int64_t>(units, 4 * threads));
        }
        for (size_t i = 1; i < b.size(); ++i) {
          EXPECT_GT(b[i], b[i - 1]);
          EXPECT_LE(b[i] - b[i - 1], cap);
          // Never growing, except the last task may take a short remainder.
          if (i + 1 < b.size() && i > 1) {
            EXPECT_LE(b[i] - b[i - 1], b[i - 1] - b[i - 2]);
          }
        }
        const int64_t floor_units = std::max<int64_t>(1, static_cast<int64_t>((64 * 1024) / unit_bytes));
        if (threads > 1 && cap > floor_units) {
          EXPECT_LT(b[b.size() - 1] - b[b.size() - 2], b[1] - b[0]) << units << " units of " << unit_bytes;
        }
      }
    }
  }
}

TEST(FastMatmulIsa, ParsesNamesAndDetects) {
  Isa isa;
  ASSERT_TRUE(parse_isa("avx2", &isa));
  EXPECT_EQ(isa, Isa::Avx2);
  ASSERT_TRUE(parse_isa("avx512", &isa));
  EXPECT_EQ(isa, Isa::Avx512);
  ASSERT_TRUE(parse_isa("scalar", &isa));
  EXPECT_EQ(isa, Isa::Scalar);
  EXPECT_FALSE(parse_isa("sse9", &isa));
  EXPECT_TRUE(isa_supported(Isa::Scalar));
  EXPECT_TRUE(isa_supported(detect_isa()));
  EXPECT_TRUE(isa_supported(active_isa()));
  std::printf("detected ISA: %s, active: %s\n", isa_name(detect_isa()), isa_name(active_isa()));
}

TEST(FastMatmulIsa, ScalarPathIsTheReference) {
  Rng rng(3);
  const Matrix m = random_matrix(DType::Q8_0, 5, 64, rng);
  const std::vector<float> x = random_activations(2 * 64, rng);
  std::vector<float> want(10), got(10);
  matmul_reference(m.view, x.data(), 2, want.data(), 1);
  matmul_fast(Isa::Scalar, m.view, x.data(), 2, got.data(), 1);
  EXPECT_EQ(want, got);
}

}  // namespace
}  // namespace nomoat::kernels
