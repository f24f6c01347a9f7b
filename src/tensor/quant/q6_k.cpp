// Q6_K: 256 values in 16 groups of 16, x = d * sc * (q - 32) with q in 0..63
// and an int8 scale sc per group.
//
// Each 128-value half uses 64 bytes of ql, 32 of qh and 8 scales. For l in
// 0..31, value l + 32k of the half (k = 0..3) keeps its low 4 bits in
// ql[l + 32 * (k % 2)] (low nibble for k < 2, high nibble otherwise) and its
// top 2 bits at bit 2k of qh[l].
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

void dequantize_q6_k(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ6_K*>(src);
  const int64_t nb = block_count(n, kQK_K, "Q6_K");
  for (int64_t b = 0; b < nb; ++b) {
    const BlockQ6_K& blk = blocks[b];
    const float d = fp16_to_f32(blk.d);
    float* y = dst + b * kQK_K;
    for (int half = 0; half < 2; ++half) {
      const uint8_t* ql = blk.ql + 64 * half;
      const uint8_t* qh = blk.qh + 32 * half;
      const int8_t* sc = blk.scales + 8 * half;
      for (int k = 0; k < 4; ++k) {
        const int nibble_shift = 4 * (k / 2);
        for (int l = 0; l < 32; ++l) {
          const int low = (ql[l + 32 * (k % 2)] >> nibble_shift) & 15;
          const int high = (qh[l] >> (2 * k)) & 3;
          const float step = d * static_cast<float>(sc[2 * k + l / 16]);
          y[128 * half + 32 * k + l] = step * static_cast<float>((low | (high << 4)) - 32);
        }
      }
    }
  }
}

void quantize_q6_k(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ6_K*>(dst);
  const int64_t nb = block_count(n, kQK_K, "Q6_K");
  int8_t levels[kQK_K];
  float group_scale[kGroups];
  for (int64_t b = 0; b < nb; ++b) {
    const float* x = src + b * kQK_K;
    BlockQ6_K& blk = blocks[b];
    // Signed scales: keep the sign of the largest so it maps onto -128.
    float peak_scale = 0;
    float peak_abs = 0;
    for (int g = 0; g < kGroups; ++g) {
      group_scale[g] =
          fit_signed_scale(kGroupSize, 32, x + g * kGroupSize, levels + g * kGroupSize);
      if (std::abs(group_scale[g]) > peak_abs) {
        peak_abs = std::abs(group_scale[g]);
        peak_scale = group_scale[g];
      }
    }
    if (peak_abs < kGroupZeroEps) {
      std::memset(&blk, 0, sizeof blk);
      blk.d = f32_to_fp16(0.0f);
      continue;
    }

    const float to_int8 = -128.0f / peak_scale;
    blk.d = f32_to_fp16(1 / to_int8);
    for (int g = 0; g < kGroups; ++g) {
      blk.scales[g] =
          static_cast<int8_t>(std::clamp(nearest_int(to_int8 * group_scale[g]), -128, 127));
    }

    // Re-round every value against what a reader will actually decode.
    const float d = fp16_to_f32(blk.d);
    for (int g = 0; g < kGroups; ++g) {
      const float step = d * static_cast<float>(blk.scales[g]);
      if (step == 0) continue;  // group decodes to 0 whatever its levels
      for (int i = 0; i < kGroupSize; ++i) {
        const int l = nearest_int(x[g * kGroupSize + i] / step);
        levels[g * kGroupSize + i] = static_cast<int8_t>(std::clamp(l, -32, 31) + 32);
      }
    }

    for (int half = 0; half < 2; ++half) {
      const int8_t* lv = levels + 128 * half;
      uint8_t* ql = blk.ql + 64 * half;
      uint8_t* qh = blk.qh + 32 * half;
      for (int l = 0; l < 32; ++l) {
        ql[l] = static_cast<uint8_t>((lv[l] & 15) | ((lv[l + 64] & 15) << 4));
        ql[l + 32] = static_cast<uint8_t>((lv[l + 32] & 15) | ((lv[l + 96] & 15) << 4));
        qh[l] = static_cast<uint8_t>((lv[l] >> 4) | ((lv[l + 32] >> 4) << 2) |
                                     ((lv[l + 64] >> 4) << 4) | ((lv[l + 96] >> 4) << 6));
      }
    }
  }
}

}  // namespace nomoat::quant
