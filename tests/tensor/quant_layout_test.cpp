// Hand-built blocks: every field filled byte by byte, the expected value of
// each element derived from the GGUF layout one element at a time (index
// arithmetic rather than the decoders' loops), and compared exactly.
//
// Scales are powers of two and levels small integers, so every expected value
// is exact whatever the order of the multiplications.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "tensor/blocks.h"
#include "tensor/dtype.h"
#include "tensor/quant/quant.h"

namespace nomoat {
namespace {

constexpr uint16_t kHalfOne = 0x3C00;       // 1.0
constexpr uint16_t kHalfHalf = 0x3800;      // 0.5
constexpr uint16_t kHalfQuarter = 0x3400;   // 0.25
constexpr uint16_t kHalfMinusTwo = 0xC000;  // -2.0
constexpr uint16_t kHalfEighth = 0x3000;    // 0.125

// Deterministic byte pattern that sets every bit position somewhere.
void fill_bytes(uint8_t* p, size_t n, uint32_t seed) {
  uint32_t s = seed;
  for (size_t i = 0; i < n; ++i) {
    s = s * 1664525u + 1013904223u;
    p[i] = static_cast<uint8_t>(s >> 24);
  }
}

template <typename Block>
std::vector<float> decode(DType t, const Block& block) {
  const int64_t n = dtype_traits(t).block_size;
  EXPECT_EQ(sizeof(Block), dtype_traits(t).block_bytes);
  std::vector<float> out(static_cast<size_t>(n));
  dtype_traits(t).dequantize(&block, out.data(), n);
  return out;
}

int nibble(uint8_t byte, bool high) { return high ? byte >> 4 : byte & 15; }
int bit(uint32_t word, int index) { return static_cast<int>((word >> index) & 1); }

TEST(QuantLayout, Q4_0) {
  BlockQ4_0 b;
  b.d = kHalfHalf;
  fill_bytes(b.qs, sizeof b.qs, 1);
  const std::vector<float> y = decode(DType::Q4_0, b);
  for (int i = 0; i < 32; ++i) {
    const int q = nibble(b.qs[i % 16], i >= 16);
    EXPECT_EQ(y[i], 0.5 * (q - 8)) << i;
  }
}

TEST(QuantLayout, Q4_1) {
  BlockQ4_1 b;
  b.d = kHalfQuarter;
  b.m = kHalfMinusTwo;
  fill_bytes(b.qs, sizeof b.qs, 2);
  const std::vector<float> y = decode(DType::Q4_1, b);
  for (int i = 0; i < 32; ++i) {
    const int q = nibble(b.qs[i % 16], i >= 16);
    EXPECT_EQ(y[i], 0.25 * q - 2.0) << i;
  }
}

TEST(QuantLayout, Q5_0) {
  BlockQ5_0 b;
  b.d = kHalfQuarter;
  fill_bytes(b.qh, sizeof b.qh, 3);
  fill_bytes(b.qs, sizeof b.qs, 4);
  const uint32_t qh = b.qh[0] | b.qh[1] << 8 | b.qh[2] << 16 | static_cast<uint32_t>(b.qh[3]) << 24;
  const std::vector<float> y = decode(DType::Q5_0, b);
  for (int i = 0; i < 32; ++i) {
    // Element i's 5th bit is bit i of qh (j for the low nibbles, j + 16 for the high).
    const int q = nibble(b.qs[i % 16], i >= 16) + 16 * bit(qh, i);
    EXPECT_EQ(y[i], 0.25 * (q - 16)) << i;
  }
}

TEST(QuantLayout, Q5_1) {
  BlockQ5_1 b;
  b.d = kHalfEighth;
  b.m = kHalfOne;
  fill_bytes(b.qh, sizeof b.qh, 5);
  fill_bytes(b.qs, sizeof b.qs, 6);
  const uint32_t qh = b.qh[0] | b.qh[1] << 8 | b.qh[2] << 16 | static_cast<uint32_t>(b.qh[3]) << 24;
  const std::vector<float> y = decode(DType::Q5_1, b);
  for (int i = 0; i < 32; ++i) {
    const int q = nibble(b.qs[i % 16], i >= 16) + 16 * bit(qh, i);
    EXPECT_EQ(y[i], 0.125 * q + 1.0) << i;
  }
}

TEST(QuantLayout, Q5HighBitsAreLittleEndian) {
  // Only byte 2 of qh set: elements 16..23 get their 5th bit, no others.
  BlockQ5_0 b;
  b.d = kHalfOne;
  std::memset(b.qs, 0, sizeof b.qs);
  std::memset(b.qh, 0, sizeof b.qh);
  b.qh[2] = 0xFF;
  const std::vector<float> y = decode(DType::Q5_0, b);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(y[i], (i >= 16 && i < 24) ? 0.0f : -16.0f) << i;
}

TEST(QuantLayout, Q8_0) {
  BlockQ8_0 b;
  b.d = kHalfQuarter;
  fill_bytes(reinterpret_cast<uint8_t*>(b.qs), sizeof b.qs, 7);
  b.qs[0] = -128;  // the extreme code decodes too, though quantizers never write it
  const std::vector<float> y = decode(DType::Q8_0, b);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(y[i], 0.25 * b.qs[i]) << i;
}

TEST(QuantLayout, Q2_K) {
  BlockQ2_K b;
  b.d = kHalfHalf;
  b.dmin = kHalfQuarter;
  fill_bytes(b.scales, sizeof b.scales, 8);
  fill_bytes(b.qs, sizeof b.qs, 9);
  const std::vector<float> y = decode(DType::Q2_K, b);
  for (int i = 0; i < 256; ++i) {
    const int half = i / 128, r = i % 128;
    const int q = (b.qs[32 * half + r % 32] >> (2 * (r / 32))) & 3;
    const int sc = b.scales[i / 16] & 15, m = b.scales[i / 16] >> 4;
    EXPECT_EQ(y[i], 0.5 * sc * q - 0.25 * m) << i;
  }
}

// Q3_K's 6-bit scale of group j, straight from the layout description.
int q3k_scale(const uint8_t* s, int j) {
  const int low = j < 8 ? s[j] & 15 : s[j - 8] >> 4;
  const int high = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
  return low + 16 * high;
}

TEST(QuantLayout, Q3_K) {
  BlockQ3_K b;
  b.d = kHalfQuarter;
  fill_bytes(b.hmask, sizeof b.hmask, 10);
  fill_bytes(b.qs, sizeof b.qs, 11);
  fill_bytes(b.scales, sizeof b.scales, 12);
  const std::vector<float> y = decode(DType::Q3_K, b);
  for (int i = 0; i < 256; ++i) {
    const int half = i / 128, r = i % 128;
    const int low = (b.qs[32 * half + r % 32] >> (2 * (r / 32))) & 3;
    const bool high_set = (b.hmask[i % 32] >> (i / 32)) & 1;
    const int q = low - (high_set ? 0 : 4);
    EXPECT_EQ(y[i], 0.25 * (q3k_scale(b.scales, i / 16) - 32) * q) << i;
  }
}

TEST(QuantLayout, Q3_KScaleBitsLandInTheRightGroups) {
  // Scale byte 8 bits 2-3 are the top bits of group 4; bits 4-5 of group 8.
  BlockQ3_K b;
  std::memset(&b, 0, sizeof b);
  b.d = kHalfOne;
  std::memset(b.hmask, 0xFF, sizeof b.hmask);
  std::memset(b.qs, 0x55, sizeof b.qs);  // every level 1, high bit set: q = 1
  b.scales[8] = 0x0C | 0x10;
  const std::vector<float> y = decode(DType::Q3_K, b);
  for (int i = 0; i < 256; ++i) {
    const int group = i / 16;
    const int expected = group == 4 ? 48 - 32 : group == 8 ? 16 - 32 : -32;
    EXPECT_EQ(y[i], expected) << i;
  }
}

// Q4_K / Q5_K 6-bit scale and min of group j from the 12 packed bytes.
void k4_scale_min(const uint8_t* s, int j, int* sc, int* m) {
  if (j < 4) {
    *sc = s[j] % 64;
    *m = s[j + 4] % 64;
  } else {
    *sc = (s[j + 4] % 16) + 16 * (s[j - 4] / 64);
    *m = (s[j + 4] / 16) + 16 * (s[j] / 64);
  }
}

TEST(QuantLayout, Q4_K) {
  BlockQ4_K b;
  b.d = kHalfHalf;
  b.dmin = kHalfEighth;
  fill_bytes(b.scales, sizeof b.scales, 13);
  fill_bytes(b.qs, sizeof b.qs, 14);
  const std::vector<float> y = decode(DType::Q4_K, b);
  for (int i = 0; i < 256; ++i) {
    const int chunk = i / 64, r = i % 64;
    const int q = nibble(b.qs[32 * chunk + r % 32], r >= 32);
    int sc, m;
    k4_scale_min(b.scales, i / 32, &sc, &m);
    EXPECT_EQ(y[i], 0.5 * sc * q - 0.125 * m) << i;
  }
}

TEST(QuantLayout, Q5_K) {
  BlockQ5_K b;
  b.d = kHalfQuarter;
  b.dmin = kHalfHalf;
  fill_bytes(b.scales, sizeof b.scales, 15);
  fill_bytes(b.qh, sizeof b.qh, 16);
  fill_bytes(b.qs, sizeof b.qs, 17);
  const std::vector<float> y = decode(DType::Q5_K, b);
  for (int i = 0; i < 256; ++i) {
    const int chunk = i / 64, r = i % 64;
    // Bit 2c of qh[l] for the chunk's first 32 values, bit 2c + 1 for the rest.
    const int high = (b.qh[r % 32] >> (2 * chunk + (r >= 32 ? 1 : 0))) & 1;
    const int q = nibble(b.qs[32 * chunk + r % 32], r >= 32) + 16 * high;
    int sc, m;
    k4_scale_min(b.scales, i / 32, &sc, &m);
    EXPECT_EQ(y[i], 0.25 * sc * q - 0.5 * m) << i;
  }
}

TEST(QuantLayout, Q4_KScaleBitsLandInTheRightGroups) {
  // Groups 4-7 borrow the top bits of bytes 0-7: set only those.
  BlockQ4_K b;
  std::memset(&b, 0, sizeof b);
  b.d = kHalfOne;
  b.dmin = kHalfOne;
  std::memset(b.qs, 0x11, sizeof b.qs);  // every q = 1
  b.scales[1] = 0xC0;                    // scale of group 5: top bits 3 -> 48
  b.scales[6] = 0x40;                    // min of group 6: top bits 1 -> 16
  const std::vector<float> y = decode(DType::Q4_K, b);
  for (int i = 0; i < 256; ++i) {
    const int group = i / 32;
    const float expected = group == 5 ? 48.0f : group == 6 ? -16.0f : 0.0f;
    EXPECT_EQ(y[i], expected) << i;
  }
}

TEST(QuantLayout, Q6_K) {
  BlockQ6_K b;
  b.d = kHalfEighth;
  fill_bytes(b.ql, sizeof b.ql, 18);
  fill_bytes(b.qh, sizeof b.qh, 19);
  fill_bytes(reinterpret_cast<uint8_t*>(b.scales), sizeof b.scales, 20);
  b.scales[3] = -128;
  const std::vector<float> y = decode(DType::Q6_K, b);
  for (int i = 0; i < 256; ++i) {
    const int half = i / 128, r = i % 128;
    const int quarter = r / 32, l = r % 32;  // value l of quarter k: ql nibble and qh bits 2k
    const int low = nibble(b.ql[64 * half + l + 32 * (quarter % 2)], quarter >= 2);
    const int high = (b.qh[32 * half + l] >> (2 * quarter)) & 3;
    const int q = low + 16 * high - 32;
    EXPECT_EQ(y[i], 0.125 * b.scales[i / 16] * q) << i;
  }
}

TEST(QuantLayout, Q8_K) {
  BlockQ8_K b;
  b.d = -0.375f;
  fill_bytes(reinterpret_cast<uint8_t*>(b.qs), sizeof b.qs, 21);
  fill_bytes(reinterpret_cast<uint8_t*>(b.bsums), sizeof b.bsums, 22);  // not used to decode
  const std::vector<float> y = decode(DType::Q8_K, b);
  for (int i = 0; i < 256; ++i) EXPECT_EQ(y[i], -0.375 * b.qs[i]) << i;
}

TEST(QuantLayout, Q8_KGroupSums) {
  std::vector<float> x(256);
  for (int i = 0; i < 256; ++i) x[i] = static_cast<float>((i * 29) % 200 - 100) * 0.01f;
  BlockQ8_K b;
  quant::quantize_q8_k(x.data(), &b, 256);
  for (int g = 0; g < 16; ++g) {
    int sum = 0;
    for (int i = 16 * g; i < 16 * g + 16; ++i) sum += b.qs[i];
    EXPECT_EQ(b.bsums[g], sum) << g;
  }
}

TEST(QuantLayout, HalfAndBFloat16) {
  const uint16_t halves[] = {0x3C00, 0xC000, 0x7BFF, 0x0001, 0x8400, 0x3555, 0x0000, 0x8000};
  const float half_values[] = {1.0f,      -2.0f,       65504.0f, 0x1p-24f,
                               -0x1p-14f, 0x1.554p-2f, 0.0f,     -0.0f};
  float y[8];
  quant::dequantize_f16(halves, y, 8);
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(y[i], half_values[i]) << i;
    EXPECT_EQ(std::signbit(y[i]), std::signbit(half_values[i])) << i;
  }
  const uint16_t bf[] = {0x3F80, 0x4049, 0xC2F7, 0x0080};
  const float bf_values[] = {1.0f, 3.140625f, -123.5f, 0x1p-126f};
  quant::dequantize_bf16(bf, y, 4);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(y[i], bf_values[i]) << i;

