// Q8_K: 256 int8 values with a float scale and the sums of each 16-value
// group. It is the activation side of K-quant dot products: the group sums
// let a kernel apply Q2_K..Q5_K group minimums without touching the values.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "tensor/blocks.h"
#include "tensor/quant/block_common.h"
#include "tensor/quant/kquant_search.h"
#include "tensor/quant/quant.h"

namespace nomoat::quant {

void dequantize_q8_k(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ8_K*>(src);
  const int64_t nb = block_count(n, kQK_K, "Q8_K");
  for (int64_t b = 0; b < nb; ++b) {
    const float d = blocks[b].d;
    float* y = dst + b * kQK_K;
    for (int i = 0; i < kQK_K; ++i) y[i] = d * static_cast<float>(blocks[b].qs[i]);
  }
}

void quantize_q8_k(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ8_K*>(dst);
  const int64_t nb = block_count(n, kQK_K, "Q8_K");
  for (int64_t b = 0; b < nb; ++b) {
    const float* x = src + b * kQK_K;
    BlockQ8_K& blk = blocks[b];
    const float peak = signed_peak(x, kQK_K);
    // The peak maps onto -127 (not -128) so every level also fits negated.
    const float inv_d = peak != 0 ? -127.0f / peak : 0.0f;
    if (!std::isfinite(inv_d) || inv_d == 0) {  // all zero, or too small to scale
      std::memset(&blk, 0, sizeof blk);
      continue;
    }
    for (int i = 0; i < kQK_K; ++i) {
      blk.qs[i] = static_cast<int8_t>(std::clamp(nearest_int(inv_d * x[i]), -127, 127));
    }
    for (int g = 0; g < kQK_K / 16; ++g) {
      int sum = 0;
      for (int i = 0; i < 16; ++i) sum += blk.qs[16 * g + i];
      blk.bsums[g] = static_cast<int16_t>(sum);
    }
    blk.d = 1 / inv_d;
  }
}

}  // namespace nomoat::quant
