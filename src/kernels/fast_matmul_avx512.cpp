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
// 16 columns per step; the last cols % 16 through a masked load
// (masked-off lanes read as 0, no fault).
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
// (The zero-masked extract: the plain one merges into an undefined vector
// that GCC 12 reports as uninitialized.)
inline __m512d high_pd(__m512 v) {
  return _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xff, _mm512_castps_pd(v), 1)));
}

// The 8 lanes' sum: halves, quarters, then the last two (the order of
// _mm512_reduce_add_pd, whose GCC 12 form trips -Wuninitialized).
inline double sum_pd(__m512d v) {
  const __m256d h = _mm256_add_pd(_mm512_maskz_extractf64x4_pd(0xff, v, 0), _mm512_maskz_extractf64x4_pd(0xff, v, 1));
  const __m128d q = _mm_add_pd(_mm256_castpd256_pd128(h), _mm256_extractf128_pd(h, 1));
  return _mm_cvtsd_f64(_mm_add_sd(q, _mm_unpackhi_pd(q, q)));
}

// Every (row, vector) pair sums in one 8-lane double accumulator: per 16
// columns the products of the low 8, then of the high 8, then sum_pd. The
// one-vector and batched paths below keep that order, so a vector gives
// the same bits alone or in a batch.

// R rows are read side by side, R short streams (one row each), which the
// hardware prefetchers follow poorly. Where decode prefetches in software
// (task.prefetch > 0: Intel), each row's stream runs on into the same row of
// the next R-row block, task.prefetch bytes ahead, into L2 (the packed
// kernels' form, packed_matmul_avx512.inc); 256 MiB of F16 on the Xeon VM
// read 0.88-1.07 of the probe this way against 0.67-0.75 with the L1
// prefetch 1 KiB ahead within the row that this kernel had before, which
// the other CPUs keep (it was measured on the Zen 4 VM).
inline void prefetch_row_stream(const MatmulTask& task, const void* row, size_t at, int rows_side_by_side) {
  const char* p = static_cast<const char*>(row);
  if (task.prefetch == 0) {
    _mm_prefetch(p + at + 1024, _MM_HINT_T0);
    return;
  }
  size_t ahead = at + static_cast<size_t>(task.prefetch);
  if (ahead >= task.row_bytes) ahead += static_cast<size_t>(rows_side_by_side - 1) * task.row_bytes;
  _mm_prefetch(p + ahead, _MM_HINT_T1);
}

// One vector (decode): 8 rows at a time, x widened to double once per 16
// columns for all of them (one row at a time was bound by a 4-cycle FMA
// chain per 16 values: about 16 GB/s of F16 on two cores; with one
// accumulator per row, 8 rows read 0.92 of the bandwidth probe where 4
// read 0.83-0.86, interleaved A/B on the Xeon VM).
template <class Weight, int R>
void one_vector_rows(const MatmulTask& task, int64_t r) {
  const int64_t n = task.cols;
  const Weight* w[R];
  __m512d acc[R];
  for (int i = 0; i < R; ++i) {
    w[i] = reinterpret_cast<const Weight*>(task.w + static_cast<size_t>(r + i) * task.row_bytes);
    acc[i] = _mm512_setzero_pd();
  }
  for (int64_t c = 0; c < n; c += 16) {
    const int64_t left = n - c;
    const __mmask16 m = left >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << left) - 1);
    const __m512 x16 = _mm512_maskz_loadu_ps(m, task.x + c);
    const __m512d x_lo = low_pd(x16);
    const __m512d x_hi = high_pd(x16);
    for (int i = 0; i < R; ++i) {
      // Short streams (one row each) defeat the hardware prefetchers.
      if (((c * static_cast<int64_t>(sizeof(Weight))) & 63) == 0) prefetch_row_stream(task, w[i], c * sizeof(Weight), R);
      const __m512 w16 = load_f32(w[i] + c, m);
      acc[i] = _mm512_fmadd_pd(low_pd(w16), x_lo, acc[i]);
      acc[i] = _mm512_fmadd_pd(high_pd(w16), x_hi, acc[i]);
    }
  }
  for (int i = 0; i < R; ++i) task.y[r + i] = static_cast<float>(sum_pd(acc[i]));
}

template <class Weight>
void float_rows_one_vector(const MatmulTask& task) {
  int64_t r = task.row_begin;
  for (; r + 8 <= task.row_end; r += 8) one_vector_rows<Weight, 8>(task, r);
  if (r + 4 <= task.row_end) {
    one_vector_rows<Weight, 4>(task, r);
    r += 4;
  }
  for (; r < task.row_end; ++r) one_vector_rows<Weight, 1>(task, r);
}

