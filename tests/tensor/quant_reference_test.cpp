// Byte-exact agreement with llama.cpp.
//
// The digests below were computed from the output of ggml's own reference
// functions (quantize_row_*_ref, dequantize_row_*, ggml_fp32_to_fp16_row,
// ggml_fp32_to_bf16_row_ref and the matching to-f32 rows, from a llama.cpp
// build of 2025/2026) for reference_input(). Matching them means a file that
// nomoat quantizes is identical to one llama-quantize writes without an
// importance matrix, and nomoat decodes every value of such a file exactly as
// llama.cpp's reference decoder does. A change to any quantizer's arithmetic
// (even the order of a float sum) shows up here.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <vector>

#include "tensor/dtype.h"
#include "tensor/quant_test_util.h"

namespace nomoat {
namespace {

struct ReferenceDigest {
  DType type;
  uint64_t quantized;    // FNV-1a of the blocks
  uint64_t dequantized;  // FNV-1a of the decoded floats' bytes (little-endian)
};

constexpr ReferenceDigest kLlamaCppDigests[] = {
    {DType::Q4_0, 0x1498a654099966b4ull, 0x6850e0a68a300b93ull},
    {DType::Q4_1, 0x0926f9f88a639fd2ull, 0x1f17bb3ccc85479eull},
    {DType::Q5_0, 0x74edb01562568ee9ull, 0xd9bd780f895bbc57ull},
    {DType::Q5_1, 0x8b015a2e39642742ull, 0xc57386fb3565aa88ull},
    {DType::Q8_0, 0xb0b4f3c5dee1682bull, 0x9f6b99da168ba4f1ull},
    {DType::Q2_K, 0x4cb73042fef1272full, 0x8f11041dbed5c8c1ull},
    {DType::Q3_K, 0x93727a70405bd307ull, 0x876c96a016ef2b62ull},
    {DType::Q4_K, 0x35922e783a90b19full, 0x9cbc7b4282ad3d6dull},
    {DType::Q5_K, 0x1acf54f27283d124ull, 0xd6e0c5df7331d0c3ull},
    {DType::Q6_K, 0x468d73f4cca07f2aull, 0x10e7a6b00ad3b789ull},
    {DType::Q8_K, 0x3cb492c6a3bc892dull, 0x32518bde9d8cd0e7ull},
    {DType::F16, 0xeab4762e150e8147ull, 0x76c1524eb696a85cull},
    {DType::BF16, 0x6a56b27f4acfdf25ull, 0x6e3b5d2f0bed2fa5ull},
};

bool little_endian_host() {
  const uint32_t one = 1;
  uint8_t first;
  std::memcpy(&first, &one, 1);
  return first == 1;
}

TEST(QuantReference, MatchesLlamaCppByteForByte) {
  if (!little_endian_host()) GTEST_SKIP() << "digests are of little-endian bytes";
  const std::vector<float> x = quant_test::reference_input();
  const int64_t n = static_cast<int64_t>(x.size());
  for (const ReferenceDigest& ref : kLlamaCppDigests) {
    const std::vector<uint8_t> q = quant_test::quantize(ref.type, x);
    const std::vector<float> y = quant_test::dequantize(ref.type, q.data(), n);
    std::vector<uint8_t> y_bytes(y.size() * sizeof(float));
    std::memcpy(y_bytes.data(), y.data(), y_bytes.size());
    EXPECT_EQ(quant_test::fnv1a(q), ref.quantized) << dtype_name(ref.type) << " blocks";
    EXPECT_EQ(quant_test::fnv1a(y_bytes), ref.dequantized)
        << dtype_name(ref.type) << " decoded values";
  }
}

// Every convertible type except F32 (a plain copy) is covered above.
TEST(QuantReference, CoversEveryConvertibleType) {
  size_t count = 0;
  const DType* types = convertible_dtypes(&count);
  for (size_t i = 0; i < count; ++i) {
    if (types[i] == DType::F32) continue;
    bool found = false;
    for (const ReferenceDigest& ref : kLlamaCppDigests) found = found || ref.type == types[i];
    EXPECT_TRUE(found) << dtype_name(types[i]);
  }
}

}  // namespace
}  // namespace nomoat
