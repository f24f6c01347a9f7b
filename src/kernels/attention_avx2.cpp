// AVX2 attention block kernels (contract: attention_isa.h; design:
// attention.h). Compiled with -mavx2 -mfma -mf16c for this file only;
// includes nothing that defines inline functions or templates outside it.
#include "kernels/attention_isa.h"
#include "kernels/exp_f32_constants.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>

namespace nomoat::kernels {
namespace {

constexpr int64_t KB = kAttnKeyBlock;

inline const uint8_t* row_ptr(const AttnRows& rows, int64_t i) {
  return static_cast<const uint8_t*>(rows.base) + static_cast<size_t>(i) * rows.stride;
}

// 8 values of a row from d on as floats; lanes past n (< 8) read as 0.
inline __m256 load8(const AttnRows& rows, const uint8_t* row, int64_t d, int64_t n) {
  if (n >= 8) {
    if (rows.f16) return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(reinterpret_cast<const uint16_t*>(row) + d)));
    return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + d);
  }
  // Tail: copy what exists, so nothing past the row is read.
  if (rows.f16) {
    alignas(16) uint16_t tmp[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int64_t i = 0; i < n; ++i) tmp[i] = reinterpret_cast<const uint16_t*>(row)[d + i];
    return _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(tmp)));
  }
  alignas(32) float tmp[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int64_t i = 0; i < n; ++i) tmp[i] = reinterpret_cast<const float*>(row)[d + i];
  return _mm256_load_ps(tmp);
}

// 4 values of key row i from d on (lanes past n read as 0), as doubles.
inline __m256d load4_pd(const AttnRows& rows, int64_t i, int64_t d, int64_t n) {
  const uint8_t* row = row_ptr(rows, i);
  if (rows.f16) {
    alignas(16) uint16_t tmp[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int64_t k = 0; k < (n < 4 ? n : 4); ++k) tmp[k] = reinterpret_cast<const uint16_t*>(row)[d + k];
    return _mm256_cvtps_pd(_mm_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(tmp))));
  }
  if (n >= 4) return _mm256_cvtps_pd(_mm_loadu_ps(reinterpret_cast<const float*>(row) + d));
  alignas(16) float tmp[4] = {0, 0, 0, 0};
  for (int64_t k = 0; k < n; ++k) tmp[k] = reinterpret_cast<const float*>(row)[d + k];
  return _mm256_cvtps_pd(_mm_load_ps(tmp));
}

// scratch[d * KB + j] = k_j[d] as double; keys past n_keys are 0. 4 x 4 tiles
// transposed in registers.
void transpose_keys(const AttnScoresTask& t) {
  const int64_t D = t.head_dim;
  for (int64_t j = 0; j < KB; j += 4) {
    for (int64_t d = 0; d < D; d += 4) {
      __m256d r[4];
      for (int i = 0; i < 4; ++i) r[i] = j + i < t.n_keys ? load4_pd(t.k, j + i, d, D - d) : _mm256_setzero_pd();
      const __m256d a0 = _mm256_unpacklo_pd(r[0], r[1]), a1 = _mm256_unpackhi_pd(r[0], r[1]);
      const __m256d a2 = _mm256_unpacklo_pd(r[2], r[3]), a3 = _mm256_unpackhi_pd(r[2], r[3]);
      __m256d out[4];
      out[0] = _mm256_permute2f128_pd(a0, a2, 0x20);
      out[2] = _mm256_permute2f128_pd(a0, a2, 0x31);
      out[1] = _mm256_permute2f128_pd(a1, a3, 0x20);
      out[3] = _mm256_permute2f128_pd(a1, a3, 0x31);
      const int64_t n = D - d < 4 ? D - d : 4;
      for (int64_t i = 0; i < n; ++i) _mm256_store_pd(t.scratch + (d + i) * KB + j, out[i]);
    }
  }
}

// Keys in lanes, each summing its own products over d in order: the
// reference's sequential double dot exactly. 8 independent chains per row.
void scores(const AttnScoresTask& t) {
  transpose_keys(t);
  const int64_t D = t.head_dim;
  for (int64_t r = 0; r < t.n_rows; ++r) {
    const float* q = t.q + r * t.q_stride;
    __m256d a[8];
    for (auto& x : a) x = _mm256_setzero_pd();
    for (int64_t d = 0; d < D; ++d) {
      const double* k = t.scratch + d * KB;
      const __m256d x = _mm256_set1_pd(static_cast<double>(q[d]));
      for (int i = 0; i < 8; ++i) a[i] = _mm256_fmadd_pd(x, _mm256_load_pd(k + 4 * i), a[i]);
    }
    alignas(16) float s[KB];
    for (int i = 0; i < 8; ++i) _mm_store_ps(s + 4 * i, _mm256_cvtpd_ps(a[i]));
    for (int64_t j = 0; j < t.n_keys; ++j) t.s[j * t.row_stride + r] = s[j];
  }
}

