// AVX2 + FMA + F16C kernels (design: fast_matmul.h). Compiled with
// -mavx2 -mfma -mf16c for this file only; includes nothing that defines
// inline functions or templates outside this file (see fast_matmul.h).
#include "kernels/fast_matmul.h"
#include "tensor/blocks.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>

namespace nomoat::kernels {
namespace {

// vpmaddubsw multiplies unsigned by signed bytes, so the sign of w moves to
// a: |w| * sign(a, w) = w * a. Pair sums stay below 2 * 128 * 127 = 32512,
// so the int16 saturation never triggers.
inline __m256i dot_q8_0(__m256i w, __m256i w_abs, __m256i a) {
  const __m256i pairs = _mm256_maddubs_epi16(w_abs, _mm256_sign_epi8(a, w));
  return _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
}

// q in 0..15 is already unsigned: q * a pairs stay below 2 * 15 * 127.
inline __m256i dot_q4_0(__m256i q, __m256i a, int32_t bias) {
  const __m256i pairs = _mm256_maddubs_epi16(q, a);
  const __m256i sums = _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
  return _mm256_add_epi32(sums, _mm256_zextsi128_si256(_mm_cvtsi32_si128(bias)));
}

// Byte j = 0x10 where bit j of bits is set: byte j takes byte j / 8 of the
// 32 bits, then tests its own bit j % 8.
inline __m256i fifth_bits(uint32_t bits) {
  const __m256i spread = _mm256_shuffle_epi8(
      _mm256_set1_epi32(static_cast<int>(bits)),
      _mm256_setr_epi64x(0, 0x0101010101010101ll, 0x0202020202020202ll, 0x0303030303030303ll));
  const __m256i bit = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ull));
  return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit), _mm256_set1_epi8(0x10));
}

#include "kernels/fast_matmul_rows.inc"
#include "kernels/fast_matmul_quant.inc"
#include "kernels/fast_matmul_legacy.inc"
#include "kernels/fast_matmul_kquant.inc"

// Float weights: products and sums in double, like the reference (a
// float x float product is exact in double, so only the order of the sums
// differs). Float accumulation measurably changed Stories260K's greedy
// tokens; a matvec is memory-bound, so the wider arithmetic costs nothing.
// 8 columns per step in two 4-lane double accumulators per vector; the last
// cols % 8 columns in scalar code.
// A BF16 weight (distinct from F16's raw uint16_t for overloading).
struct Bf16 {
  uint16_t bits;
};
inline __m256 load_f32(const float* p) { return _mm256_loadu_ps(p); }
inline __m256 load_f32(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
// BF16 is the top half of an F32: widening and shifting is exact.
inline __m256 load_f32(const Bf16* p) {
  const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
}
inline double scalar_f64(const float* p) { return *p; }
inline double scalar_f64(const uint16_t* p) { return _cvtsh_ss(*p); }
inline double scalar_f64(const Bf16* p) { return __builtin_bit_cast(float, static_cast<uint32_t>(p->bits) << 16); }
inline __m256d low_pd(__m256 v) { return _mm256_cvtps_pd(_mm256_castps256_ps128(v)); }
inline __m256d high_pd(__m256 v) { return _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)); }

inline double hsum256d(__m256d v) {
  __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  s = _mm_add_sd(s, _mm_unpackhi_pd(s, s));
  return _mm_cvtsd_f64(s);
}

template <class Weight, int NT>
inline void float_row_tile(const MatmulTask& task, int64_t r, int64_t t0) {
  const Weight* w = reinterpret_cast<const Weight*>(task.w + static_cast<size_t>(r) * task.row_bytes);
  const int64_t n = task.cols;
  const float* x[NT];
  __m256d acc_lo[NT];
  __m256d acc_hi[NT];
  for (int t = 0; t < NT; ++t) {
    x[t] = task.x + (t0 + t) * n;
    acc_lo[t] = _mm256_setzero_pd();
    acc_hi[t] = _mm256_setzero_pd();
  }
  int64_t c = 0;
  for (; c + 8 <= n; c += 8) {
    const __m256 w8 = load_f32(w + c);
    const __m256d w_lo = low_pd(w8);
    const __m256d w_hi = high_pd(w8);
    for (int t = 0; t < NT; ++t) {
      const __m256 x8 = _mm256_loadu_ps(x[t] + c);
      acc_lo[t] = _mm256_fmadd_pd(w_lo, low_pd(x8), acc_lo[t]);
      acc_hi[t] = _mm256_fmadd_pd(w_hi, high_pd(x8), acc_hi[t]);
    }
  }
  for (int t = 0; t < NT; ++t) {
    double sum = hsum256d(_mm256_add_pd(acc_lo[t], acc_hi[t]));
    for (int64_t k = c; k < n; ++k) sum += scalar_f64(w + k) * static_cast<double>(x[t][k]);
    task.y[(t0 + t) * task.rows + r] = static_cast<float>(sum);
  }
}

template <class Weight>
struct FloatTile {
  template <int NT>
  struct Tile {
    static void run(const MatmulTask& task, int64_t r, int64_t t0) { float_row_tile<Weight, NT>(task, r, t0); }
  };
};

void matmul_f16(const MatmulTask& task) { rows_in_tiles<FloatTile<uint16_t>::template Tile>(task); }
void matmul_bf16(const MatmulTask& task) { rows_in_tiles<FloatTile<Bf16>::template Tile>(task); }
void matmul_f32(const MatmulTask& task) { rows_in_tiles<FloatTile<float>::template Tile>(task); }

}  // namespace

const IsaKernels kAvx2Kernels = {
#include "kernels/fast_matmul_table.inc"
    .quantize_superblocks = &quantize_q8_superblocks,
};

}  // namespace nomoat::kernels

#else  // built without AVX2 flags (non-x86 target): no kernels

namespace nomoat::kernels {
const IsaKernels kAvx2Kernels = {};
}

#endif
