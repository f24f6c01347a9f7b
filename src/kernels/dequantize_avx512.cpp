// AVX-512 dequantizers (dequantize.h): per block the reference's
// arithmetic in the reference's order, 16 values per vector, so the floats
// are the same bits (tests/kernels/dequantize_test.cpp). Built with
// -ffp-contract=off (CMakeLists.txt), as are the reference dequantizers: a
// fused multiply-add would round once where the reference rounds twice.
// Like every ISA file it includes no header with inline functions
// (fast_matmul.h says why): fp16 goes through F16C's _cvtsh_ss (exact, as
// base/fp16.h), and the scale unpacking comes in as text
// (tensor/quant/scale_unpack.inc).
#include "kernels/dequantize.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__F16C__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // see fast_matmul_avx512.cpp
#include <immintrin.h>

#include "tensor/blocks.h"

namespace nomoat::kernels {
namespace {

inline float fp16_to_f32(uint16_t h) { return _cvtsh_ss(h); }

#include "tensor/quant/scale_unpack.inc"

// 16 bytes as their low nibbles and their high nibbles, widened to int32.
inline __m512i low_nibbles(__m128i b) { return _mm512_cvtepu8_epi32(_mm_and_si128(b, _mm_set1_epi8(15))); }
inline __m512i high_nibbles(__m128i b) {
  return _mm512_cvtepu8_epi32(_mm_and_si128(_mm_srli_epi16(b, 4), _mm_set1_epi8(15)));
}
inline __m128i load16(const uint8_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }
inline uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  __builtin_memcpy(&v, p, 4);  // little-endian, like the reference's load_le32
  return v;
}

// x = q * d + m.
void dequantize_q4_1(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ4_1*>(src);
  for (int64_t b = 0; b < n / kQK; ++b) {
    const __m512 d = _mm512_set1_ps(fp16_to_f32(blocks[b].d));
    const __m512 m = _mm512_set1_ps(fp16_to_f32(blocks[b].m));
    const __m128i qs = load16(blocks[b].qs);
    float* y = dst + b * kQK;
    _mm512_storeu_ps(y, _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(low_nibbles(qs)), d), m));
    _mm512_storeu_ps(y + 16, _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(high_nibbles(qs)), d), m));
  }
}

// The 5-bit values of a Q5_0/Q5_1 block: nibbles plus bit j of qh at 16.
inline void five_bit_values(const uint8_t* qs, const uint8_t* qh, __m512i* lo, __m512i* hi) {
  const uint32_t high = load_u32(qh);
  const __m128i q = load16(qs);
  const __m512i sixteen = _mm512_set1_epi32(16);
  *lo = _mm512_mask_or_epi32(low_nibbles(q), static_cast<__mmask16>(high & 0xffff), low_nibbles(q), sixteen);
  *hi = _mm512_mask_or_epi32(high_nibbles(q), static_cast<__mmask16>(high >> 16), high_nibbles(q), sixteen);
}

// x = (q - 16) * d.
void dequantize_q5_0(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ5_0*>(src);
  const __m512i sixteen = _mm512_set1_epi32(16);
  for (int64_t b = 0; b < n / kQK; ++b) {
    const __m512 d = _mm512_set1_ps(fp16_to_f32(blocks[b].d));
    __m512i lo, hi;
    five_bit_values(blocks[b].qs, blocks[b].qh, &lo, &hi);
    float* y = dst + b * kQK;
    _mm512_storeu_ps(y, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(lo, sixteen)), d));
    _mm512_storeu_ps(y + 16, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(hi, sixteen)), d));
  }
}

// x = q * d + m.
void dequantize_q5_1(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ5_1*>(src);
  for (int64_t b = 0; b < n / kQK; ++b) {
    const __m512 d = _mm512_set1_ps(fp16_to_f32(blocks[b].d));
    const __m512 m = _mm512_set1_ps(fp16_to_f32(blocks[b].m));
    __m512i lo, hi;
    five_bit_values(blocks[b].qs, blocks[b].qh, &lo, &hi);
    float* y = dst + b * kQK;
    _mm512_storeu_ps(y, _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(lo), d), m));
    _mm512_storeu_ps(y + 16, _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(hi), d), m));
  }
}

