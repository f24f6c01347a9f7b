// AVX-512 (F, BW, VL, VNNI) kernels (design: fast_matmul.h). Compiled with
// AVX-512 flags for this file only; includes nothing that defines inline
// functions or templates outside this file (see fast_matmul.h).
//
// Integer blocks use 256-bit VNNI (vpdpbusd on ymm, one 32-element block
// per instruction): blocks are 34 / 18 bytes, so pairing two in a zmm
// costs shuffles, and one block per ymm already keeps up with memory.
// Float weights use full 512-bit vectors (double sums) with masked tails.
#include "kernels/fast_matmul.h"
#include "tensor/blocks.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512VNNI__) && \
    defined(__FMA__) && defined(__F16C__)
// GCC 12's AVX-512 headers pass _mm*_undefined_*() vectors as merge sources
// (_mm512_cvtph_ps, _mm512_reduce_add_ps), which -Wmaybe-uninitialized
// reports from inside the header; the lanes are never read.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

namespace nomoat::kernels {
namespace {

// vpdpbusd multiplies unsigned by signed bytes, so the sign of w moves to
// a: |w| * sign(a, w) = w * a (|-128| = 128 is fine as unsigned). Sums of 4
// products go straight to int32: no saturation.
inline __m256i dot_q8_0(__m256i w, __m256i w_abs, __m256i a) {
  return _mm256_dpbusd_epi32(_mm256_setzero_si256(), w_abs, _mm256_sign_epi8(a, w));
}

// q in 0..15 is already unsigned; the bias rides in as the initial sum.
inline __m256i dot_q4_0(__m256i q, __m256i a, int32_t bias) {
  return _mm256_dpbusd_epi32(_mm256_zextsi128_si256(_mm_cvtsi32_si128(bias)), q, a);
}

// Byte j = 0x10 where bit j of bits is set: the bits are a byte mask.
inline __m256i fifth_bits(uint32_t bits) { return _mm256_maskz_mov_epi8(bits, _mm256_set1_epi8(0x10)); }

#include "kernels/fast_matmul_rows.inc"
#include "kernels/fast_matmul_quant.inc"
#include "kernels/fast_matmul_legacy.inc"
#include "kernels/fast_matmul_kquant.inc"

// Float weights: products and sums in double, like the reference (a
// float x float product is exact in double, so only the order of the sums
// differs). Float accumulation measurably changed Stories260K's greedy
// tokens; a matvec is memory-bound, so the wider arithmetic costs nothing.
// 16 columns per step in two 8-lane double accumulators per vector; the
// last cols % 16 through a masked load (masked-off lanes read as 0, no fault).
// A BF16 weight (distinct from F16's raw uint16_t for overloading).
struct Bf16 {
  uint16_t bits;
};
inline __m512 load_f32(const float* p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
// BF16 is the top half of an F32: widening and shifting is exact.
inline __m512 load_f32(const Bf16* p, __mmask16 m) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p)), 16));
}
inline __m512 load_f32(const uint16_t* p, __mmask16 m) { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p)); }
inline __m512d low_pd(__m512 v) { return _mm512_cvtps_pd(_mm512_castps512_ps256(v)); }
inline __m512d high_pd(__m512 v) {
  return _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
}

template <class Weight, int NT>
inline void float_row_tile(const MatmulTask& task, int64_t r, int64_t t0) {
  const Weight* w = reinterpret_cast<const Weight*>(task.w + static_cast<size_t>(r) * task.row_bytes);
  const int64_t n = task.cols;
  const float* x[NT];
  __m512d acc_lo[NT];
  __m512d acc_hi[NT];
  for (int t = 0; t < NT; ++t) {
    x[t] = task.x + (t0 + t) * n;
    acc_lo[t] = _mm512_setzero_pd();
    acc_hi[t] = _mm512_setzero_pd();
  }
  for (int64_t c = 0; c < n; c += 16) {
    const int64_t left = n - c;
    const __mmask16 m = left >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << left) - 1);
    const __m512 w16 = load_f32(w + c, m);
    const __m512d w_lo = low_pd(w16);
    const __m512d w_hi = high_pd(w16);
    for (int t = 0; t < NT; ++t) {
      const __m512 x16 = _mm512_maskz_loadu_ps(m, x[t] + c);
      acc_lo[t] = _mm512_fmadd_pd(w_lo, low_pd(x16), acc_lo[t]);
      acc_hi[t] = _mm512_fmadd_pd(w_hi, high_pd(x16), acc_hi[t]);
    }
  }
  for (int t = 0; t < NT; ++t) {
    task.y[(t0 + t) * task.rows + r] = static_cast<float>(_mm512_reduce_add_pd(_mm512_add_pd(acc_lo[t], acc_hi[t])));
  }
}

