// Q4_K: 256 values in 8 groups of 32, x = d * sc * q - dmin * m with q in
// 0..15 and 6-bit sc, m per group (packed, see unpack_scale_min).
//
// qs layout: each 64-value chunk c uses 32 bytes; byte l holds value l of the
// chunk (group 2c) in its low nibble and value l + 32 (group 2c + 1) in its
// high nibble.
#include "base/fp16.h"
#include "tensor/blocks.h"
#include "tensor/quant/block_common.h"
#include "tensor/quant/kquant_search.h"
#include "tensor/quant/quant.h"

namespace nomoat::quant {

void dequantize_q4_k(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ4_K*>(src);
  const int64_t nb = block_count(n, kQK_K, "Q4_K");
  for (int64_t b = 0; b < nb; ++b) {
    const BlockQ4_K& blk = blocks[b];
    const float d = fp16_to_f32(blk.d);
    const float dmin = fp16_to_f32(blk.dmin);
    float* y = dst + b * kQK_K;
    for (int g = 0; g < 8; ++g) {
      uint8_t sc, m;
      unpack_scale_min(g, blk.scales, &sc, &m);
      const float step = d * sc;
      const float offset = dmin * m;
      const uint8_t* q = blk.qs + 32 * (g / 2);
      const int shift = 4 * (g % 2);
      for (int l = 0; l < 32; ++l) {
        y[32 * g + l] = step * static_cast<float>((q[l] >> shift) & 15) - offset;
      }
    }
  }
}

void quantize_q4_k(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ4_K*>(dst);
  const int64_t nb = block_count(n, kQK_K, "Q4_K");
  ScaleMinSuperblock fit;
  for (int64_t b = 0; b < nb; ++b) {
    quantize_scale_min_superblock(src + b * kQK_K, 15, -1.0f, 20, &fit);
    BlockQ4_K& blk = blocks[b];
    blk.d = fit.d;
    blk.dmin = fit.dmin;
    for (int i = 0; i < kScalesK; ++i) blk.scales[i] = fit.scales[i];
    for (int chunk = 0; chunk < 4; ++chunk) {
      const uint8_t* lv = fit.levels + 64 * chunk;
      for (int l = 0; l < 32; ++l) {
        blk.qs[32 * chunk + l] = static_cast<uint8_t>(lv[l] | (lv[l + 32] << 4));
      }
    }
  }
}

}  // namespace nomoat::quant
