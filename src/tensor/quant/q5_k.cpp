// Q5_K: Q4_K with q in 0..31. The low 4 bits of q are laid out as in Q4_K;
// the 5th bit of value l of 64-value chunk c is bit 2c of qh[l] for the first
// 32 values of the chunk (low nibbles) and bit 2c + 1 of qh[l - 32] for the rest.
#include "base/fp16.h"
#include "tensor/blocks.h"
#include "tensor/quant/block_common.h"
#include "tensor/quant/kquant_search.h"
#include "tensor/quant/quant.h"

namespace nomoat::quant {

void dequantize_q5_k(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ5_K*>(src);
  const int64_t nb = block_count(n, kQK_K, "Q5_K");
  for (int64_t b = 0; b < nb; ++b) {
    const BlockQ5_K& blk = blocks[b];
    const float d = fp16_to_f32(blk.d);
    const float dmin = fp16_to_f32(blk.dmin);
    float* y = dst + b * kQK_K;
    for (int g = 0; g < 8; ++g) {
      uint8_t sc, m;
      unpack_scale_min(g, blk.scales, &sc, &m);
      const float step = d * sc;
      const float offset = dmin * m;
      const uint8_t* q = blk.qs + 32 * (g / 2);
      const int shift = 4 * (g % 2);  // group g: low nibbles if even, high if odd
      for (int l = 0; l < 32; ++l) {
        const int level = ((q[l] >> shift) & 15) | (((blk.qh[l] >> g) & 1) << 4);
        y[32 * g + l] = step * static_cast<float>(level) - offset;
      }
    }
  }
}

void quantize_q5_k(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ5_K*>(dst);
  const int64_t nb = block_count(n, kQK_K, "Q5_K");
  ScaleMinSuperblock fit;
  for (int64_t b = 0; b < nb; ++b) {
    quantize_scale_min_superblock(src + b * kQK_K, 31, -0.5f, 15, &fit);
    BlockQ5_K& blk = blocks[b];
    blk.d = fit.d;
    blk.dmin = fit.dmin;
    for (int i = 0; i < kScalesK; ++i) blk.scales[i] = fit.scales[i];
    // Group g's 5th bits are bit g of qh[0..31], since group g = 2c or 2c + 1.
    for (int l = 0; l < 32; ++l) {
      int high = 0;
      for (int g = 0; g < 8; ++g) high |= (fit.levels[32 * g + l] >> 4) << g;
      blk.qh[l] = static_cast<uint8_t>(high);
    }
    for (int chunk = 0; chunk < 4; ++chunk) {
      const uint8_t* lv = fit.levels + 64 * chunk;
      for (int l = 0; l < 32; ++l) {
        blk.qs[32 * chunk + l] = static_cast<uint8_t>((lv[l] & 15) | ((lv[l + 32] & 15) << 4));
      }
    }
  }
}

}  // namespace nomoat::quant
