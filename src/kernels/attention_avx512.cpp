// AVX-512 attention block kernels (contract: attention_isa.h; design:
// attention.h). Compiled with AVX-512 flags for this file only; includes
// nothing that defines inline functions or templates outside this file.
#include "kernels/attention_isa.h"
#include "kernels/exp_f32_constants.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__FMA__) && defined(__F16C__)
// GCC 12's AVX-512 headers pass _mm*_undefined_*() vectors as merge sources;
// -Wmaybe-uninitialized reports it from inside the header.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

namespace nomoat::kernels {
namespace {

constexpr int64_t KB = kAttnKeyBlock;

inline const uint8_t* row_ptr(const AttnRows& rows, int64_t i) {
  return static_cast<const uint8_t*>(rows.base) + static_cast<size_t>(i) * rows.stride;
}

// Lanes [0, n) of 16 (n may exceed 16: all lanes).
inline __mmask16 tail_mask(int64_t n) { return n >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << n) - 1); }

// 16 values of a row from d on (lanes past n read as 0), as floats.
inline __m512 load16(const AttnRows& rows, const uint8_t* row, int64_t d, int64_t n) {
  const __mmask16 m = tail_mask(n);
  if (rows.f16) return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, reinterpret_cast<const uint16_t*>(row) + d));
  return _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(row) + d);
}

// Keys [0, n_keys) as doubles, row-major: kd[j * D + d]; then zero rows up
// to a multiple of 4 keys.
void keys_to_double(const AttnScoresTask& t, double* kd) {
  const int64_t D = t.head_dim;
  for (int64_t j = 0; j < t.n_keys; ++j) {
    const uint8_t* row = row_ptr(t.k, j);
    for (int64_t d = 0; d < D; d += 16) {
      const __mmask16 m = tail_mask(D - d);
      const __m512 f = load16(t.k, row, d, D - d);
      _mm512_mask_storeu_pd(kd + j * D + d, static_cast<__mmask8>(m), _mm512_cvtps_pd(_mm512_castps512_ps256(f)));
      _mm512_mask_storeu_pd(kd + j * D + d + 8, static_cast<__mmask8>(m >> 8),
                            _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(f), 1))));
    }
  }
  for (int64_t j = t.n_keys; j % 4 != 0; ++j) {
    for (int64_t d = 0; d < D; ++d) kd[j * D + d] = 0.0;
  }
}

// Rows [r0, r0 + 8 * NV) in lanes, 4 keys at a time (4 * NV independent
// FMA chains): each lane sums its own row's products over d in order, the
// reference's sequential double dot exactly.
template <int NV>
void scores_rows(const AttnScoresTask& t, const double* kd, int64_t r0) {
  const int64_t D = t.head_dim, rs = t.row_stride;
  for (int64_t j = 0; j < t.n_keys; j += 4) {
    __m512d acc[4][NV];
    for (auto& a : acc) {
      for (auto& x : a) x = _mm512_setzero_pd();
    }
    const double* k = kd + j * D;
    for (int64_t d = 0; d < D; ++d) {
      __m512d q[NV];
      for (int i = 0; i < NV; ++i) q[i] = _mm512_load_pd(t.qt + d * rs + r0 + 8 * i);
      for (int kk = 0; kk < 4; ++kk) {
        const __m512d kb = _mm512_set1_pd(k[kk * D + d]);
        for (int i = 0; i < NV; ++i) acc[kk][i] = _mm512_fmadd_pd(q[i], kb, acc[kk][i]);
      }
    }
    for (int kk = 0; kk < 4 && j + kk < t.n_keys; ++kk) {
      for (int i = 0; i < NV; ++i) _mm256_store_ps(t.s + (j + kk) * rs + r0 + 8 * i, _mm512_cvtpd_ps(acc[kk][i]));
    }
  }
}

// Rows in lanes: the transposed queries are loaded as they are, so the
// keys need no transpose, only a conversion to double.
void scores(const AttnScoresTask& t) {
  keys_to_double(t, t.scratch);
  for (int64_t r0 = 0; r0 < t.n_rows; r0 += 32) {
    const int64_t left = t.n_rows - r0;
    if (left > 24) {
      scores_rows<4>(t, t.scratch, r0);
    } else if (left > 16) {
      scores_rows<3>(t, t.scratch, r0);
    } else if (left > 8) {
      scores_rows<2>(t, t.scratch, r0);
    } else {
      scores_rows<1>(t, t.scratch, r0);
    }
  }
}