// Batches: x comes widened to double (the dispatcher converts it once per
// matmul). R = 2 rows x NT <= 8 vectors run per step, so each converted
// weight vector serves 8 vectors and each x load 2 rows; columns go in
// chunks of kFloatChunk, so one chunk of 8 vectors' x (16 KiB) stays in L1
// while every row of a row block passes over it, the partial sums waiting
// in `acc` between chunks (stored and reloaded exactly: the order of the
// additions is the one-vector path's). The first version, one row x 4
// vectors re-widening x for every row and re-reading all of x per row, ran
// at 0.08 of the fp32 peak; 2 x 8 with x read from L2 at 0.16.
constexpr int64_t kFloatChunk = 256;       // columns
constexpr int64_t kFloatRowBlock = 64;     // rows sharing one pass over x
constexpr int64_t kFloatBlockVectors = 16; // vectors per pass

template <class Weight, int R, int NT>
void float_block(const MatmulTask& task, int64_t r, int64_t t0, int64_t c0, int64_t c1, double* acc_rows) {
  const int64_t stride = task.x_double_stride;
  const double* xd = task.x_double + t0 * stride;
  const Weight* w[R];
  __m512d acc[R][NT];
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i) {
    w[i] = reinterpret_cast<const Weight*>(task.w + static_cast<size_t>(r + i) * task.row_bytes);
#pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) {
      acc[i][t] = c0 == 0 ? _mm512_setzero_pd() : _mm512_load_pd(acc_rows + (i * kFloatBlockVectors + t) * 8);
    }
  }
  for (int64_t c = c0; c < c1; c += 16) {
    const int64_t left = task.cols - c;
    const __mmask16 m = left >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << left) - 1);
    __m512d w_lo[R], w_hi[R];
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
      const __m512 w16 = load_f32(w[i] + c, m);
      w_lo[i] = low_pd(w16);
      w_hi[i] = high_pd(w16);
    }
#pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) {
      const __m512d x_lo = _mm512_load_pd(xd + t * stride + c);
      const __m512d x_hi = _mm512_load_pd(xd + t * stride + c + 8);
#pragma GCC unroll 8
      for (int i = 0; i < R; ++i) {
        acc[i][t] = _mm512_fmadd_pd(w_lo[i], x_lo, acc[i][t]);
        acc[i][t] = _mm512_fmadd_pd(w_hi[i], x_hi, acc[i][t]);
      }
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i) {
#pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) {
      if (c1 >= task.cols) {
        task.y[(t0 + t) * task.rows + r + i] = static_cast<float>(sum_pd(acc[i][t]));
      } else {
        _mm512_store_pd(acc_rows + (i * kFloatBlockVectors + t) * 8, acc[i][t]);
      }
    }
  }
}

template <class Weight, int R>
void float_block_any(const MatmulTask& task, int64_t r, int64_t t0, int64_t nt, int64_t c0, int64_t c1, double* acc) {
  switch (nt) {
    case 8: float_block<Weight, R, 8>(task, r, t0, c0, c1, acc); break;
    case 7: float_block<Weight, R, 7>(task, r, t0, c0, c1, acc); break;
    case 6: float_block<Weight, R, 6>(task, r, t0, c0, c1, acc); break;
    case 5: float_block<Weight, R, 5>(task, r, t0, c0, c1, acc); break;
    case 4: float_block<Weight, R, 4>(task, r, t0, c0, c1, acc); break;
    case 3: float_block<Weight, R, 3>(task, r, t0, c0, c1, acc); break;
    case 2: float_block<Weight, R, 2>(task, r, t0, c0, c1, acc); break;
    default: float_block<Weight, R, 1>(task, r, t0, c0, c1, acc); break;
  }
}

template <class Weight>
void float_rows_batched(const MatmulTask& task) {
  // Partial sums of a row block: row, vector (of the pass), 8 lanes.
  alignas(64) double acc[kFloatRowBlock * kFloatBlockVectors * 8];
  for (int64_t rb = task.row_begin; rb < task.row_end; rb += kFloatRowBlock) {
    const int64_t re = task.row_end - rb < kFloatRowBlock ? task.row_end : rb + kFloatRowBlock;
    for (int64_t b0 = 0; b0 < task.n_vectors; b0 += kFloatBlockVectors) {
      const int64_t b1 = task.n_vectors - b0 < kFloatBlockVectors ? task.n_vectors : b0 + kFloatBlockVectors;
      for (int64_t c0 = 0; c0 < task.cols; c0 += kFloatChunk) {
        const int64_t c1 = task.cols - c0 < kFloatChunk ? task.cols : c0 + kFloatChunk;
        for (int64_t t = b0; t < b1; t += 8) {
          const int64_t nt = b1 - t < 8 ? b1 - t : 8;
          double* acc_t = acc + (t - b0) * 8;
          int64_t r = rb;
          for (; r + 2 <= re; r += 2) {
            float_block_any<Weight, 2>(task, r, t, nt, c0, c1, acc_t + (r - rb) * kFloatBlockVectors * 8);
          }
          if (r < re) float_block_any<Weight, 1>(task, r, t, nt, c0, c1, acc_t + (r - rb) * kFloatBlockVectors * 8);
        }
      }
    }
  }
}

template <class Weight>
void float_matmul(const MatmulTask& task) {
  if (task.n_vectors == 1) {
    float_rows_one_vector<Weight>(task);
  } else {
    float_rows_batched<Weight>(task);  // x_double set by the dispatcher
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