// 16 groups of 16: x = d sc[g] q - dmin m[g], q = 2 bits of qs (q at
// qs + 32 (g / 8) + 16 (g % 2), bits 2 ((g % 8) / 2)).
void dequantize_q2_k(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ2_K*>(src);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockQ2_K& blk = blocks[b];
    const float d = fp16_to_f32(blk.d);
    const float dmin = fp16_to_f32(blk.dmin);
    float* y = dst + b * kQK_K;
    for (int g = 0; g < 16; ++g) {
      const __m512 step = _mm512_set1_ps(d * static_cast<float>(blk.scales[g] & 15));
      const __m512 offset = _mm512_set1_ps(dmin * static_cast<float>(blk.scales[g] >> 4));
      const __m512i q = _mm512_cvtepu8_epi32(load16(blk.qs + 32 * (g / 8) + 16 * (g % 2)));
      const __m512i level = _mm512_and_si512(_mm512_srl_epi32(q, _mm_cvtsi32_si128(2 * ((g % 8) / 2))), _mm512_set1_epi32(3));
      _mm512_storeu_ps(y + 16 * g, _mm512_sub_ps(_mm512_mul_ps(step, _mm512_cvtepi32_ps(level)), offset));
    }
  }
}

// 16 groups of 16: x = d (sc[g] - 32) (q - 4), q = 2 bits of qs as Q2_K's
// plus bit g / 2 of hmask (value l of the group at byte 16 (g % 2) + l).
void dequantize_q3_k(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ3_K*>(src);
  const __m512i three = _mm512_set1_epi32(3), four = _mm512_set1_epi32(4), one = _mm512_set1_epi32(1);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockQ3_K& blk = blocks[b];
    const float d = fp16_to_f32(blk.d);
    float* y = dst + b * kQK_K;
    for (int g = 0; g < 16; ++g) {
      const int first = 16 * (g % 2);
      const __m512 step = _mm512_set1_ps(d * static_cast<float>(unpack_q3_k_scale(blk.scales, g) - 32));
      const __m512i q = _mm512_cvtepu8_epi32(load16(blk.qs + 32 * (g / 8) + first));
      const __m512i h = _mm512_cvtepu8_epi32(load16(blk.hmask + first));
      const __m512i low = _mm512_and_si512(_mm512_srl_epi32(q, _mm_cvtsi32_si128(2 * ((g % 8) / 2))), three);
      const __m512i high = _mm512_and_si512(_mm512_srl_epi32(h, _mm_cvtsi32_si128(g / 2)), one);
      const __m512i level = _mm512_add_epi32(_mm512_sub_epi32(low, four), _mm512_slli_epi32(high, 2));  // - 4 unless set
      _mm512_storeu_ps(y + 16 * g, _mm512_mul_ps(step, _mm512_cvtepi32_ps(level)));
    }
  }
}

// 8 groups of 32: x = d sc[g] q - dmin m[g], q = nibble of qs (low for even
// g, high for odd) plus bit g of qh at 16.
void dequantize_q5_k(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ5_K*>(src);
  const __m512i four_bits = _mm512_set1_epi32(15);
  const __m512i one = _mm512_set1_epi32(1);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockQ5_K& blk = blocks[b];
    const float d = fp16_to_f32(blk.d);
    const float dmin = fp16_to_f32(blk.dmin);
    float* y = dst + b * kQK_K;
    for (int g = 0; g < 8; ++g) {
      uint8_t sc, m;
      unpack_scale_min(g, blk.scales, &sc, &m);
      const __m512 step = _mm512_set1_ps(d * sc);
      const __m512 offset = _mm512_set1_ps(dmin * m);
      const __m128i shift = _mm_cvtsi32_si128(4 * (g % 2));
      const __m128i bit = _mm_cvtsi32_si128(g);
      for (int h = 0; h < 2; ++h) {
        const __m512i q = _mm512_cvtepu8_epi32(load16(blk.qs + 32 * (g / 2) + 16 * h));
        const __m512i qh = _mm512_cvtepu8_epi32(load16(blk.qh + 16 * h));
        const __m512i level = _mm512_or_si512(_mm512_and_si512(_mm512_srl_epi32(q, shift), four_bits),
                                              _mm512_slli_epi32(_mm512_and_si512(_mm512_srl_epi32(qh, bit), one), 4));
        _mm512_storeu_ps(y + 32 * g + 16 * h, _mm512_sub_ps(_mm512_mul_ps(step, _mm512_cvtepi32_ps(level)), offset));
      }
    }
  }
}

}  // namespace

const FastDequantizers kAvx512Dequantizers = {
    .q4_1 = &dequantize_q4_1,
    .q5_0 = &dequantize_q5_0,
    .q5_1 = &dequantize_q5_1,
    .q2_k = &dequantize_q2_k,
    .q3_k = &dequantize_q3_k,
    .q5_k = &dequantize_q5_k,
};

}  // namespace nomoat::kernels

#else  // built without AVX-512 flags (non-x86 target): none

namespace nomoat::kernels {
const FastDequantizers kAvx512Dequantizers = {};
}

#endif
