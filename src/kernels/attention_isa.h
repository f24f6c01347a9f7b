// Interface between the attention dispatcher (attention.cpp) and its ISA
// translation units (attention_avx2.cpp, attention_avx512.cpp). Plain
// structs and declarations only: the ISA files must see no inline function
// or template (see the ODR note in fast_matmul.h).
#pragma once

#include <cstddef>
#include <cstdint>

namespace nomoat::kernels {

// Keys per kernel call: a block's scores of all rows fit in L1, and the
// transposed keys (head_dim x 32 doubles) are 16 KiB at head_dim 64.
constexpr int64_t kAttnKeyBlock = 32;

// n rows of head_dim values (fp16 or float): row i starts at
// base + i * stride bytes.
struct AttnRows {
  const void* base;
  size_t stride;
  bool f16;
};

// s[r * kAttnKeyBlock + j] = (float) sum_d q[r * q_stride + d] * k_j[d] for
// r < n_rows, j < n_keys: every product and the sum in double, d in order
// (0 .. head_dim-1), which is bit for bit the reference's dot (a float
// product is exact in double, so an FMA rounds like a multiply-add).
struct AttnScoresTask {
  const float* q;
  int64_t q_stride;
  int64_t n_rows;
  int64_t head_dim;
  AttnRows k;
  int64_t n_keys;  // <= kAttnKeyBlock
  double* kt;      // scratch of head_dim * kAttnKeyBlock doubles
  float* s;
};

// For each row r and key j in [j0[r], j1[r]), in order of j:
//   if rescale[r][j] != 1: acc_r = round(acc_r * rescale[r][j])
//   acc_r = round(fma(v_j, weight[r][j], acc_r))
// where round is to fp16 (round to nearest even) when round_f16, else none.
// acc has acc_stride >= head_dim floats per row, padded to a multiple of 16
// with zeros that stay zero.
struct AttnAccumulateTask {
  int64_t n_rows;
  int64_t head_dim;
  AttnRows v;
  const int32_t* j0;
  const int32_t* j1;
  const float* rescale;  // n_rows x kAttnKeyBlock
  const float* weight;   // n_rows x kAttnKeyBlock
  bool round_f16;
  float* acc;
  int64_t acc_stride;
};

struct AttentionIsaKernels {
  void (*scores)(const AttnScoresTask& task);
  void (*accumulate)(const AttnAccumulateTask& task);
};

extern const AttentionIsaKernels kAttnAvx2Kernels;    // attention_avx2.cpp
extern const AttentionIsaKernels kAttnAvx512Kernels;  // attention_avx512.cpp

}  // namespace nomoat::kernels