template <class Weight>
struct FloatTile {
  template <int NT>
  struct Tile {
    static void run(const MatmulTask& task, int64_t r, int64_t t0) { float_row_tile<Weight, NT>(task, r, t0); }
  };
};

// One vector (decode): 4 rows at a time, so 8 independent FMA chains hide
// the latency and the widening of x to double is shared by the 4 rows (one
// row at a time was bound by a 4-cycle FMA chain per 16 values: about
// 16 GB/s of F16 on two cores). The per-row accumulation order is
// float_row_tile's, so the bits are the same.
template <class Weight>
void float_rows_one_vector(const MatmulTask& task) {
  const int64_t n = task.cols;
  constexpr int R = 4;
  int64_t r = task.row_begin;
  for (; r + R <= task.row_end; r += R) {
    const Weight* w[R];
    __m512d acc_lo[R], acc_hi[R];
    for (int i = 0; i < R; ++i) {
      w[i] = reinterpret_cast<const Weight*>(task.w + static_cast<size_t>(r + i) * task.row_bytes);
      acc_lo[i] = _mm512_setzero_pd();
      acc_hi[i] = _mm512_setzero_pd();
    }
    for (int64_t c = 0; c < n; c += 16) {
      const int64_t left = n - c;
      const __mmask16 m = left >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << left) - 1);
      const __m512 x16 = _mm512_maskz_loadu_ps(m, task.x + c);
      const __m512d x_lo = low_pd(x16);
      const __m512d x_hi = high_pd(x16);
      for (int i = 0; i < R; ++i) {
        // Four short streams (one row each) defeat the hardware prefetchers.
        if (((c * static_cast<int64_t>(sizeof(Weight))) & 63) == 0) {
          _mm_prefetch(reinterpret_cast<const char*>(w[i] + c) + 1024, _MM_HINT_T0);
        }
        const __m512 w16 = load_f32(w[i] + c, m);
        acc_lo[i] = _mm512_fmadd_pd(low_pd(w16), x_lo, acc_lo[i]);
        acc_hi[i] = _mm512_fmadd_pd(high_pd(w16), x_hi, acc_hi[i]);
      }
    }
    for (int i = 0; i < R; ++i) {
      task.y[r + i] = static_cast<float>(_mm512_reduce_add_pd(_mm512_add_pd(acc_lo[i], acc_hi[i])));
    }
  }
  for (; r < task.row_end; ++r) float_row_tile<Weight, 1>(task, r, 0);
}

template <class Weight>
void float_matmul(const MatmulTask& task) {
  if (task.n_vectors == 1) {
    float_rows_one_vector<Weight>(task);
  } else {
    rows_in_tiles<FloatTile<Weight>::template Tile>(task);
  }
}

void matmul_f16(const MatmulTask& task) { float_matmul<uint16_t>(task); }
void matmul_bf16(const MatmulTask& task) { float_matmul<Bf16>(task); }
void matmul_f32(const MatmulTask& task) { float_matmul<float>(task); }

}  // namespace

const IsaKernels kAvx512Kernels = {
#include "kernels/fast_matmul_table.inc"
    .quantize_superblocks = &quantize_q8_superblocks,
};

}  // namespace nomoat::kernels

#else  // built without AVX-512 flags (non-x86 target): no kernels

namespace nomoat::kernels {
const IsaKernels kAvx512Kernels = {};
}

#endif
