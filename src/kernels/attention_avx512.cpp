// AVX-512 attention block kernels (contract: attention_isa.h; design:
// attention.h). Compiled with AVX-512 flags for this file only; includes
// nothing that defines inline functions or templates outside this file.
#include "kernels/attention_isa.h"

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

// 8 values of key row i from d on (lanes past n read as 0), as doubles.
inline __m512d load8_pd(const AttnRows& rows, int64_t i, int64_t d, int64_t n) {
  const uint8_t* row = row_ptr(rows, i);
  const __mmask8 m = n >= 8 ? static_cast<__mmask8>(0xff) : static_cast<__mmask8>((1u << n) - 1);
  if (rows.f16) return _mm512_cvtps_pd(_mm256_cvtph_ps(_mm_maskz_loadu_epi16(m, reinterpret_cast<const uint16_t*>(row) + d)));
  return _mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, reinterpret_cast<const float*>(row) + d));
}

// kt[d * KB + j] = k_j[d] as double; keys past n_keys are 0. 8 x 8 tiles
// transposed in registers (with few query rows, as when generating, this
// costs as much as the dot products).
void transpose_keys(const AttnScoresTask& t) {
  const int64_t D = t.head_dim;
  for (int64_t j = 0; j < KB; j += 8) {
    for (int64_t d = 0; d < D; d += 8) {
      __m512d r[8];
      for (int i = 0; i < 8; ++i) r[i] = j + i < t.n_keys ? load8_pd(t.k, j + i, d, D - d) : _mm512_setzero_pd();
      __m512d a[8], b[8];
      for (int i = 0; i < 8; i += 2) {
        a[i] = _mm512_unpacklo_pd(r[i], r[i + 1]);  // d = 0, 2, 4, 6 of keys i, i+1
        a[i + 1] = _mm512_unpackhi_pd(r[i], r[i + 1]);  // d = 1, 3, 5, 7
      }
      for (int h = 0; h < 8; h += 4) {
        b[h] = _mm512_shuffle_f64x2(a[h], a[h + 2], 0x88);      // d = 0, 4 of 4 keys
        b[h + 1] = _mm512_shuffle_f64x2(a[h], a[h + 2], 0xdd);  // d = 2, 6
        b[h + 2] = _mm512_shuffle_f64x2(a[h + 1], a[h + 3], 0x88);  // d = 1, 5
        b[h + 3] = _mm512_shuffle_f64x2(a[h + 1], a[h + 3], 0xdd);  // d = 3, 7
      }
      __m512d out[8];
      out[0] = _mm512_shuffle_f64x2(b[0], b[4], 0x88);
      out[4] = _mm512_shuffle_f64x2(b[0], b[4], 0xdd);
      out[2] = _mm512_shuffle_f64x2(b[1], b[5], 0x88);
      out[6] = _mm512_shuffle_f64x2(b[1], b[5], 0xdd);
      out[1] = _mm512_shuffle_f64x2(b[2], b[6], 0x88);
      out[5] = _mm512_shuffle_f64x2(b[2], b[6], 0xdd);
      out[3] = _mm512_shuffle_f64x2(b[3], b[7], 0x88);
      out[7] = _mm512_shuffle_f64x2(b[3], b[7], 0xdd);
      const int64_t n = D - d < 8 ? D - d : 8;
      for (int64_t i = 0; i < n; ++i) _mm512_store_pd(t.kt + (d + i) * KB + j, out[i]);
    }
  }
}

