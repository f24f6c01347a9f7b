// AVX-512 GLU activations (design: activation.h). Compiled with AVX-512
// flags for this file only; includes nothing that defines inline functions
// or templates outside this file (see fast_matmul.h).
#include "kernels/activation.h"

#if defined(__AVX512F__) && defined(__FMA__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // see fast_matmul_avx512.cpp
#include <immintrin.h>

namespace nomoat::kernels {
namespace {

// e^x: x = n ln2 + r with |r| <= ln2 / 2 (ln2 split in two so n ln2 is
// exact), e^r by its Taylor polynomial to degree 6 (truncation below 3e-8
// relative), then times 2^n by vscalefps, which saturates to inf / 0 like
// expf. The clamp keeps n finite for any input (NaN stays NaN).
inline __m512 exp512(__m512 x) {
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-104.0f)), _mm512_set1_ps(89.0f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.0f / 720.0f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, n);
}

// x / (1 + e^-x)
inline __m512 silu512(__m512 x) {
  return _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), exp512(_mm512_sub_ps(_mm512_setzero_ps(), x))));
}

// 0.5 x (1 + tanh(y)) with y = sqrt(2/pi) (x + 0.044715 x^3), written as
// x / (1 + e^-2y): the same value without the cancellation of 1 + tanh(y)
// for negative y.
inline __m512 gelu512(__m512 x) {
  const __m512 x3 = _mm512_mul_ps(_mm512_mul_ps(x, x), x);
  const __m512 y = _mm512_mul_ps(_mm512_set1_ps(-1.5957691216057308f), _mm512_fmadd_ps(_mm512_set1_ps(0.044715f), x3, x));
  return _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), exp512(y)));
}

template <__m512 (*Act)(__m512)>
void glu_rows(float* g, const float* u, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m512 a = Act(_mm512_maskz_loadu_ps(m, g + i));
    _mm512_mask_storeu_ps(g + i, m, _mm512_mul_ps(a, _mm512_maskz_loadu_ps(m, u + i)));
  }
}

}  // namespace

void glu_silu_avx512(float* g, const float* u, int64_t n) { glu_rows<&silu512>(g, u, n); }
void glu_gelu_avx512(float* g, const float* u, int64_t n) { glu_rows<&gelu512>(g, u, n); }

}  // namespace nomoat::kernels

#else

namespace nomoat::kernels {
void glu_silu_avx512(float*, const float*, int64_t) {}
void glu_gelu_avx512(float*, const float*, int64_t) {}
}  // namespace nomoat::kernels

#endif
