// Q2_K: 256 values in 16 groups of 16, x = d * sc * q - dmin * m with q in
// 0..3 and 4-bit sc, m per group (scales[g] = sc | m << 4).
//
// qs layout: each 128-value half uses 32 bytes; byte l of the half holds
// values l, l + 32, l + 64, l + 96 of that half in bit pairs 0, 2, 4, 6.
// Groups therefore walk the bytes as: group 2k uses bytes 0..15 and group
// 2k + 1 bytes 16..31, at shift 2 * (k % 4).
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

void dequantize_q2_k(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ2_K*>(src);
  const int64_t nb = block_count(n, kQK_K, "Q2_K");
  for (int64_t b = 0; b < nb; ++b) {
    const BlockQ2_K& blk = blocks[b];
    const float d = fp16_to_f32(blk.d);
    const float dmin = fp16_to_f32(blk.dmin);
    float* y = dst + b * kQK_K;
    for (int g = 0; g < kGroups; ++g) {
      const uint8_t* q = blk.qs + 32 * (g / 8) + 16 * (g % 2);
      const int shift = 2 * ((g % 8) / 2);
      const float step = d * static_cast<float>(blk.scales[g] & 15);
      const float offset = dmin * static_cast<float>(blk.scales[g] >> 4);
      for (int l = 0; l < kGroupSize; ++l) {
        y[g * kGroupSize + l] = step * static_cast<float>((q[l] >> shift) & 3) - offset;
      }
    }
  }
}

void quantize_q2_k(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ2_K*>(dst);
  const int64_t nb = block_count(n, kQK_K, "Q2_K");
  uint8_t levels[kQK_K];
  float weights[kGroupSize];
  float group_scale[kGroups];
  float group_min[kGroups];
  for (int64_t b = 0; b < nb; ++b) {
    const float* x = src + b * kQK_K;
    BlockQ2_K& blk = blocks[b];
    float max_scale = 0;  // scales and mins are both >= 0: the min is subtracted
    float max_min = 0;
    for (int g = 0; g < kGroups; ++g) {
      const float* xg = x + g * kGroupSize;
      for (int i = 0; i < kGroupSize; ++i) weights[i] = std::fabs(xg[i]);
      // With only 4 levels, absolute error fits outliers less greedily.
      group_scale[g] = fit_scale_offset(kGroupSize, 3, xg, weights, levels + g * kGroupSize,
                                        &group_min[g], -0.5f, 0.1f, 15, true);
      max_scale = std::max(max_scale, group_scale[g]);
      max_min = std::max(max_min, group_min[g]);
    }

    std::memset(blk.scales, 0, sizeof blk.scales);
    blk.d = f32_to_fp16(0.0f);
    blk.dmin = f32_to_fp16(0.0f);
    if (max_scale > 0) {
      const float to_4bit = 15.0f / max_scale;
      for (int g = 0; g < kGroups; ++g) {
        blk.scales[g] =
            static_cast<uint8_t>(std::clamp(nearest_int(to_4bit * group_scale[g]), 0, 15));
      }
      blk.d = f32_to_fp16(max_scale / 15.0f);
    }
    if (max_min > 0) {
      const float to_4bit = 15.0f / max_min;
      for (int g = 0; g < kGroups; ++g) {
        const int m = std::clamp(nearest_int(to_4bit * group_min[g]), 0, 15);
        blk.scales[g] |= static_cast<uint8_t>(m << 4);
      }
      blk.dmin = f32_to_fp16(max_min / 15.0f);
    }

    // Re-round every value against what a reader will actually decode.
    const float d = fp16_to_f32(blk.d);
    const float dmin = fp16_to_f32(blk.dmin);
    for (int g = 0; g < kGroups; ++g) {
      const float step = d * static_cast<float>(blk.scales[g] & 15);
      if (step == 0) continue;  // group decodes to -offset whatever its levels
      const float offset = dmin * static_cast<float>(blk.scales[g] >> 4);
      for (int i = 0; i < kGroupSize; ++i) {
        const int l = nearest_int((x[g * kGroupSize + i] + offset) / step);
        levels[g * kGroupSize + i] = static_cast<uint8_t>(std::clamp(l, 0, 3));
      }
    }

    for (int half = 0; half < 2; ++half) {
      const uint8_t* lv = levels + 128 * half;
      for (int l = 0; l < 32; ++l) {
        blk.qs[32 * half + l] =
            static_cast<uint8_t>(lv[l] | (lv[l + 32] << 2) | (lv[l + 64] << 4) | (lv[l + 96] << 6));
      }
    }
  }
}

}  // namespace nomoat::quant
