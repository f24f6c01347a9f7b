// Round-trip accuracy and robustness of every convertible tensor type.
#include "tensor/quant/quant.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "base/error.h"
#include "base/fp16.h"
#include "tensor/blocks.h"
#include "tensor/dtype.h"
#include "tensor/quant_test_util.h"

namespace nomoat {
namespace {

using quant_test::all_finite;
using quant_test::dequantize;
using quant_test::quantize;
using quant_test::relative_rmse;
using quant_test::round_trip;

std::vector<DType> convertible() {
  size_t count = 0;
  const DType* types = convertible_dtypes(&count);
  return {types, types + count};
}

std::vector<float> normal_data(size_t n, uint32_t seed, float sigma = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> x(n);
  for (float& v : x) v = dist(rng);
  return x;
}

// Worst RMSE / RMS over the data sets below, as measured (libstdc++'s normal
// distribution) with this implementation, which writes the same bytes as
// llama.cpp's reference quantizers; each bound is that plus ~30%.
//   F16 2.3e-4, BF16 1.83e-3, Q4_0 0.0871, Q4_1 0.0802, Q5_0 0.0427,
//   Q5_1 0.0381, Q8_0 0.00539, Q2_K 0.317, Q3_K 0.158, Q4_K 0.0715,
//   Q5_K 0.0365, Q6_K 0.0181, Q8_K 0.00705 (one 256-value block of normal
//   data has a larger peak-to-RMS ratio than a 32-value one).
double rmse_bound(DType t) {
  switch (t) {
    case DType::F32:
      return 0.0;
    case DType::F16:
      return 3.0e-4;
    case DType::BF16:
      return 2.4e-3;
    case DType::Q4_0:
      return 0.113;
    case DType::Q4_1:
      return 0.104;
    case DType::Q5_0:
      return 0.056;
    case DType::Q5_1:
      return 0.050;
    case DType::Q8_0:
      return 0.0070;
    case DType::Q2_K:
      return 0.41;
    case DType::Q3_K:
      return 0.205;
    case DType::Q4_K:
      return 0.093;
    case DType::Q5_K:
      return 0.047;
    case DType::Q6_K:
      return 0.0235;
    case DType::Q8_K:
      return 0.0092;
    default:
      ADD_FAILURE() << "no bound for " << dtype_name(t);
      return 0.0;
  }
}

TEST(QuantRoundTrip, RelativeErrorWithinBoundForEveryType) {
  for (DType t : convertible()) {
    double worst = 0;
    for (size_t n : {size_t{256}, size_t{4096}, size_t{65536}}) {
      for (uint32_t seed : {1u, 2u, 3u}) {
        for (float sigma : {1.0f, 0.02f}) {
          const std::vector<float> x =
              normal_data(n, seed * 7919 + static_cast<uint32_t>(n), sigma);
          const std::vector<float> y = round_trip(t, x);
          ASSERT_TRUE(all_finite(y)) << dtype_name(t);
          worst = std::max(worst, relative_rmse(x, y));
        }
      }
    }
    const double bound = rmse_bound(t);
    std::printf("  %-5s RMSE/RMS %.5f (bound %.5f)\n", dtype_name(t).c_str(), worst, bound);
    RecordProperty(dtype_name(t) + "_rel_rmse", std::to_string(worst));
    EXPECT_LE(worst, bound) << dtype_name(t);
  }
}

// Per-element error of a block with step d, offset m and levels in
// [lowest, highest]: a value inside the representable range is at most half a
// step from its level; one outside is at most that plus its distance to the
// range. fp16 storage of d and m adds |level| * |d| * 2^-11 and |m| * 2^-11
// (2^-10 allowed here, plus 2^-24 for fp16 subnormals).
struct LegacyBlockView {
  float d;
  float m;  // 0 for the symmetric formats
  int lowest, highest;
};

LegacyBlockView legacy_view(DType t, const uint8_t* block) {
  auto half = [&](size_t offset) {
    uint16_t h;
    std::memcpy(&h, block + offset, 2);
    return fp16_to_f32(h);
  };
  switch (t) {
    case DType::Q4_0:
      return {half(0), 0.0f, -8, 7};
    case DType::Q4_1:
      return {half(0), half(2), 0, 15};
    case DType::Q5_0:
      return {half(0), 0.0f, -16, 15};
    case DType::Q5_1:
      return {half(0), half(2), 0, 31};
    case DType::Q8_0:
      return {half(0), 0.0f, -127, 127};
    default:
      ADD_FAILURE();
      return {};
  }
}

TEST(QuantRoundTrip, LegacyBlocksStayWithinHalfAStep) {
  for (DType t : {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0}) {
    const auto& traits = dtype_traits(t);
    for (float sigma : {1.0f, 1e-3f, 300.0f}) {
      const std::vector<float> x = normal_data(32 * 512, 42, sigma);
      const std::vector<uint8_t> q = quantize(t, x);
      const std::vector<float> y = dequantize(t, q.data(), static_cast<int64_t>(x.size()));
      for (size_t b = 0; b < x.size() / 32; ++b) {
        const LegacyBlockView v = legacy_view(t, q.data() + b * traits.block_bytes);
        const float ends[2] = {v.lowest * v.d + v.m, v.highest * v.d + v.m};
        const float lo = std::min(ends[0], ends[1]);
        const float hi = std::max(ends[0], ends[1]);
        const int max_level = std::max(-v.lowest, v.highest);
        const double fp16_slack =
            max_level * (std::fabs(v.d) * 0x1p-10 + 0x1p-24) + std::fabs(v.m) * 0x1p-10 + 0x1p-24;
        for (size_t i = b * 32; i < b * 32 + 32; ++i) {
          const double outside = std::fabs(x[i] - std::clamp(x[i], lo, hi));
          const double bound = outside + std::fabs(v.d) / 2 + fp16_slack + 1e-6 * std::fabs(x[i]);
          ASSERT_LE(std::fabs(y[i] - x[i]), bound)
              << dtype_name(t) << " block " << b << " element " << i - b * 32 << " x=" << x[i];
        }
      }
    }
  }
}

TEST(QuantRoundTrip, Q8KStaysWithinHalfAStep) {
  const std::vector<float> x = normal_data(256 * 64, 9, 2.0f);
  std::vector<BlockQ8_K> blocks(x.size() / 256);
  quant::quantize_q8_k(x.data(), blocks.data(), static_cast<int64_t>(x.size()));
  std::vector<float> y(x.size());
  quant::dequantize_q8_k(blocks.data(), y.data(), static_cast<int64_t>(x.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    const float d = blocks[i / 256].d;
    ASSERT_LE(std::fabs(y[i] - x[i]), std::fabs(d) * 0.5f * (1 + 1e-5f)) << i;
  }
}

TEST(QuantRoundTrip, HalfPrecisionTypesRoundToNearest) {
  const std::vector<float> x = normal_data(4096, 5, 10.0f);
  const std::vector<float> h = round_trip(DType::F16, x);
  const std::vector<float> b = round_trip(DType::BF16, x);
  for (size_t i = 0; i < x.size(); ++i) {
    // Half an ulp: 2^-11 relative for fp16 normals (plus 2^-25 for subnormals), 2^-8 for bf16.
    EXPECT_LE(std::fabs(h[i] - x[i]), std::fabs(x[i]) * 0x1p-11f + 0x1p-25f) << x[i];
    EXPECT_LE(std::fabs(b[i] - x[i]), std::fabs(x[i]) * 0x1p-8f) << x[i];
  }
  EXPECT_EQ(round_trip(DType::F32, x), x);
}

// --- Exactly representable data comes back unchanged -----------------------

TEST(QuantExact, Q8_0IntegerMultiplesOfStep) {
  std::vector<float> x(64);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = static_cast<float>(static_cast<int>(i * 37 % 255) - 127) * 0.0625f;
  x[3] = 127 * 0.0625f;  // a full-scale value in each block fixes d = 1/16
  x[40] = -127 * 0.0625f;
  EXPECT_EQ(round_trip(DType::Q8_0, x), x);
}

TEST(QuantExact, LegacyFormatsOnTheirGrid) {
  // Symmetric formats: the largest magnitude must be the negative end level.
  std::vector<float> q4(32), q5(32), q41(32), q51(32);
  for (int i = 0; i < 32; ++i) {
    q4[i] = static_cast<float>(i % 16 - 8) * 0.25f;        // d = 0.25, levels -8..7
    q5[i] = static_cast<float>(i - 16) * 0.125f;           // d = 0.125, levels -16..15
    q41[i] = -1.5f + static_cast<float>(i % 16) * 0.25f;   // m = -1.5, d = 0.25
    q51[i] = -3.0f + static_cast<float>(31 - i) * 0.125f;  // m = -3, d = 0.125
  }
  EXPECT_EQ(round_trip(DType::Q4_0, q4), q4);
  EXPECT_EQ(round_trip(DType::Q5_0, q5), q5);
  EXPECT_EQ(round_trip(DType::Q4_1, q41), q41);
  EXPECT_EQ(round_trip(DType::Q5_1, q51), q51);
}

TEST(QuantExact, FloatTypesOnTheirGrid) {
  const std::vector<float> x = {0.0f, -0.0f, 1.0f, -2.5f, 65504.0f, 0x1p-24f, 0x1p-14f, 1000.5f};
  EXPECT_EQ(round_trip(DType::F16, x), x);
  const std::vector<float> xb = {0.0f, 1.0f, -3.140625f, 0x1p100f, 0x1p-120f, 65536.0f};
  EXPECT_EQ(round_trip(DType::BF16, xb), xb);
}

TEST(QuantExact, Q8KIntegers) {
  std::vector<float> x(256);
  for (int i = 0; i < 256; ++i) x[i] = static_cast<float>((i * 91) % 255 - 127);
  x[17] = -127.0f;  // the signed peak fixes the step to exactly 1
  EXPECT_EQ(round_trip(DType::Q8_K, x), x);
}

// K-quants: each group is an exact multiple of a step that is itself an exact
// 6-bit (or 4-bit / int8) multiple of an fp16-exact super-block scale. The
// scale search must find those steps and the scale rounding must snap to them.
std::vector<float> grid_with_offsets(int groups, int group_size, int levels, int scale_bits,
                                     float d, float dmin) {
  const int max_code = (1 << scale_bits) - 1;
  std::vector<float> x(static_cast<size_t>(groups * group_size));
  for (int g = 0; g < groups; ++g) {
    const int sc = g == 0 ? max_code : 1 + (g * 7) % max_code;
    const int m = g == 1 ? max_code : (g * 5) % (max_code + 1);
    for (int i = 0; i < group_size; ++i) {
      const int q = (i * 3 + g) % levels;  // every level appears in every group
      x[static_cast<size_t>(g * group_size + i)] = d * sc * q - dmin * m;
    }
  }
  return x;
}

TEST(QuantExact, AsymmetricKQuantsOnTheirGrid) {
  const std::vector<float> q4 = grid_with_offsets(8, 32, 16, 6, 1.0f / 64, 1.0f / 32);
  EXPECT_EQ(round_trip(DType::Q4_K, q4), q4);
  const std::vector<float> q5 = grid_with_offsets(8, 32, 32, 6, 1.0f / 128, 1.0f / 16);
  EXPECT_EQ(round_trip(DType::Q5_K, q5), q5);
  const std::vector<float> q2 = grid_with_offsets(16, 16, 4, 4, 1.0f / 16, 1.0f / 8);
  EXPECT_EQ(round_trip(DType::Q2_K, q2), q2);
}

// Symmetric K-quants: group g holds step_g * L with L covering the format's
// levels and including the most negative one, which anchors the group scale.
std::vector<float> symmetric_grid(int lowest, int highest, int scale_levels) {
  std::vector<float> x(256);
  for (int g = 0; g < 16; ++g) {
    const int k = g == 0 ? scale_levels : 1 + (g * 11) % scale_levels;
    const float step = static_cast<float>(k) / static_cast<float>(scale_levels);
    const int span = highest - lowest + 1;
    for (int i = 0; i < 16; ++i) {
      const int level = i == 0 ? lowest : lowest + (i * 5 + g) % span;
      x[static_cast<size_t>(16 * g + i)] = step * static_cast<float>(level);
    }
  }
  return x;
}

TEST(QuantExact, SymmetricKQuantsOnTheirGrid) {
  const std::vector<float> q3 = symmetric_grid(-4, 3, 32);
  EXPECT_EQ(round_trip(DType::Q3_K, q3), q3);
  const std::vector<float> q6 = symmetric_grid(-32, 31, 128);
  EXPECT_EQ(round_trip(DType::Q6_K, q6), q6);
}

// --- Degenerate inputs -------------------------------------------------------

TEST(QuantEdgeCases, ZeroBlocksDecodeToZeroWithZeroScales) {
  for (DType t : convertible()) {
    const std::vector<float> x(512, 0.0f);
    const std::vector<uint8_t> q = quantize(t, x);
    const std::vector<float> y = dequantize(t, q.data(), 512);
    for (float v : y) ASSERT_EQ(v, 0.0f) << dtype_name(t);
  }
  // Scale fields specifically (d and m / dmin must be 0, not NaN or tiny).
  std::vector<float> zeros(256, 0.0f);
  BlockQ4_1 q41[8];
  quant::quantize_q4_1(zeros.data(), q41, 256);
  EXPECT_EQ(q41[0].d, 0);
  EXPECT_EQ(q41[0].m, 0);
  BlockQ4_K q4k;
  quant::quantize_q4_k(zeros.data(), &q4k, 256);
  EXPECT_EQ(q4k.d, 0);
  EXPECT_EQ(q4k.dmin, 0);
  BlockQ2_K q2k;
  quant::quantize_q2_k(zeros.data(), &q2k, 256);
  EXPECT_EQ(q2k.d, 0);
  EXPECT_EQ(q2k.dmin, 0);
  BlockQ3_K q3k;
  quant::quantize_q3_k(zeros.data(), &q3k, 256);
  EXPECT_EQ(q3k.d, 0);
  BlockQ6_K q6k;
  quant::quantize_q6_k(zeros.data(), &q6k, 256);
  EXPECT_EQ(q6k.d, 0);
  BlockQ8_K q8k;
  quant::quantize_q8_k(zeros.data(), &q8k, 256);
  EXPECT_EQ(q8k.d, 0.0f);
  for (int16_t s : q8k.bsums) EXPECT_EQ(s, 0);
}

TEST(QuantEdgeCases, ConstantBlocksAreReproducedClosely) {
  for (DType t : convertible()) {
    for (float c : {0.7f, -0.7f, 3.0f, -1234.5f}) {
      const std::vector<float> x(512, c);
      const std::vector<float> y = round_trip(t, x);
      ASSERT_TRUE(all_finite(y)) << dtype_name(t) << " c=" << c;
      // fp16 rounding of the scale is the only error for most formats; the
      // asymmetric K-quants also round the min to 6 (Q2_K: 4) bits.
      const double tolerance = t == DType::Q2_K ? 0.04 : 0.01;
      for (float v : y) ASSERT_NEAR(v, c, std::fabs(c) * tolerance) << dtype_name(t) << " c=" << c;
    }
  }
}

TEST(QuantEdgeCases, OneHugeOutlierStaysFinite) {
  for (DType t : convertible()) {
    for (float outlier : {1e4f, -1e4f}) {
      std::vector<float> x = normal_data(512, 11);
      x[37] = outlier;
      x[300] = -outlier;
      const std::vector<float> y = round_trip(t, x);
      ASSERT_TRUE(all_finite(y)) << dtype_name(t);
      // The outlier sets the scale, so it comes back with about fp16 precision
      // (2-bit Q2_K's search may trade a little of it for the other values).
      const double tolerance = t == DType::Q2_K ? 0.1 : 0.01;
      EXPECT_NEAR(y[37], outlier, 1e4 * tolerance) << dtype_name(t);
      EXPECT_NEAR(y[300], -outlier, 1e4 * tolerance) << dtype_name(t);
    }
  }
}

TEST(QuantEdgeCases, TinyAndSubnormalValuesStayFinite) {
  for (DType t : convertible()) {
    for (float scale : {1e-10f, 1e-30f, 1e-40f}) {
      std::vector<float> x = normal_data(512, 13, scale);
      x[5] = 0.0f;
      const std::vector<float> y = round_trip(t, x);
      ASSERT_TRUE(all_finite(y)) << dtype_name(t) << " scale " << scale;
      for (size_t i = 0; i < x.size(); ++i) {
        // Anything below fp16's range may flush to zero, but never grow.
        ASSERT_LE(std::fabs(y[i]), 2 * std::fabs(x[i]) + 1e-6f) << dtype_name(t);
      }
    }
  }
}

TEST(QuantEdgeCases, PartialBlocksAreRejected) {
  float x[300] = {};
  uint8_t out[1024];
  EXPECT_THROW(quant::quantize_q4_0(x, out, 33), Error);
  EXPECT_THROW(quant::quantize_q4_k(x, out, 300), Error);
  EXPECT_THROW(quant::dequantize_q6_k(out, x, 255), Error);
}

// --- The K-quant scale searches beat plain min/max rounding -----------------

// Plain asymmetric quantizer: per group, step = (max - min) / nmax and offset
// = min, both kept in full float precision (an advantage the K-quant does not
// have: it rounds them to 6 or 4 bits).
double plain_min_max_rmse(const std::vector<float>& x, int group, int nmax) {
  std::vector<float> y(x.size());
  for (size_t g = 0; g < x.size(); g += static_cast<size_t>(group)) {
    const auto [lo_it, hi_it] = std::minmax_element(x.begin() + static_cast<long>(g),
                                                    x.begin() + static_cast<long>(g) + group);
    const float lo = *lo_it;
    const float step = (*hi_it - lo) / static_cast<float>(nmax);
    for (size_t i = g; i < g + static_cast<size_t>(group); ++i) {
      const float q = step > 0 ? std::round((x[i] - lo) / step) : 0.0f;
      y[i] = lo + q * step;
    }
  }
  return relative_rmse(x, y);
}

// Plain symmetric quantizer: step = max|x| / nmax_positive, float precision.
double plain_abs_max_rmse(const std::vector<float>& x, int group, int lowest, int highest) {
  std::vector<float> y(x.size());
  for (size_t g = 0; g < x.size(); g += static_cast<size_t>(group)) {
    float amax = 0;
    for (size_t i = g; i < g + static_cast<size_t>(group); ++i)
      amax = std::max(amax, std::fabs(x[i]));
    const float step = amax / static_cast<float>(highest);
    for (size_t i = g; i < g + static_cast<size_t>(group); ++i) {
      const float q =
          step > 0 ? std::clamp(std::round(x[i] / step), float(lowest), float(highest)) : 0.0f;
      y[i] = q * step;
    }
  }
  return relative_rmse(x, y);
}

TEST(QuantSearch, KQuantsBeatPlainRounding) {
  const std::vector<float> x = normal_data(256 * 256, 77);
  struct Case {
    DType type;
    double plain;
  };
  const Case cases[] = {
      {DType::Q2_K, plain_min_max_rmse(x, 16, 3)},
      {DType::Q3_K, plain_abs_max_rmse(x, 16, -4, 3)},
      {DType::Q4_K, plain_min_max_rmse(x, 32, 15)},
      {DType::Q5_K, plain_min_max_rmse(x, 32, 31)},
      {DType::Q6_K, plain_abs_max_rmse(x, 16, -32, 31)},
  };
  for (const Case& c : cases) {
    const double searched = relative_rmse(x, round_trip(c.type, x));
    std::printf("  %-5s searched %.5f vs plain float-scale %.5f\n", dtype_name(c.type).c_str(),
                searched, c.plain);
    EXPECT_LT(searched, c.plain) << dtype_name(c.type);
  }
}

}  // namespace
}  // namespace nomoat
