// Matmul kernels over the row-interleaved x16 weight layouts of
// tensor/packed.h: one code path for a single token (decode) and for a
// batch of prompt tokens (GEMM).
//
// A kernel computes a tile of 16 rows x N tokens: for each block it loads
// the group's 16-row weight vectors once, unpacks them once, and runs one
// VNNI vpdpbusd per 4 k values per token against that token's 4 int8
// activations broadcast to all lanes; the int32 block sums (already holding
// the zero-point corrections as their start value) are converted and scaled
// into 16 float sums per token. N is up to 10 tokens, which keeps all
// accumulators in the 32 zmm registers.
// Blocking: k is cut into slices and tokens into blocks whose int8
// activations for a slice stay in L2 (about 256 KiB); within a block each
// 16-row group runs all its token tiles while its weights sit in L1/L2.
// Tasks are (token block, range of row groups), claimed dynamically by the
// thread pool, one k slice after another.
//
// Why two activation formats. On Zen 4 a zmm FMA or multiply takes the
// same issue slot as a vpdpbusd, while conversions, integer adds, shifts
// and float adds go to other pipes (measured: bench/packed_bench.cpp and
// the note in docs/kernels.md). Per 32-value block and token, Q8_0 and Q4_0
// need 8 vpdpbusd plus a multiply (weight scale x activation scale) and an
// FMA: at most 80 % of the vpdpbusd peak. Their activations are quantized
// per 32 values exactly as for the unpacked kernels (scale amax / 127), so
// both paths compute the same sums. The K-quants' own scales are per group
// inside a 256-value super-block, so their activations get one scale per
// super-block (like the reference engine's Q8_K): the group scale then
// costs one FMA per group and the activation scale one per super-block, and
// Q4_K's min term becomes integer dot products (below).
//
// ODR: included by the AVX-512 translation unit; only plain structs here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "kernels/fast_matmul.h"

