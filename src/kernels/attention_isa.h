// Interface between the attention dispatcher (attention.cpp) and its ISA
// translation units (attention_avx2.cpp, attention_avx512.cpp). Plain
// structs and declarations only: the ISA files must see no inline function
// or template (see the ODR note in fast_matmul.h).
#pragma once

#include <cstddef>
#include <cstdint>

namespace nomoat::kernels {

// Keys per kernel call: a block's scores of all rows fit in L1, and the
// keys as doubles (head_dim x 32) are 16 KiB at head_dim 64.
constexpr int64_t kAttnKeyBlock = 32;

// n rows of head_dim values (fp16 or float): row i starts at
// base + i * stride bytes.
struct AttnRows {
  const void* base;
  size_t stride;
  bool f16;
};

// Per block of keys the kernels exchange rows x keys arrays stored key-major:
// entry (r, j) at [j * row_stride + r], row_stride a multiple of 16 (>=
// n_rows), so 16 rows of one key are one aligned vector.

// s(r, j) = (float) sum_d q_r[d] * k_j[d] for r < n_rows, j < n_keys: every
// product and the sum in double, d in order (0 .. head_dim-1), which is bit
// for bit the reference's dot (a float product is exact in double, so an
// FMA rounds like a multiply-add). The queries come twice: row-major floats
// q[r * q_stride + d], and as doubles transposed, qt[d * row_stride + r]
// (rows up to row_stride zero). s, qt and scratch are 64-byte aligned.
struct AttnScoresTask {
  const float* q;
  int64_t q_stride;
  const double* qt;
  int64_t n_rows;
  int64_t head_dim;
  AttnRows k;
  int64_t n_keys;   // <= kAttnKeyBlock
  double* scratch;  // head_dim * kAttnKeyBlock doubles (+ 8)
  float* s;
  int64_t row_stride;
};

// The online softmax over one block of keys, per row r < n_rows and key j
// in [j0[r], j1[r]) in order of j, with the running max m[r] and sum l[r]:
//   x = s(r, j) * scale
//   if x > m: rescale = exp_f32(m - x), weight = 1, m = x
//   else:     rescale = 1, weight = exp_f32(x - m)
//   l = l * rescale + weight   (a multiply, then an add: never fused)
// and rescale(r, j) = 1, weight(r, j) = 0 for the other keys j < n_keys.
// m and l have n_rows entries.
struct AttnSoftmaxTask {
  const float* s;
  int64_t n_rows;
  int64_t n_keys;
  const int32_t* j0;
  const int32_t* j1;
  float scale;
  float* m;
  float* l;
  float* rescale;
  float* weight;
  int64_t row_stride;
};

// For each row r and key j in [j0[r], j1[r]), in order of j:
//   if rescale(r, j) != 1: acc_r = round(acc_r * rescale(r, j))
//   acc_r = round(fma(v_j, weight(r, j), acc_r))
// where round is to fp16 (round to nearest even) when round_f16, else none.
// acc has acc_stride >= head_dim floats per row, padded to a multiple of 16
// with zeros that stay zero. (With round_f16 every acc value is an fp16
// value, so a rescale by 1 would change nothing: kernels may apply one.)
struct AttnAccumulateTask {
  int64_t n_rows;
  int64_t head_dim;
  AttnRows v;
  const int32_t* j0;
  const int32_t* j1;
  const float* rescale;
  const float* weight;
  int64_t row_stride;
  bool round_f16;
  float* acc;
  int64_t acc_stride;
};

struct AttentionIsaKernels {
  void (*scores)(const AttnScoresTask& task);
  void (*softmax)(const AttnSoftmaxTask& task);
  void (*accumulate)(const AttnAccumulateTask& task);
  // y[i] = exp_f32(x[i]) for i < n (exp_f32.h), bit for bit.
  void (*exp)(const float* x, float* y, int64_t n);
};

extern const AttentionIsaKernels kAttnAvx2Kernels;    // attention_avx2.cpp
extern const AttentionIsaKernels kAttnAvx512Kernels;  // attention_avx512.cpp

}  // namespace nomoat::kernels