// exp_f32 (exp_f32.h) of 8 doubles (not NaN), the scalar steps in order.
inline __m512d exp_pd(__m512d x) {
  x = _mm512_max_pd(x, _mm512_set1_pd(kExpLo));
  x = _mm512_min_pd(x, _mm512_set1_pd(kExpHi));
  const __m512d shifter = _mm512_set1_pd(kExpShifter);
  const __m512d shifted = _mm512_fmadd_pd(x, _mm512_set1_pd(kExpLog2e), shifter);
  const __m512d n = _mm512_sub_pd(shifted, shifter);
  __m512d r = _mm512_fnmadd_pd(n, _mm512_set1_pd(kExpLn2Hi), x);
  r = _mm512_fnmadd_pd(n, _mm512_set1_pd(kExpLn2Lo), r);
  __m512d p = _mm512_set1_pd(kExpPoly[0]);
  for (int i = 1; i < kExpPolyTerms; ++i) p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(kExpPoly[i]));
  const __m512i bits =
      _mm512_slli_epi64(_mm512_add_epi64(_mm512_castpd_si512(shifted), _mm512_set1_epi64(1023)), 52);
  return _mm512_mul_pd(p, _mm512_castsi512_pd(bits));
}

inline __m512 exp_ps(__m512 x) {
  const __m256 lo = _mm512_cvtpd_ps(exp_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(x))));
  const __m256 hi =
      _mm512_cvtpd_ps(exp_pd(_mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1)))));
  const __m512 y = _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(lo)), _mm256_castps_pd(hi), 1));
  return _mm512_mask_add_ps(y, _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), x, x);  // NaN: x + x
}

void exp_array(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = tail_mask(n - i);
    _mm512_mask_storeu_ps(y + i, m, exp_ps(_mm512_maskz_loadu_ps(m, x + i)));
  }
}

// 16 rows per vector, branch-free per row: masks select the reference's
// branch (new max or not) and the rows whose key range holds key j. This
// file is built with -ffp-contract=off, so l * rescale + w stays a multiply
// and an add, as in the reference.
void softmax(const AttnSoftmaxTask& t) {
  const int64_t rs = t.row_stride;
  const __m512 scale = _mm512_set1_ps(t.scale), one = _mm512_set1_ps(1.0f), zero = _mm512_setzero_ps();
  for (int64_t r0 = 0; r0 < t.n_rows; r0 += 16) {
    const __mmask16 rm = tail_mask(t.n_rows - r0);
    __m512 m = _mm512_mask_loadu_ps(_mm512_set1_ps(-__builtin_inff()), rm, t.m + r0);
    __m512 l = _mm512_maskz_loadu_ps(rm, t.l + r0);
    const __m512i j0 = _mm512_maskz_loadu_epi32(rm, t.j0 + r0), j1 = _mm512_maskz_loadu_epi32(rm, t.j1 + r0);
    for (int64_t j = 0; j < t.n_keys; ++j) {
      float* rescale = t.rescale + j * rs + r0;
      float* weight = t.weight + j * rs + r0;
      const __m512i jv = _mm512_set1_epi32(static_cast<int32_t>(j));
      const __mmask16 in = _mm512_mask_cmplt_epi32_mask(_mm512_cmple_epi32_mask(j0, jv), jv, j1);
      if (in == 0) {
        _mm512_store_ps(rescale, one);
        _mm512_store_ps(weight, zero);
        continue;
      }
      const __m512 x = _mm512_mul_ps(_mm512_load_ps(t.s + j * rs + r0), scale);
      const __mmask16 gt = _mm512_mask_cmp_ps_mask(in, x, m, _CMP_GT_OQ);
      const __m512 e = exp_ps(_mm512_mask_sub_ps(_mm512_sub_ps(x, m), gt, m, x));
      const __m512 old_scale = _mm512_mask_mov_ps(one, gt, e);
      const __m512 w = _mm512_maskz_mov_ps(in, _mm512_mask_mov_ps(e, gt, one));
      m = _mm512_mask_mov_ps(m, gt, x);
      l = _mm512_mask_mov_ps(l, in, _mm512_add_ps(_mm512_mul_ps(l, old_scale), w));
      _mm512_store_ps(rescale, old_scale);
      _mm512_store_ps(weight, w);
    }
    _mm512_mask_storeu_ps(t.m + r0, rm, m);
    _mm512_mask_storeu_ps(t.l + r0, rm, l);
  }
}