// exp_f32 (exp_f32.h) of 4 doubles (not NaN), the scalar steps in order.
inline __m256d exp_pd(__m256d x) {
  x = _mm256_max_pd(x, _mm256_set1_pd(kExpLo));
  x = _mm256_min_pd(x, _mm256_set1_pd(kExpHi));
  const __m256d shifter = _mm256_set1_pd(kExpShifter);
  const __m256d shifted = _mm256_fmadd_pd(x, _mm256_set1_pd(kExpLog2e), shifter);
  const __m256d n = _mm256_sub_pd(shifted, shifter);
  __m256d r = _mm256_fnmadd_pd(n, _mm256_set1_pd(kExpLn2Hi), x);
  r = _mm256_fnmadd_pd(n, _mm256_set1_pd(kExpLn2Lo), r);
  __m256d p = _mm256_set1_pd(kExpPoly[0]);
  for (int i = 1; i < kExpPolyTerms; ++i) p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(kExpPoly[i]));
  const __m256i bits =
      _mm256_slli_epi64(_mm256_add_epi64(_mm256_castpd_si256(shifted), _mm256_set1_epi64x(1023)), 52);
  return _mm256_mul_pd(p, _mm256_castsi256_pd(bits));
}

inline __m256 exp_ps(__m256 x) {
  const __m128 lo = _mm256_cvtpd_ps(exp_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(x))));
  const __m128 hi = _mm256_cvtpd_ps(exp_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(x, 1))));
  const __m256 y = _mm256_insertf128_ps(_mm256_castps128_ps256(lo), hi, 1);
  return _mm256_blendv_ps(y, _mm256_add_ps(x, x), _mm256_cmp_ps(x, x, _CMP_UNORD_Q));  // NaN: x + x
}

void exp_array(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; i += 8) {
    alignas(32) float in[8] = {0, 0, 0, 0, 0, 0, 0, 0}, out[8];
    const int64_t k = n - i < 8 ? n - i : 8;
    for (int64_t c = 0; c < k; ++c) in[c] = x[i + c];
    _mm256_store_ps(out, exp_ps(_mm256_load_ps(in)));
    for (int64_t c = 0; c < k; ++c) y[i + c] = out[c];
  }
}

// 8 rows per vector, branch-free per row: masks select the reference's
// branch (new max or not) and the rows whose key range holds key j. Built
// with -ffp-contract=off: l * rescale + w stays a multiply and an add.
void softmax(const AttnSoftmaxTask& t) {
  const int64_t rs = t.row_stride;
  const __m256 scale = _mm256_set1_ps(t.scale), one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
  for (int64_t r0 = 0; r0 < t.n_rows; r0 += 8) {
    const int64_t n = t.n_rows - r0 < 8 ? t.n_rows - r0 : 8;
    alignas(32) float m_in[8], l_in[8];
    alignas(32) int32_t j0_in[8] = {0, 0, 0, 0, 0, 0, 0, 0}, j1_in[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int i = 0; i < 8; ++i) {
      m_in[i] = i < n ? t.m[r0 + i] : -__builtin_inff();
      l_in[i] = i < n ? t.l[r0 + i] : 0.0f;
      if (i < n) {
        j0_in[i] = t.j0[r0 + i];
        j1_in[i] = t.j1[r0 + i];
      }
    }
    __m256 m = _mm256_load_ps(m_in), l = _mm256_load_ps(l_in);
    const __m256i j0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(j0_in));
    const __m256i j1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(j1_in));
    for (int64_t j = 0; j < t.n_keys; ++j) {
      float* rescale = t.rescale + j * rs + r0;
      float* weight = t.weight + j * rs + r0;
      const __m256i jv = _mm256_set1_epi32(static_cast<int32_t>(j));
      const __m256 in = _mm256_castsi256_ps(_mm256_andnot_si256(_mm256_cmpgt_epi32(j0, jv), _mm256_cmpgt_epi32(j1, jv)));
      if (_mm256_testz_ps(in, in)) {
        _mm256_store_ps(rescale, one);
        _mm256_store_ps(weight, zero);
        continue;
      }
      const __m256 x = _mm256_mul_ps(_mm256_load_ps(t.s + j * rs + r0), scale);
      const __m256 gt = _mm256_and_ps(_mm256_cmp_ps(x, m, _CMP_GT_OQ), in);
      const __m256 e = exp_ps(_mm256_blendv_ps(_mm256_sub_ps(x, m), _mm256_sub_ps(m, x), gt));
      const __m256 old_scale = _mm256_blendv_ps(one, e, gt);
      const __m256 w = _mm256_and_ps(_mm256_blendv_ps(e, one, gt), in);
      m = _mm256_blendv_ps(m, x, gt);
      l = _mm256_blendv_ps(l, _mm256_add_ps(_mm256_mul_ps(l, old_scale), w), in);
      _mm256_store_ps(rescale, old_scale);
      _mm256_store_ps(weight, w);
    }
    _mm256_store_ps(m_in, m);
    _mm256_store_ps(l_in, l);
    for (int64_t i = 0; i < n; ++i) {
      t.m[r0 + i] = m_in[i];
      t.l[r0 + i] = l_in[i];
    }
  }
}

