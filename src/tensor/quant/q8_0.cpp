// Q8_0: 32 values per block, x = d * q with q in -127..127.
#include <algorithm>
#include <cmath>

#include "base/fp16.h"
#include "tensor/blocks.h"
#include "tensor/quant/block_common.h"
#include "tensor/quant/quant.h"

namespace nomoat::quant {

void dequantize_q8_0(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ8_0*>(src);
  const int64_t nb = block_count(n, kQK, "Q8_0");
  for (int64_t b = 0; b < nb; ++b) {
    const float d = fp16_to_f32(blocks[b].d);
    float* y = dst + b * kQK;
    for (int j = 0; j < kQK; ++j) y[j] = static_cast<float>(blocks[b].qs[j]) * d;
  }
}

void quantize_q8_0(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ8_0*>(dst);
  const int64_t nb = block_count(n, kQK, "Q8_0");
  for (int64_t b = 0; b < nb; ++b) {
    const float* x = src + b * kQK;
    float amax = 0;
    for (int i = 0; i < kQK; ++i) amax = std::max(amax, std::fabs(x[i]));
    const float d = amax / 127;
    const float inv_d = safe_inverse(d);
    blocks[b].d = f32_to_fp16(d);
    // Round half away from zero, as llama.cpp does for this format.
    for (int j = 0; j < kQK; ++j) {
      blocks[b].qs[j] = static_cast<int8_t>(std::clamp(std::round(x[j] * inv_d), -127.0f, 127.0f));
    }
  }
}

}  // namespace nomoat::quant