inline __m512 round_f16(__m512 x) {
  return _mm512_cvtph_ps(_mm512_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

// Rows [r, r + n) (n <= 4) over columns [dc, dc + 16 * NV): the rows share
// each loaded value vector and give 4 * NV independent dependency chains
// (fma -> fp16 round trip is ~15 cycles of latency per key). No branch per
// row: a row outside its key range keeps its acc by a masked fma (its round
// trip through fp16 changes nothing), and the rescale, rare after the first
// keys, runs for all rows when one needs it (by 1: no change, see
// attention_isa.h). Uniform: all n rows have the same key range.
template <int NV, bool Uniform, bool rnd>
void accumulate_cols(const AttnAccumulateTask& t, int64_t r, int n, int64_t dc) {
  const int64_t D = t.head_dim, rs = t.row_stride;
  __m512 acc[4][NV], v[NV];
  int32_t j0[4], j1[4];
  int32_t lo = static_cast<int32_t>(KB), hi = 0;  // the keys any row takes
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    j0[i] = i < n ? t.j0[r + i] : 0;
    j1[i] = i < n ? t.j1[r + i] : 0;
    if (j0[i] < j1[i]) {
      lo = j0[i] < lo ? j0[i] : lo;
      hi = j1[i] > hi ? j1[i] : hi;
    }
#pragma GCC unroll 4
    for (int k = 0; k < NV; ++k) {
      acc[i][k] = i < n ? _mm512_loadu_ps(t.acc + (r + i) * t.acc_stride + dc + 16 * k) : _mm512_setzero_ps();
    }
  }
  const __mmask8 rows = static_cast<__mmask8>((1u << n) - 1);
  const __m128 one = _mm_set1_ps(1.0f);
  for (int32_t j = lo; j < hi; ++j) {
    const uint8_t* row = row_ptr(t.v, j);
#pragma GCC unroll 4
    for (int k = 0; k < NV; ++k) v[k] = load16(t.v, row, dc + 16 * k, D - dc - 16 * k);
    const float* sc = t.rescale + j * rs + r;
    const float* w = t.weight + j * rs + r;
    if (_mm_mask_cmp_ps_mask(rows, _mm_maskz_loadu_ps(rows, sc), one, _CMP_NEQ_UQ) != 0) {
#pragma GCC unroll 4
      for (int i = 0; i < 4; ++i) {
        const __m512 s = _mm512_set1_ps(sc[i]);
#pragma GCC unroll 4
        for (int k = 0; k < NV; ++k) {
          acc[i][k] = _mm512_mul_ps(acc[i][k], s);
          if (rnd) acc[i][k] = round_f16(acc[i][k]);
        }
      }
    }
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) {
      const __m512 wi = _mm512_set1_ps(w[i]);
      const __mmask16 take = Uniform || (j >= j0[i] && j < j1[i]) ? static_cast<__mmask16>(0xffff) : 0;
#pragma GCC unroll 4
      for (int k = 0; k < NV; ++k) {
        acc[i][k] = Uniform ? _mm512_fmadd_ps(v[k], wi, acc[i][k]) : _mm512_mask3_fmadd_ps(v[k], wi, acc[i][k], take);
        if (rnd) acc[i][k] = round_f16(acc[i][k]);
      }
    }
  }
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {  // constant indices keep acc in registers
#pragma GCC unroll 4
    for (int k = 0; k < NV; ++k) {
      if (i < n) _mm512_storeu_ps(t.acc + (r + i) * t.acc_stride + dc + 16 * k, acc[i][k]);
    }
  }
}

template <bool Uniform, bool Round>
void accumulate_rows(const AttnAccumulateTask& t, int64_t r, int n) {
  const int64_t D = t.head_dim;
  int64_t dc = 0;
  for (; D - dc > 48; dc += 64) accumulate_cols<4, Uniform, Round>(t, r, n, dc);
  if (D - dc > 32) {
    accumulate_cols<3, Uniform, Round>(t, r, n, dc);
  } else if (D - dc > 16) {
    accumulate_cols<2, Uniform, Round>(t, r, n, dc);
  } else if (D - dc > 0) {
    accumulate_cols<1, Uniform, Round>(t, r, n, dc);
  }
}

void accumulate(const AttnAccumulateTask& t) {
  for (int64_t r = 0; r < t.n_rows; r += 4) {
    const int n = t.n_rows - r < 4 ? static_cast<int>(t.n_rows - r) : 4;
    bool uniform = n == 4, any = false;
    for (int i = 0; i < n; ++i) {
      uniform = uniform && t.j0[r + i] == t.j0[r] && t.j1[r + i] == t.j1[r];
      any = any || t.j0[r + i] < t.j1[r + i];
    }
    if (!any) continue;
    if (t.round_f16) {
      uniform ? accumulate_rows<true, true>(t, r, n) : accumulate_rows<false, true>(t, r, n);
    } else {
      uniform ? accumulate_rows<true, false>(t, r, n) : accumulate_rows<false, false>(t, r, n);
    }
  }
}

}  // namespace

const AttentionIsaKernels kAttnAvx512Kernels = {&scores, &softmax, &accumulate, &exp_array};

}  // namespace nomoat::kernels

#else  // built without AVX-512 flags (non-x86 target): no kernels

namespace nomoat::kernels {
const AttentionIsaKernels kAttnAvx512Kernels = {nullptr, nullptr, nullptr, nullptr};
}

#endif
