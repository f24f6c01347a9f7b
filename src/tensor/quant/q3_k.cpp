// Q3_K: 256 values in 16 groups of 16, x = d * (sc - 32) * (q - 4) with q in
// 0..7 and a 6-bit scale sc per group.
//
// q's low 2 bits live in qs like Q2_K's levels (group 2k of a half at bytes
// 0..15, group 2k + 1 at bytes 16..31, shift 2 * (k % 4)); its high bit for
// value i is bit i / 32 of hmask[i % 32]. Scale j keeps its low 4 bits in
// scales[j % 8] (low nibble for j < 8, high nibble for j >= 8) and its top 2
// bits at bit 2 * (j / 4) of scales[8 + j % 4].
#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/fp16.h"
#include "tensor/blocks.h"
#include "tensor/quant/block_common.h"
#include "tensor/quant/kquant_search.h"
#include "tensor/quant/quant.h"

namespace nomoat::quant {
namespace {

constexpr int kGroupSize = 16;
constexpr int kGroups = kQK_K / kGroupSize;

}  // namespace

void dequantize_q3_k(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ3_K*>(src);
  const int64_t nb = block_count(n, kQK_K, "Q3_K");
  for (int64_t b = 0; b < nb; ++b) {
    const BlockQ3_K& blk = blocks[b];
    const float d = fp16_to_f32(blk.d);
    float* y = dst + b * kQK_K;
    for (int g = 0; g < kGroups; ++g) {
      const int first = 16 * (g % 2);  // byte of qs / hmask within the half
      const uint8_t* q = blk.qs + 32 * (g / 8) + first;
      const uint8_t* hm = blk.hmask + first;
      const int shift = 2 * ((g % 8) / 2);
      const int high_bit = g / 2;  // = value index / 32
      const float step = d * static_cast<float>(unpack_q3_k_scale(blk.scales, g) - 32);
      for (int l = 0; l < kGroupSize; ++l) {
        const int low = (q[l] >> shift) & 3;
        const int level = low - (((hm[l] >> high_bit) & 1) ? 0 : 4);
        y[g * kGroupSize + l] = step * static_cast<float>(level);
      }
    }
  }
}

void quantize_q3_k(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ3_K*>(dst);
  const int64_t nb = block_count(n, kQK_K, "Q3_K");
  int8_t levels[kQK_K];
  float group_scale[kGroups];
  for (int64_t b = 0; b < nb; ++b) {
    const float* x = src + b * kQK_K;
    BlockQ3_K& blk = blocks[b];
    // Signed scales: keep the sign of the largest so it maps onto -32.
    float peak_scale = 0;
    float peak_abs = 0;
    for (int g = 0; g < kGroups; ++g) {
      group_scale[g] =
          fit_signed_scale_refined(kGroupSize, 4, x + g * kGroupSize, levels + g * kGroupSize);
      if (std::abs(group_scale[g]) > peak_abs) {
        peak_abs = std::abs(group_scale[g]);
        peak_scale = group_scale[g];
      }
    }

    std::memset(blk.scales, 0, sizeof blk.scales);
    if (peak_scale != 0) {
      const float to_6bit = -32.0f / peak_scale;
      for (int g = 0; g < kGroups; ++g) {
        const int stored = std::clamp(nearest_int(to_6bit * group_scale[g]), -32, 31) + 32;
        if (g < 8) {
          blk.scales[g] = static_cast<uint8_t>(stored & 15);
        } else {
          blk.scales[g - 8] |= static_cast<uint8_t>((stored & 15) << 4);
        }
        blk.scales[8 + g % 4] |= static_cast<uint8_t>((stored >> 4) << (2 * (g / 4)));
      }
      blk.d = f32_to_fp16(1 / to_6bit);
    } else {
      blk.d = f32_to_fp16(0.0f);
    }

    // Re-round every value against what a reader will actually decode.
    const float d = fp16_to_f32(blk.d);
    for (int g = 0; g < kGroups; ++g) {
      const float step = d * static_cast<float>(unpack_q3_k_scale(blk.scales, g) - 32);
      if (step == 0) continue;  // group decodes to 0 whatever its levels
      for (int i = 0; i < kGroupSize; ++i) {
        const int l = nearest_int(x[g * kGroupSize + i] / step);
        levels[g * kGroupSize + i] = static_cast<int8_t>(std::clamp(l, -4, 3) + 4);
      }
    }

    // Split the 0..7 levels into the hmask bit and 2 low bits.
    std::memset(blk.hmask, 0, sizeof blk.hmask);
    for (int i = 0; i < kQK_K; ++i) {
      if (levels[i] > 3) {
        blk.hmask[i % 32] |= static_cast<uint8_t>(1 << (i / 32));
        levels[i] = static_cast<int8_t>(levels[i] - 4);
      }
    }
    for (int half = 0; half < 2; ++half) {
      const int8_t* lv = levels + 128 * half;
      for (int l = 0; l < 32; ++l) {
        blk.qs[32 * half + l] =
            static_cast<uint8_t>(lv[l] | (lv[l + 32] << 2) | (lv[l + 64] << 4) | (lv[l + 96] << 6));
      }
    }
  }
}

}  // namespace nomoat::quant
