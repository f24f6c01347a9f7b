// Q4_0: 32 values per block, x = d * (q - 8) with q in 0..15.
#include <algorithm>
#include <cmath>

#include "base/fp16.h"
#include "tensor/blocks.h"
#include "tensor/quant/block_common.h"
#include "tensor/quant/quant.h"

namespace nomoat::quant {

void dequantize_q4_0(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ4_0*>(src);
  const int64_t nb = block_count(n, kQK, "Q4_0");
  for (int64_t b = 0; b < nb; ++b) {
    const float d = fp16_to_f32(blocks[b].d);
    const uint8_t* qs = blocks[b].qs;
    float* y = dst + b * kQK;
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = static_cast<float>((qs[j] & 15) - 8) * d;
      y[j + kQK / 2] = static_cast<float>((qs[j] >> 4) - 8) * d;
    }
  }
}

void quantize_q4_0(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ4_0*>(dst);
  const int64_t nb = block_count(n, kQK, "Q4_0");
  for (int64_t b = 0; b < nb; ++b) {
    const float* x = src + b * kQK;
    // The largest-magnitude value maps exactly onto level 0 (-8 * d), which
    // uses the extra negative level of the asymmetric range -8..7.
    const float peak = signed_peak(x, kQK);
    const float d = peak / -8;
    const float inv_d = safe_inverse(d);
    blocks[b].d = f32_to_fp16(d);
    // + 8.5 then truncation rounds half up on the shifted, non-negative level.
    for (int j = 0; j < kQK / 2; ++j) {
      const int lo = std::clamp(static_cast<int>(x[j] * inv_d + 8.5f), 0, 15);
      const int hi = std::clamp(static_cast<int>(x[j + kQK / 2] * inv_d + 8.5f), 0, 15);
      blocks[b].qs[j] = static_cast<uint8_t>(lo | (hi << 4));
    }
  }
}

}  // namespace nomoat::quant
