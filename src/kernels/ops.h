// Scalar reference kernels of the forward pass. Plain loops in float (sums in
// double where it keeps results stable): these define what the fast kernels
// must compute and are what they are tested against.
#pragma once

#include <cstdint>
#include <span>

#include "tensor/view.h"

namespace nomoat::kernels {

// y[t][r] = sum_c w[r][c] * x[t][c] for t < n_vectors, r < w.rows.
// x is n_vectors x w.cols, y is n_vectors x w.rows (row-major).
// Runs the fast kernel of kernels::active_isa() when there is one for w's
// type (kernels/fast_matmul.h: Q8_0/Q4_0 quantize x to int8 blocks, so they
// differ from the reference by that rounding), else matmul_reference.
void matmul(const MatrixView& w, const float* x, int64_t n_vectors, float* y, int threads = 1);
// ys[i] = ws[i] x for matrices of one width on one input (a layer's Q, K
// and V, or the FFN's gate and up): the same results as one matmul each,
// but where all of them run on repacked weights, x is converted once and
// they share one thread-pool run (fewer joins, and the small K/V matrices
// no longer leave a thread idle on their own).
void matmul_shared_input(std::span<const MatrixView* const> ws, const float* x, int64_t n_vectors,
                         std::span<float* const> ys, int threads = 1);
// The scalar reference of matmul: each row dequantized, dot in double.
void matmul_reference(const MatrixView& w, const float* x, int64_t n_vectors, float* y, int threads = 1);

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

// Rotary position embedding of the first `rope_dim` values of one head:
// pair i turns by pos * freq[i] radians. `neox` rotates (i, i + rope_dim/2)
// pairs, otherwise adjacent (2i, 2i+1) pairs. Every scaling scheme (linear,
// YaRN, rope_freqs / LongRoPE divisors) only changes `freq`, so callers
// compute it once per layer (model/rope_scaling.h); cos and sin are
// multiplied by `mscale` (YaRN's and LongRoPE's attention factor).
// Frequencies are double: pos * freq must stay exact to ~1e-7 rad at long
// positions.
void rope(float* x, int64_t rope_dim, int64_t pos, const double* freq, float mscale, bool neox);
// rope() in two steps, so the cos/sin of a position (the double-precision
// part) are computed once and shared by every head and layer: rope() is
// rope_cos_sin then rope_apply, bit for bit. `half` = rope_dim / 2.
void rope_cos_sin(int64_t half, int64_t pos, const double* freq, float mscale, float* cos, float* sin);
void rope_apply(float* x, int64_t rope_dim, const float* cos, const float* sin, bool neox);

}  // namespace nomoat::kernels