// Keys in lanes: each lane sums its own key's products over d in order, so
// the result is the reference's sequential double dot exactly. Two rows at
// a time give 8 independent FMA chains.
void scores(const AttnScoresTask& t) {
  transpose_keys(t);
  const int64_t D = t.head_dim;
  for (int64_t r = 0; r < t.n_rows; r += 2) {
    const float* q0 = t.q + r * t.q_stride;
    const float* q1 = r + 1 < t.n_rows ? q0 + t.q_stride : q0;
    __m512d a0 = _mm512_setzero_pd(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    for (int64_t d = 0; d < D; ++d) {
      const double* k = t.kt + d * KB;
      const __m512d k0 = _mm512_load_pd(k), k1 = _mm512_load_pd(k + 8), k2 = _mm512_load_pd(k + 16),
                    k3 = _mm512_load_pd(k + 24);
      const __m512d x = _mm512_set1_pd(static_cast<double>(q0[d]));
      const __m512d y = _mm512_set1_pd(static_cast<double>(q1[d]));
      a0 = _mm512_fmadd_pd(x, k0, a0);
      a1 = _mm512_fmadd_pd(x, k1, a1);
      a2 = _mm512_fmadd_pd(x, k2, a2);
      a3 = _mm512_fmadd_pd(x, k3, a3);
      b0 = _mm512_fmadd_pd(y, k0, b0);
      b1 = _mm512_fmadd_pd(y, k1, b1);
      b2 = _mm512_fmadd_pd(y, k2, b2);
      b3 = _mm512_fmadd_pd(y, k3, b3);
    }
    float* s0 = t.s + r * KB;
    _mm256_storeu_ps(s0, _mm512_cvtpd_ps(a0));
    _mm256_storeu_ps(s0 + 8, _mm512_cvtpd_ps(a1));
    _mm256_storeu_ps(s0 + 16, _mm512_cvtpd_ps(a2));
    _mm256_storeu_ps(s0 + 24, _mm512_cvtpd_ps(a3));
    if (r + 1 < t.n_rows) {
      float* s1 = s0 + KB;
      _mm256_storeu_ps(s1, _mm512_cvtpd_ps(b0));
      _mm256_storeu_ps(s1 + 8, _mm512_cvtpd_ps(b1));
      _mm256_storeu_ps(s1 + 16, _mm512_cvtpd_ps(b2));
      _mm256_storeu_ps(s1 + 24, _mm512_cvtpd_ps(b3));
    }
  }
}

inline __m512 round_f16(__m512 x) {
  return _mm512_cvtph_ps(_mm512_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

// One row's update by key j over NV vectors of 16 (see attention_isa.h).
template <int NV>
inline void update(__m512 (&acc)[4], const __m512 (&v)[4], float rescale, float weight, bool rnd) {
  if (rescale != 1.0f) {
    const __m512 s = _mm512_set1_ps(rescale);
    for (int i = 0; i < NV; ++i) {
      acc[i] = _mm512_mul_ps(acc[i], s);
      if (rnd) acc[i] = round_f16(acc[i]);
    }
  }
  const __m512 w = _mm512_set1_ps(weight);
  for (int i = 0; i < NV; ++i) {
    acc[i] = _mm512_fmadd_ps(v[i], w, acc[i]);
    if (rnd) acc[i] = round_f16(acc[i]);
  }
}

// Rows [r, r + n) (n <= 4) over columns [dc, dc + 16 * NV): the rows share
// each loaded value vector (one fp16 conversion for all) and give
// independent dependency chains (fma -> fp16 round trip is ~15 cycles of
// latency per key).
template <int NV>
void accumulate_cols(const AttnAccumulateTask& t, int64_t r, int n, int64_t dc) {
  const int64_t D = t.head_dim;
  __m512 acc[4][4], v[4];
  int32_t j0[4], j1[4];
  int32_t lo = static_cast<int32_t>(KB), hi = 0;  // the keys any row takes
  for (int i = 0; i < 4; ++i) {
    j0[i] = i < n ? t.j0[r + i] : 0;
    j1[i] = i < n ? t.j1[r + i] : 0;
    if (j0[i] < j1[i]) {
      lo = j0[i] < lo ? j0[i] : lo;
      hi = j1[i] > hi ? j1[i] : hi;
    }
    for (int k = 0; k < NV; ++k) {
      acc[i][k] = i < n ? _mm512_loadu_ps(t.acc + (r + i) * t.acc_stride + dc + 16 * k) : _mm512_setzero_ps();
    }
  }
  for (int32_t j = lo; j < hi; ++j) {
    const uint8_t* row = row_ptr(t.v, j);
    for (int k = 0; k < NV; ++k) v[k] = load16(t.v, row, dc + 16 * k, D - dc - 16 * k);
    for (int i = 0; i < 4; ++i) {
      if (j >= j0[i] && j < j1[i]) {
        update<NV>(acc[i], v, t.rescale[(r + i) * KB + j], t.weight[(r + i) * KB + j], t.round_f16);
      }
    }
  }
  for (int i = 0; i < n; ++i) {
    for (int k = 0; k < NV; ++k) _mm512_storeu_ps(t.acc + (r + i) * t.acc_stride + dc + 16 * k, acc[i][k]);
  }
}

void accumulate(const AttnAccumulateTask& t) {
  const int64_t D = t.head_dim;
  for (int64_t r = 0; r < t.n_rows; r += 4) {
    const int n = t.n_rows - r < 4 ? static_cast<int>(t.n_rows - r) : 4;
    int64_t dc = 0;
    for (; D - dc > 48; dc += 64) accumulate_cols<4>(t, r, n, dc);
    if (D - dc > 32) {
      accumulate_cols<3>(t, r, n, dc);
    } else if (D - dc > 16) {
      accumulate_cols<2>(t, r, n, dc);
    } else if (D - dc > 0) {
      accumulate_cols<1>(t, r, n, dc);
    }
  }
}

}  // namespace

const AttentionIsaKernels kAttnAvx512Kernels = {&scores, &accumulate};

}  // namespace nomoat::kernels

#else  // built without AVX-512 flags (non-x86 target): no kernels

namespace nomoat::kernels {
const AttentionIsaKernels kAttnAvx512Kernels = {nullptr, nullptr};
}

#endif