  // Encoding: ties go to even, out-of-range values saturate to infinity.
  const float x[] = {1.0f + 0x1p-11f, 1.0f + 3 * 0x1p-11f, 70000.0f, -0x1p-25f};
  uint16_t h[4];
  quant::quantize_f16(x, h, 4);
  EXPECT_EQ(h[0], 0x3C00);
  EXPECT_EQ(h[1], 0x3C02);
  EXPECT_EQ(h[2], 0x7C00);
  EXPECT_EQ(h[3], 0x8000);
  const float xb[] = {1.0f + 0x1p-8f, 1.0f + 3 * 0x1p-8f};
  uint16_t b16[2];
  quant::quantize_bf16(xb, b16, 2);
  EXPECT_EQ(b16[0], 0x3F80);
  EXPECT_EQ(b16[1], 0x3F82);
}

TEST(QuantLayout, WideAndIntegerTypesConvertToFloat) {
  float y[4];
  const double f64[] = {1.5, -2.25, 1e300, 0x1.000001p0};  // last one rounds to nearest float
  quant::dequantize_f64(f64, y, 4);
  EXPECT_EQ(y[0], 1.5f);
  EXPECT_EQ(y[1], -2.25f);
  EXPECT_TRUE(std::isinf(y[2]));
  EXPECT_EQ(y[3], 1.0f);
  const int8_t i8[] = {-128, 127, 0, -1};
  quant::dequantize_i8(i8, y, 4);
  EXPECT_EQ(y[0], -128.0f);
  EXPECT_EQ(y[1], 127.0f);
  EXPECT_EQ(y[3], -1.0f);
  const int16_t i16[] = {-32768, 32767, 5, -7};
  quant::dequantize_i16(i16, y, 4);
  EXPECT_EQ(y[0], -32768.0f);
  EXPECT_EQ(y[1], 32767.0f);
  const int32_t i32[] = {-2147483647 - 1, 16777217, 3, -4};
  quant::dequantize_i32(i32, y, 4);
  EXPECT_EQ(y[0], -2147483648.0f);
  EXPECT_EQ(y[1], 16777216.0f);  // nearest float
  const int64_t i64[] = {int64_t{1} << 40, -5, 0, 9};
  quant::dequantize_i64(i64, y, 4);
  EXPECT_EQ(y[0], 0x1p40f);
  EXPECT_EQ(y[1], -5.0f);

  // Sources straight from a mapped file need not be aligned.
  alignas(8) uint8_t raw[1 + sizeof(double)];
  const double v = -0.5;
  std::memcpy(raw + 1, &v, sizeof v);
  quant::dequantize_f64(raw + 1, y, 1);
  EXPECT_EQ(y[0], -0.5f);
}

TEST(QuantLayout, F32IsACopy) {
  const float x[] = {1.0f, -0.0f, 3.4e38f, 1e-45f};
  float q[4], y[4];
  quant::quantize_f32(x, q, 4);
  quant::dequantize_f32(q, y, 4);
  EXPECT_EQ(std::memcmp(x, y, sizeof x), 0);
}

}  // namespace
}  // namespace nomoat
