// Q4_1: 32 values per block, x = d * q + m with q in 0..15 and m the block minimum.
#include <algorithm>

#include "base/fp16.h"
#include "tensor/blocks.h"
#include "tensor/quant/block_common.h"
#include "tensor/quant/quant.h"

namespace nomoat::quant {

void dequantize_q4_1(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ4_1*>(src);
  const int64_t nb = block_count(n, kQK, "Q4_1");
  for (int64_t b = 0; b < nb; ++b) {
    const float d = fp16_to_f32(blocks[b].d);
    const float m = fp16_to_f32(blocks[b].m);
    const uint8_t* qs = blocks[b].qs;
    float* y = dst + b * kQK;
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = static_cast<float>(qs[j] & 15) * d + m;
      y[j + kQK / 2] = static_cast<float>(qs[j] >> 4) * d + m;
    }
  }
}

void quantize_q4_1(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ4_1*>(dst);
  const int64_t nb = block_count(n, kQK, "Q4_1");
  for (int64_t b = 0; b < nb; ++b) {
    const float* x = src + b * kQK;
    float lo = x[0];
    float hi = x[0];
    for (int i = 1; i < kQK; ++i) {
      lo = std::min(lo, x[i]);
      hi = std::max(hi, x[i]);
    }
    const float d = (hi - lo) / 15;
    const float inv_d = safe_inverse(d);
    blocks[b].d = f32_to_fp16(d);
    blocks[b].m = f32_to_fp16(lo);
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = std::clamp(static_cast<int>((x[j] - lo) * inv_d + 0.5f), 0, 15);
      const int q1 = std::clamp(static_cast<int>((x[j + kQK / 2] - lo) * inv_d + 0.5f), 0, 15);
      blocks[b].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

}  // namespace nomoat::quant
