// Matmul kernels over the row-interleaved x16 weight layouts of
// tensor/packed.h: one code path for a single token (decode) and for a
// batch of prompt tokens (GEMM).
//
// A kernel computes a tile of 16 rows x N tokens: for each block it loads
// the group's 16-row weight vectors once, unpacks them once, and runs one
// VNNI vpdpbusd per 4 k values per token against that token's 4 int8
// activations broadcast to all lanes; the int32 block sums (already holding
// the zero-point corrections as their start value) are converted and scaled
// by the 16 weight scales x the token's activation scale into 16 float sums
// per token. N is up to 12 tokens (8 for Q6_K), which keeps all
// accumulators in the 32 zmm registers, so the arithmetic is almost only
// vpdpbusd (measured 83-85% of the int8 peak in L1 on Zen 4).
// Blocking: tokens are cut into column blocks whose int8 activations stay
// in L2 (about 256 KiB); within a block each 16-row group runs all its
// token tiles while its weights sit in L1/L2. Tasks are (column block,
// range of row groups), claimed dynamically by the thread pool.
//
// Activations are quantized exactly as for the unpacked fast kernels
// (32-value blocks, int8, scale amax/127), so both paths compute the same
// sums and tests compare them closely.
//
// ODR: included by the AVX-512 translation unit; only plain structs here.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/fast_matmul.h"

namespace nomoat::kernels {

// Activations in panels of `panel` tokens (the kernel's tile width, or 1
// for a single token; the last panel is padded). Panel p holds, per 32-value block
// b, 8 quads of 4 values, each quad as `panel` tokens x 4 bytes:
//   qs + ((p * n_blocks + b) * 8 + q) * 4 * panel + 4 * t
// so a kernel reaches every token of its tile from one pointer with
// constant offsets, and one tile's activations are contiguous (no cache-set
// conflicts between tokens). The per-block arrays are laid out the same way:
//   scales[(p * n_blocks + b) * panel + t]
//   bias[(p * n_blocks * bias_per_block + h) * panel + t]
struct PackedActivations {
  const int8_t* qs = nullptr;
  const float* scales = nullptr;  // per 32-value block
  // Q8_0: -128 * sum(a) per block; Q4_0: -8 * sum(a); Q6_K: -32 * sum(a)
  // per 16-value half block (bias_per_block 2); Q4_K: none.
  const int32_t* bias = nullptr;
  int64_t bias_per_block = 1;
  const float* scaled_sums = nullptr;  // Q4_K: scale * sum(a) per block
  int64_t n_blocks = 0;
  int64_t panel = 0;
};

struct PackedTask {
  const uint8_t* data = nullptr;  // the packed matrix
  size_t group_bytes = 0;
  size_t block_bytes = 0;   // body + scales of one block in a group
  int64_t blocks = 0;       // blocks (super-blocks) per row
  int64_t chunk_blocks = 0; // blocks per L1 chunk (a multiple of the scale unit)
  // The k slice of this task, in blocks (multiples of chunk_blocks, or the
  // row's end). A slice that does not start at 0 adds to what y holds.
  int64_t block_begin = 0;
  int64_t block_end = 0;
  int64_t rows = 0;         // valid rows; y's stride per token
  int64_t group_begin = 0;  // 16-row groups of this task
  int64_t group_end = 0;
  int64_t t_begin = 0;  // tokens of this task
  int64_t t_end = 0;
  const PackedActivations* acts = nullptr;
  float* y = nullptr;  // y[t * rows + r]
};

// At most this many tokens per task (the kernels keep partial sums for
// them on the stack: 15 KiB); a multiple of every panel width.
inline constexpr int64_t kMaxPackedTokens = 240;

using PackedKernel = void (*)(const PackedTask& task);

struct PackedKernels {
  int panel_q8_0 = 0;  // tile width (tokens per panel) of each kernel; 1 token: panel 1
  int panel_q4_0 = 0;
  int panel_q4_k = 0;
  int panel_q6_k = 0;
  PackedKernel q8_0 = nullptr;
  PackedKernel q4_0 = nullptr;
  PackedKernel q4_k = nullptr;
  PackedKernel q6_k = nullptr;
};

extern const PackedKernels kAvx512PackedKernels;  // packed_matmul_avx512.cpp

// Whether weights should be packed at load for `isa` (it has packed kernels).
bool isa_uses_packed_weights(Isa isa);
// Whether matmul_packed can run `w` on `isa` (w.packed set, kernel present).
bool has_packed_matmul(Isa isa, const MatrixView& w);
// y[t][r] = sum_c w[r][c] x[t][c] from w.packed, like kernels::matmul.
void matmul_packed(Isa isa, const MatrixView& w, const float* x, int64_t n_vectors, float* y, int threads);

}  // namespace nomoat::kernels
