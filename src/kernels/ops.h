// Scalar reference kernels of the forward pass. Plain loops in float (sums in
// double where it keeps results stable): these define what the fast kernels
// must compute and are what they are tested against.
#pragma once

#include <cstdint>

#include "tensor/view.h"

namespace nomoat::kernels {

// y[t][r] = sum_c w[r][c] * x[t][c] for t < n_vectors, r < w.rows.
// x is n_vectors x w.cols, y is n_vectors x w.rows (row-major).
void matmul(const MatrixView& w, const float* x, int64_t n_vectors, float* y, int threads = 1);

// Row r of w as floats (embedding lookup).
void dequantize_row(const MatrixView& w, int64_t r, float* out);

// out = x / sqrt(mean(x^2) + eps) * weight (weight may be null: no scaling).
void rms_norm(const float* x, const float* weight, int64_t n, float eps, float* out);
// out = (x - mean) / sqrt(var + eps) * weight + bias (either may be null).
void layer_norm(const float* x, const float* weight, const float* bias, int64_t n, float eps, float* out);

// In-place softmax of n values.
void softmax(float* x, int64_t n);

float silu(float x);
float gelu_tanh(float x);

// Rotary position embedding of one head vector of `head_dim` values, over
// the first `rope_dim` of them. `neox` rotates (i, i + rope_dim/2) pairs,
// otherwise adjacent (2i, 2i+1) pairs. `freq_factors` (or null) divides the
// per-pair frequencies (Llama 3.1 style scaling); `freq_scale` multiplies the
// position (linear scaling).
void rope(float* x, int64_t head_dim, int64_t rope_dim, int64_t pos, float base, float freq_scale,
          const float* freq_factors, bool neox);

}  // namespace nomoat::kernels