inline __m256 round_f16(__m256 x) {
  return _mm256_cvtph_ps(_mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

template <int NV>
inline void update(__m256 (&acc)[4], const __m256 (&v)[4], float rescale, float weight, bool rnd) {
  if (rescale != 1.0f) {
    const __m256 s = _mm256_set1_ps(rescale);
    for (int i = 0; i < NV; ++i) {
      acc[i] = _mm256_mul_ps(acc[i], s);
      if (rnd) acc[i] = round_f16(acc[i]);
    }
  }
  const __m256 w = _mm256_set1_ps(weight);
  for (int i = 0; i < NV; ++i) {
    acc[i] = _mm256_fmadd_ps(v[i], w, acc[i]);
    if (rnd) acc[i] = round_f16(acc[i]);
  }
}

// Rows r and r + 1 (when `pair`) over columns [dc, dc + 8 * NV): the two
// rows share each value load and give independent dependency chains.
template <int NV>
void accumulate_cols(const AttnAccumulateTask& t, int64_t r, bool pair, int64_t dc) {
  const int64_t D = t.head_dim;
  float* acc0p = t.acc + r * t.acc_stride + dc;
  float* acc1p = acc0p + t.acc_stride;
  __m256 acc0[4], acc1[4], v[4];
  for (int i = 0; i < NV; ++i) {
    acc0[i] = _mm256_loadu_ps(acc0p + 8 * i);
    acc1[i] = pair ? _mm256_loadu_ps(acc1p + 8 * i) : _mm256_setzero_ps();
  }
  const int32_t a0 = t.j0[r], a1 = t.j1[r];
  const int32_t b0 = pair ? t.j0[r + 1] : 0, b1 = pair ? t.j1[r + 1] : 0;
  int32_t lo = a0 < a1 ? a0 : static_cast<int32_t>(KB), hi = a0 < a1 ? a1 : 0;
  if (b0 < b1) {
    lo = b0 < lo ? b0 : lo;
    hi = b1 > hi ? b1 : hi;
  }
  const float* sc0 = t.rescale + r;
  const float* w0 = t.weight + r;
  const int64_t rs = t.row_stride;
  for (int32_t j = lo; j < hi; ++j) {
    const uint8_t* row = row_ptr(t.v, j);
    for (int i = 0; i < NV; ++i) v[i] = load8(t.v, row, dc + 8 * i, D - dc - 8 * i);
    if (j >= a0 && j < a1) update<NV>(acc0, v, sc0[j * rs], w0[j * rs], t.round_f16);
    if (pair && j >= b0 && j < b1) update<NV>(acc1, v, sc0[j * rs + 1], w0[j * rs + 1], t.round_f16);
  }
  for (int i = 0; i < NV; ++i) {
    _mm256_storeu_ps(acc0p + 8 * i, acc0[i]);
    if (pair) _mm256_storeu_ps(acc1p + 8 * i, acc1[i]);
  }
}

void accumulate(const AttnAccumulateTask& t) {
  const int64_t D = t.head_dim;
  for (int64_t r = 0; r < t.n_rows; r += 2) {
    const bool pair = r + 1 < t.n_rows;
    if (t.j0[r] >= t.j1[r] && (!pair || t.j0[r + 1] >= t.j1[r + 1])) continue;
    int64_t dc = 0;
    for (; D - dc > 24; dc += 32) accumulate_cols<4>(t, r, pair, dc);
    if (D - dc > 16) {
      accumulate_cols<3>(t, r, pair, dc);
    } else if (D - dc > 8) {
      accumulate_cols<2>(t, r, pair, dc);
    } else if (D - dc > 0) {
      accumulate_cols<1>(t, r, pair, dc);
    }
  }
}

}  // namespace

const AttentionIsaKernels kAttnAvx2Kernels = {&scores, &softmax, &accumulate, &exp_array};

}  // namespace nomoat::kernels

#else  // built without AVX2 flags (non-x86 target): no kernels

namespace nomoat::kernels {
const AttentionIsaKernels kAttnAvx2Kernels = {nullptr, nullptr, nullptr, nullptr};
}

#endif
