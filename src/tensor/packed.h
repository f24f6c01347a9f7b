// Row-interleaved ("x16") copies of quantized weight matrices, made once at
// load so the matmul kernels read 16 rows with one vector load.
//
// Why: in the GGUF layout a row's blocks are contiguous, so a SIMD dot
// product covers one row and ends in a horizontal sum, and a batch of
// prompt tokens reloads and re-unpacks each block for every token tile. Here
// 16 consecutive rows form a group, and within a group the quantized values
// are interleaved so that one 64-byte load holds 4 consecutive k values of
// each of the 16 rows: one VNNI vpdpbusd then does 16 rows x 4 k against
// one broadcast 4-byte chunk of an activation, the 16 results land in the 16
// lanes of one accumulator (no horizontal sums), and the unpacked weights
// serve a whole tile of tokens from registers. The bit widths do not change:
// a packed matrix has as many bytes as the original (plus padding: the last
// group to 16 rows, an odd last block's scale unit), so decode streams the
// same number of bytes.
//
// Layout of a 16-row group, in k order: units of 64 bytes of fp16 block
// scales ("tails") for the next 64 / tail_bytes blocks (2, or 1 for Q4_K and Q5_K),
// followed by those blocks' bodies. Bodies are multiples of 64 bytes, so
// every vector load is aligned (scales in front of each body made half the
// loads of Q8_0 and Q4_0 split cache lines), and decode reads each group
// strictly forward: with a chunk's scales stored apart from its bodies,
// before or after them, the hardware prefetchers fell behind and one core
// streamed 11 instead of 19+ GB/s. Below, "quad i" = 16 rows x 4 bytes,
// byte 4r + m belongs to row r.
//   Q8_0x16, per 32-value block: body 8 quads (512 bytes), quad i holds
//     values 4i..4i+3 as unsigned bytes q + 128 (vpdpbusd multiplies
//     unsigned by signed; the + 128 comes back out as -128 * sum(a));
//     tail d[16].
//   Q4_0x16, per block: body 4 quads of nibbles (256 bytes), quad i low
//     nibbles = values 4i..4i+3, high nibbles = values 16+4i..16+4i+3;
//     tail d[16].
//   Q4_Kx16, per 256-value super-block: body = the 12 packed scale bytes as
//     3 quads (quad j = scale bytes 4j..4j+3), then each of the 8 groups of
//     32 as 4 nibble quads arranged as Q4_0 (2240 bytes); tail d[16],
//     dmin[16].
//   Q5_Kx16, per super-block: Q4_Kx16's body, with each group's 4 nibble
//     quads followed by one quad of their fifth bits as 8 little-endian
//     64-bit masks, one per byte of a quad: mask i (0..3) for the low
//     nibbles of quad i, mask 4 + i for its high nibbles (2752 bytes); tail
//     d[16], dmin[16].
//   Q6_Kx16, per super-block: body = 16 groups x 16 int8 scales
//     (group-major, one byte per row), then for each 32-value unit 4 nibble
//     quads of the low 4 bits (as Q4_0) and 2 quads of high 2-bit pairs:
//     quad h byte 4r + m, bits 2v..2v+1 = high bits of value 16h + 4v + m
//     (3328 bytes); tail d[16].
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "tensor/dtype.h"

namespace nomoat {

struct MatrixView;

inline constexpr int kPackRows = 16;

struct PackedMatrix {
  DType type = DType::F32;  // the source type (Q8_0, Q4_0, Q4_K, Q5_K, Q6_K)
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t row_groups = 0;   // ceil(rows / 16); rows past `rows` are zero
  int64_t blocks = 0;       // blocks (or super-blocks) per row
  size_t body_bytes = 0;    // bytes of one block's body in a 16-row group
  size_t tail_bytes = 0;    // bytes of one block's scales (32 or 64)
  int64_t chunk_blocks = 0; // blocks the kernels keep in L1 at once (a multiple of the unit)
  size_t group_bytes = 0;   // units of scales + all bodies
  size_t bytes = 0;         // row_groups * group_bytes
  std::unique_ptr<uint8_t, void (*)(void*)> data{nullptr, nullptr};  // 64-byte aligned

  const uint8_t* group(int64_t g) const { return data.get() + static_cast<size_t>(g) * group_bytes; }
};

// Whether `type` has a packed layout.
bool packable(DType type);
// Bytes of one 16-row block's body / tail for `type` (0 when not packable).
size_t packed_body_bytes(DType type);
size_t packed_tail_bytes(DType type);
// Blocks per kernel chunk (about 8 KiB of weights) of `type`.
int64_t packed_chunk_blocks(DType type);

// Bytes of the packed copy of `w` (packable(w.type) must hold).
size_t packed_matrix_bytes(const MatrixView& w);

// The packed copy of `w` (packable(w.type) must hold), made on up to
// `threads` threads of the pool. It owns its memory, or, with `into`
// (64-byte aligned, packed_matrix_bytes(w) long), lives in the caller's
// memory: a model packs all its matrices into one huge-page buffer
// (base/huge_pages.h).
std::unique_ptr<PackedMatrix> pack_matrix(const MatrixView& w, int threads = 1, uint8_t* into = nullptr);

// Row r decoded from the packed copy; equals dequantizing the source row.
// The layout's reference, used by tests.
void dequantize_packed_row(const PackedMatrix& p, int64_t r, float* out);

}  // namespace nomoat
