// AVX2 attention block kernels (contract: attention_isa.h; design:
// attention.h). Compiled with -mavx2 -mfma -mf16c for this file only;
// includes nothing that defines inline functions or templates outside it.
#include "kernels/attention_isa.h"

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

// kt[d * KB + j] = k_j[d] as double; keys past n_keys are 0. 4 x 4 tiles
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
      for (int64_t i = 0; i < n; ++i) _mm256_store_pd(t.kt + (d + i) * KB + j, out[i]);
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
      const double* k = t.kt + d * KB;
      const __m256d x = _mm256_set1_pd(static_cast<double>(q[d]));
      for (int i = 0; i < 8; ++i) a[i] = _mm256_fmadd_pd(x, _mm256_load_pd(k + 4 * i), a[i]);
    }
    float* s = t.s + r * KB;
    for (int i = 0; i < 8; ++i) _mm_storeu_ps(s + 4 * i, _mm256_cvtpd_ps(a[i]));
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
  const float* sc0 = t.rescale + r * KB;
  const float* w0 = t.weight + r * KB;
  for (int32_t j = lo; j < hi; ++j) {
    const uint8_t* row = row_ptr(t.v, j);
    for (int i = 0; i < NV; ++i) v[i] = load8(t.v, row, dc + 8 * i, D - dc - 8 * i);
    if (j >= a0 && j < a1) update<NV>(acc0, v, sc0[j], w0[j], t.round_f16);
    if (pair && j >= b0 && j < b1) update<NV>(acc1, v, sc0[KB + j], w0[KB + j], t.round_f16);
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

const AttentionIsaKernels kAttnAvx2Kernels = {&scores, &accumulate};

}  // namespace nomoat::kernels

#else  // built without AVX2 flags (non-x86 target): no kernels

namespace nomoat::kernels {
const AttentionIsaKernels kAttnAvx2Kernels = {nullptr, nullptr};
}

#endif