namespace nomoat::kernels {

// Activations in panels of `panel` tokens (the kernel's tile width, or 1
// for a single token; the last panel is padded). Panel p holds, per 32-value block
// b, 8 quads of 4 values, each quad as `panel` tokens x 4 bytes:
//   qs + ((p * n_blocks + b) * 8 + q) * 4 * panel + 4 * t
// so a kernel reaches every token of its tile from one pointer with
// constant offsets, and one tile's activations are contiguous (no cache-set
// conflicts between tokens). The per-block arrays are laid out the same way:
//   scales[(p * n_scales + s) * panel + t]   (s: block, or super-block for K-quants)
//   bias[(p * n_blocks * bias_per_block + h) * panel + t]
//   min_sums[((p * n_superblocks + s) * panel + t) * 4 + w]
struct PackedActivations {
  const int8_t* qs = nullptr;
  // Q8_0, Q4_0: per 32-value block; Q4_K, Q6_K: per 256-value super-block.
  const float* scales = nullptr;
  int64_t n_scales = 0;  // per panel
  // Q8_0: -128 * sum(a) per block; Q4_0: -8 * sum(a); Q6_K: -32 * sum(a)
  // per 16-value half block (bias_per_block 2); Q4_K: none.
  const int32_t* bias = nullptr;
  int64_t bias_per_block = 1;
  // Q4_K: the 8 block sums S of each super-block (|S| <= 32 * 127) as bytes
  // H = floor(S / 64), L = S - 64 H (0..63), for vpdpbusd against the 6-bit
  // mins: word 0 = H of blocks 0-3, 1 = H of 4-7, 2 = L of 0-3, 3 = L of 4-7.
  const int32_t* min_sums = nullptr;
  int64_t n_blocks = 0;
  int64_t panel = 0;
  // The AMX kernels (packed_matmul_amx.cpp) take bf16 activations instead
  // of all of the above: per 32-value block b and tile p of 16 tokens, 16
  // token rows of 32 values (1 KiB), 64-byte aligned, k slice by k slice
  // (slice_blocks blocks each, the last one maybe shorter) and within a
  // slice tile by tile, so a range of tiles over one slice (what a task
  // reads) is contiguous. Block b = s * slice_blocks + c of slice s, whose
  // length is len_s, starts at
  //   bf16 + ((s * slice_blocks * n_tiles + p * len_s + c) * 16 + t) * 32.
  // (Block-major, a 256-token block of a 512-token prompt used every other
  // 16 KiB of the buffer: half of L2's sets, which it overflowed.)
  const uint16_t* bf16 = nullptr;
  int64_t n_tiles = 0;
  int64_t slice_blocks = 0;
};

struct PackedTask {
  const uint8_t* data = nullptr;  // the packed matrix
  size_t group_bytes = 0;
  size_t block_bytes = 0;   // body + scales of one block in a group
  int64_t blocks = 0;       // blocks (super-blocks) per row
  int64_t chunk_blocks = 0; // blocks per L1 chunk (a multiple of the scale unit)
  // The k slice of this task, in blocks (VNNI: multiples of chunk_blocks;
  // AMX: the activations' slices; or the row's end). A slice that does not
  // start at 0 adds to what y holds.
  int64_t block_begin = 0;
  int64_t block_end = 0;
  int64_t rows = 0;         // valid rows; y's stride per token
  int64_t group_begin = 0;  // 16-row groups of this task
  int64_t group_end = 0;
  int64_t t_begin = 0;  // tokens of this task
  int64_t t_end = 0;
  const PackedActivations* acts = nullptr;
  float* y = nullptr;  // y[t * rows + r]
  // Decode only: bytes ahead of the block being read that the kernel
  // prefetches (0: none); decode_prefetch_bytes().
  int prefetch = 0;
  // A matrix in its GGUF layout (AmxKernels::gguf): data holds the rows as
  // stored, row_bytes apart, a "group" is 16 consecutive rows, and a block
  // is one of the type's blocks (block_values values), turned into floats
  // by `dequantize`. Unset for packed matrices.
  size_t row_bytes = 0;
  int64_t block_values = 0;
  void (*dequantize)(const void* blocks, float* out, int64_t n) = nullptr;  // DequantizeFn (tensor/dtype.h)
};

// At most this many tokens per VNNI task (those kernels keep partial sums
// for them on the stack: 15 KiB); a multiple of every panel width. (AMX
// tasks keep their sums in tile registers; their blocks are sized by
// activation bytes, packed_matmul.cpp.)
inline constexpr int64_t kMaxPackedTokens = 240;

using PackedKernel = void (*)(const PackedTask& task);

struct PackedKernels {
  int panel_q8_0 = 0;  // tile width (tokens per panel) of each kernel; 1 token: panel 1
  int panel_q4_0 = 0;
  int panel_q4_k = 0;
  int panel_q5_k = 0;  // = panel_q4_k: Q5_K takes Q4_K's activations
  int panel_q6_k = 0;
  PackedKernel q8_0 = nullptr;
  PackedKernel q4_0 = nullptr;
  PackedKernel q4_k = nullptr;
  PackedKernel q5_k = nullptr;
  PackedKernel q6_k = nullptr;
};

extern const PackedKernels kAvx512PackedKernels;      // packed_matmul_avx512.cpp
extern const PackedKernels kAvx512GfniPackedKernels;  // packed_matmul_avx512_gfni.cpp (empty without GFNI)

// The GFNI variant of the VNNI kernels (same results, fewer instructions
// to unpack nibbles): built in, and CPUID reports GFNI; asked once.
bool gfni_supported();
// Whether the packed kernels use it: supported, and not turned off by
// NOMOAT_GFNI=0 or by set_gfni_override.
bool gfni_enabled();
// Tests and benchmarks: force GFNI off (false) or back on where supported
// (true); nullopt returns to the environment's choice.
void set_gfni_override(std::optional<bool> on);
// AMX kernels for prompt batches (packed_matmul_amx.cpp; all null where
// the compiler lacks AMX): the same packed weights, dequantized to bf16
// tiles per task.
struct AmxKernels {
  PackedKernel q8_0 = nullptr;
  PackedKernel q4_0 = nullptr;
  PackedKernel q4_k = nullptr;
  PackedKernel q5_k = nullptr;
  PackedKernel q6_k = nullptr;
  // Any quantized type in its GGUF layout (the types without a packed
  // layout, and every type under --no-repack): each task dequantizes its
  // rows' k slice with the type's dequantizer (tensor/) and rounds it to
  // bf16 B tiles.
  PackedKernel gguf = nullptr;
  // Tokens [t0, t1) of x (n x k floats) into the bf16 layout above; the
  // call with t1 == n also zeroes the padding tokens of the last tile.
  void (*activations)(const float* x, int64_t t0, int64_t t1, int64_t n, int64_t k, int64_t n_tiles,
                      int64_t slice_blocks, uint16_t* out) = nullptr;
};
extern const AmxKernels kAmxKernels;

// Prompt batches of at least this many tokens run on AMX where
// amx_enabled() (kernels/amx.h); fewer would leave most of a 16-row tile idle.
inline constexpr int64_t kAmxMinTokens = 16;
inline constexpr int64_t kAmxTileTokens = 16;

// Whether a batch of n_vectors tokens against w runs on AMX in
// matmul_packed: at least kAmxMinTokens, amx_enabled(), an AVX-512 VNNI
// `isa`, and w either packed (types with AMX kernels) or a quantized type
// with a dequantizer in its GGUF layout (whole 32-value blocks).
bool amx_takes(Isa isa, const MatrixView& w, int64_t n_vectors);

// Whether weights should be packed at load for `isa` (it has packed kernels).
bool isa_uses_packed_weights(Isa isa);
// Whether matmul_packed can run `w` on `isa` (w.packed set, kernel present).
bool has_packed_matmul(Isa isa, const MatrixView& w);
// y[t][r] = sum_c w[r][c] x[t][c] from w.packed (or, where amx_takes, from
// w's GGUF rows), like kernels::matmul.
void matmul_packed(Isa isa, const MatrixView& w, const float* x, int64_t n_vectors, float* y, int threads);
// The same for n_matrices matrices of one width on one input x (ys[i] =
// ws[i] x; every ws[i] has_packed_matmul, or every one amx_takes): x is converted once per
// activation layout, and each k slice of all of them is one thread-pool
// run. (Pointers, not std::span: the ISA files include this header.)
void matmul_packed_shared(Isa isa, const MatrixView* const* ws, size_t n_matrices, const float* x, int64_t n_vectors,
                          float* const* ys, int threads);

}  // namespace nomoat::kernels
