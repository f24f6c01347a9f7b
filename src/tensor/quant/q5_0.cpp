// Q5_0: 32 values per block, x = d * (q - 16) with q in 0..31. The low 4 bits
// of q are packed in nibbles as in Q4_0; the 5th bit of element j is bit j of
// qh read as a little-endian uint32.
#include <algorithm>
#include <cmath>

#include "base/fp16.h"
#include "tensor/blocks.h"
#include "tensor/quant/block_common.h"
#include "tensor/quant/quant.h"

namespace nomoat::quant {

void dequantize_q5_0(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ5_0*>(src);
  const int64_t nb = block_count(n, kQK, "Q5_0");
  for (int64_t b = 0; b < nb; ++b) {
    const float d = fp16_to_f32(blocks[b].d);
    const uint32_t high = load_le32(blocks[b].qh);
    const uint8_t* qs = blocks[b].qs;
    float* y = dst + b * kQK;
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = (qs[j] & 15) | static_cast<int>(((high >> j) & 1) << 4);
      const int q1 = (qs[j] >> 4) | static_cast<int>(((high >> (j + 16)) & 1) << 4);
      y[j] = static_cast<float>(q0 - 16) * d;
      y[j + kQK / 2] = static_cast<float>(q1 - 16) * d;
    }
  }
}

void quantize_q5_0(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ5_0*>(dst);
  const int64_t nb = block_count(n, kQK, "Q5_0");
  for (int64_t b = 0; b < nb; ++b) {
    const float* x = src + b * kQK;
    // As Q4_0: the largest-magnitude value maps onto the extra level -16.
    const float peak = signed_peak(x, kQK);
    const float d = peak / -16;
    const float inv_d = safe_inverse(d);
    blocks[b].d = f32_to_fp16(d);
    uint32_t high = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = std::clamp(static_cast<int>(x[j] * inv_d + 16.5f), 0, 31);
      const int q1 = std::clamp(static_cast<int>(x[j + kQK / 2] * inv_d + 16.5f), 0, 31);
      blocks[b].qs[j] = static_cast<uint8_t>((q0 & 15) | ((q1 & 15) << 4));
      high |= static_cast<uint32_t>(q0 >> 4) << j;
      high |= static_cast<uint32_t>(q1 >> 4) << (j + 16);
    }
    store_le32(high, blocks[b].qh);
  }
}

}  // namespace nomoat::quant
