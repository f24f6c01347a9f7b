// The fast dequantizers (kernels/dequantize.h) against the tensor layer's
// reference ones: the same floats, bit for bit.
#include "kernels/dequantize.h"

#include <gtest/gtest.h>

#include <bit>
#include <cstring>
#include <vector>

#include "base/fp16.h"
#include "kernels/fast_matmul.h"
#include "tensor/dtype.h"
#include "test_rng.h"

namespace nomoat::kernels {
namespace {

using testing_util::Rng;

struct Case {
  DType type;
  DequantizeRowFn FastDequantizers::*fast;
};

const Case kCases[] = {{DType::Q4_1, &FastDequantizers::q4_1}, {DType::Q5_0, &FastDequantizers::q5_0},
                       {DType::Q5_1, &FastDequantizers::q5_1}, {DType::Q2_K, &FastDequantizers::q2_k},
                       {DType::Q3_K, &FastDequantizers::q3_k}, {DType::Q5_K, &FastDequantizers::q5_k}};

void expect_same_floats(DequantizeRowFn fast, const DTypeTraits& t, const std::vector<uint8_t>& blocks, int64_t n,
                        const char* what) {
  std::vector<float> want(static_cast<size_t>(n)), got(static_cast<size_t>(n), -7.0f);
  t.dequantize(blocks.data(), want.data(), n);
  fast(blocks.data(), got.data(), n);
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_EQ(std::bit_cast<uint32_t>(got[static_cast<size_t>(i)]), std::bit_cast<uint32_t>(want[static_cast<size_t>(i)]))
        << t.name << " " << what << " value " << i << ": " << got[static_cast<size_t>(i)] << " vs "
        << want[static_cast<size_t>(i)];
  }
}

TEST(FastDequantize, SameFloatsAsTheReference) {
  if (!isa_supported(Isa::Avx512)) GTEST_SKIP() << "this CPU has no AVX-512";
  Rng rng(12);
  for (const Case& c : kCases) {
    const DequantizeRowFn fast = kAvx512Dequantizers.*c.fast;
    ASSERT_NE(fast, nullptr) << dtype_name(c.type);
    if (active_isa() == Isa::Avx512) EXPECT_EQ(fast_dequantizer(c.type), fast) << dtype_name(c.type);
    const DTypeTraits& t = dtype_traits(c.type);
    const int64_t n = 7 * t.block_size;  // an odd number of blocks
    std::vector<uint8_t> blocks(dtype_row_bytes(c.type, n));
    // Quantized data, as models hold it.
    std::vector<float> x(static_cast<size_t>(n));
    for (auto& v : x) v = 3.0f * rng.uniform() + 0.5f;
    t.quantize(x.data(), blocks.data(), n);
    expect_same_floats(fast, t, blocks, n, "quantized");
    // Every bit pattern of the quants and scales: random bytes, with the
    // fp16 scale fields then set to finite values (below).
    for (int rep = 0; rep < 20; ++rep) {
      for (auto& b : blocks) b = static_cast<uint8_t>(rng.next());
      for (int64_t b = 0; b < n / t.block_size; ++b) {
        uint8_t* blk = blocks.data() + static_cast<size_t>(b) * t.block_bytes;
        const uint16_t d = f32_to_fp16(rng.uniform(-2.0f, 2.0f)), m = f32_to_fp16(rng.uniform(-2.0f, 2.0f));
        // Where each type keeps its fp16 fields (tensor/blocks.h).
        switch (c.type) {
          case DType::Q4_1:
          case DType::Q5_1:
          case DType::Q5_0:
            std::memcpy(blk, &d, 2);
            if (c.type != DType::Q5_0) std::memcpy(blk + 2, &m, 2);
            break;
          case DType::Q2_K:  // d, dmin last
            std::memcpy(blk + t.block_bytes - 4, &d, 2);
            std::memcpy(blk + t.block_bytes - 2, &m, 2);
            break;
          case DType::Q3_K:  // d last
            std::memcpy(blk + t.block_bytes - 2, &d, 2);
            break;
          case DType::Q5_K:  // d, dmin first
            std::memcpy(blk, &d, 2);
            std::memcpy(blk + 2, &m, 2);
            break;
          default: break;
        }
      }
      expect_same_floats(fast, t, blocks, n, "random bytes");
    }
  }
}

TEST(FastDequantize, FallsBackToTheReference) {
  // Types without a fast version get the reference dequantizer.
  EXPECT_EQ(fast_dequantizer(DType::Q6_K), dtype_traits(DType::Q6_K).dequantize);
  EXPECT_EQ(fast_dequantizer(DType::F16), dtype_traits(DType::F16).dequantize);
  EXPECT_EQ(fast_dequantizer(DType::IQ4_XS), nullptr);
}

}  // namespace
}  // namespace nomoat::kernels
