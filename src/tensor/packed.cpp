// Packing into the x16 layouts described in packed.h, and their scalar
// decoder. Plain byte shuffles: this runs once per weight at load.
#include "tensor/packed.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "base/error.h"
#include "base/fp16.h"
#include "base/huge_pages.h"
#include "base/thread_pool.h"
#include "tensor/blocks.h"
#include "tensor/quant/kquant_search.h"
#include "tensor/view.h"

namespace nomoat {

namespace {

constexpr size_t kQuadBytes = 4 * kPackRows;  // 16 rows x 4 bytes

// The 256 unsigned quants of one Q6_K super-block of a source row.
struct Q6KQuants {
  uint8_t q[kQK_K];
};

// Value n of a Q6_K super-block (0..63): in half h, value 32k + l has its
// low 4 bits in ql[l + 32 (k % 2)] (high nibble when k >= 2) and its top
// 2 bits at bit 2k of qh[l].
void q6_k_quants(const BlockQ6_K& b, uint8_t* q) {
  for (int n = 0; n < kQK_K; ++n) {
    const int h = n / 128, k = (n % 128) / 32, l = n % 32;
    const uint8_t lo_byte = b.ql[64 * h + l + 32 * (k % 2)];
    const uint8_t lo = k < 2 ? (lo_byte & 15) : (lo_byte >> 4);
    const uint8_t hi = (b.qh[32 * h + l] >> (2 * k)) & 3;
    q[n] = static_cast<uint8_t>(lo | (hi << 4));
  }
}

// 4 nibble quads of 32 values per row (Q4_0 arrangement): quad i byte 4r+m
// = q[r][4i + m] | q[r][16 + 4i + m] << 4. q[r] points at row r's 32 values.
void put_nibble_quads(const uint8_t* const* q, uint8_t* out) {
  for (int i = 0; i < 4; ++i) {
    for (int r = 0; r < kPackRows; ++r) {
      for (int m = 0; m < 4; ++m) {
        const uint8_t lo = q[r] ? q[r][4 * i + m] : 0;
        const uint8_t hi = q[r] ? q[r][16 + 4 * i + m] : 0;
        out[kQuadBytes * i + 4 * r + m] = static_cast<uint8_t>((lo & 15) | (hi & 15) << 4);
      }
    }
  }
}

// What Q4_K and Q5_K blocks share, for row r: d and dmin into the tail, the
// 12 packed scale bytes as the body's first 3 quads.
template <class Block>
void put_scale_min_fields(const Block& blk, int r, uint16_t* d16, uint8_t* body) {
  d16[r] = blk.d;
  d16[kPackRows + r] = blk.dmin;
  for (int j = 0; j < 3; ++j) std::memcpy(body + kQuadBytes * j + 4 * r, blk.scales + 4 * j, 4);
}

// Offsets of block b's body and scales within its group.
struct BlockPlace {
  size_t body;
  size_t tail;
};

BlockPlace block_place(const PackedMatrix& p, int64_t b) {
  const int64_t unit_blocks = 64 / static_cast<int64_t>(p.tail_bytes);
  const size_t unit = static_cast<size_t>(b / unit_blocks) * (64 + static_cast<size_t>(unit_blocks) * p.body_bytes);
  const size_t j = static_cast<size_t>(b % unit_blocks);
  return BlockPlace{unit + 64 + j * p.body_bytes, unit + j * p.tail_bytes};
}

void pack_group(const MatrixView& w, const PackedMatrix& p, int64_t g, uint8_t* out) {
  const int64_t r0 = g * kPackRows;
  const int n_rows = static_cast<int>(std::min<int64_t>(kPackRows, w.rows - r0));
  std::memset(out, 0, p.group_bytes);
  for (int64_t b = 0; b < p.blocks; ++b) {
    const BlockPlace place = block_place(p, b);
    uint8_t* dst = out + place.body;
    uint16_t* d16 = reinterpret_cast<uint16_t*>(out + place.tail);
    switch (w.type) {
      case DType::Q8_0: {
        // Quad i of row r is source bytes 4i..4i+3 with the sign bit flipped.
        for (int r = 0; r < n_rows; ++r) {
          const BlockQ8_0& blk = reinterpret_cast<const BlockQ8_0*>(w.row(r0 + r))[b];
          d16[r] = blk.d;
          for (int i = 0; i < 8; ++i) {
            uint32_t word;
            std::memcpy(&word, blk.qs + 4 * i, 4);
            word ^= 0x80808080u;
            std::memcpy(dst + kQuadBytes * i + 4 * r, &word, 4);
          }
        }
        break;
      }
      case DType::Q4_0: {
        // The source already pairs value j (low nibble) with j + 16 (high):
        // quad i of row r is source bytes 4i..4i+3 as they are.
        for (int r = 0; r < n_rows; ++r) {
          const BlockQ4_0& blk = reinterpret_cast<const BlockQ4_0*>(w.row(r0 + r))[b];
          d16[r] = blk.d;
          for (int i = 0; i < 4; ++i) std::memcpy(dst + kQuadBytes * i + 4 * r, blk.qs + 4 * i, 4);
        }
        break;
      }
      case DType::Q4_K: {
        // Source chunk c (32 bytes): low nibbles = group 2c, high = 2c + 1,
        // value l at byte l. Packed group g quad i pairs values 4i.. (low)
        // with 16 + 4i.. (high) of the same group.
        for (int r = 0; r < n_rows; ++r) {
          const BlockQ4_K& blk = reinterpret_cast<const BlockQ4_K*>(w.row(r0 + r))[b];
          put_scale_min_fields(blk, r, d16, dst);
          for (int c = 0; c < 4; ++c) {
            for (int i = 0; i < 4; ++i) {
              uint32_t a, h;
              std::memcpy(&a, blk.qs + 32 * c + 4 * i, 4);
              std::memcpy(&h, blk.qs + 32 * c + 16 + 4 * i, 4);
              const uint32_t even = (a & 0x0f0f0f0fu) | ((h & 0x0f0f0f0fu) << 4);
              const uint32_t odd = ((a >> 4) & 0x0f0f0f0fu) | (h & 0xf0f0f0f0u);
              std::memcpy(dst + 3 * kQuadBytes + 256 * (2 * c) + kQuadBytes * i + 4 * r, &even, 4);
              std::memcpy(dst + 3 * kQuadBytes + 256 * (2 * c + 1) + kQuadBytes * i + 4 * r, &odd, 4);
            }
          }
        }
        break;
      }
      case DType::Q5_K: {
        // Q4_K's arrangement; value l of source chunk c (64 values: groups
        // 2c and 2c + 1) has its fifth bit at bit 2c (low nibble) or 2c + 1
        // (high) of qh[l].
        for (int r = 0; r < n_rows; ++r) {
          const BlockQ5_K& blk = reinterpret_cast<const BlockQ5_K*>(w.row(r0 + r))[b];
          put_scale_min_fields(blk, r, d16, dst);
          for (int g = 0; g < 8; ++g) {
            uint8_t* group = dst + 3 * kQuadBytes + 5 * kQuadBytes * g;
            const uint8_t* qs = blk.qs + 32 * (g / 2);
            const int shift = 4 * (g % 2);
            for (int i = 0; i < 4; ++i) {
              for (int m = 0; m < 4; ++m) {
                const int lo = 4 * i + m, hi = 16 + 4 * i + m;  // values of the group
                group[kQuadBytes * i + 4 * r + m] =
                    static_cast<uint8_t>(((qs[lo] >> shift) & 15) | ((qs[hi] >> shift) & 15) << 4);
                const int byte = 4 * r + m;  // of the quad: bit `byte` of masks i and 4 + i
                group[4 * kQuadBytes + 8 * i + byte / 8] |= static_cast<uint8_t>(((blk.qh[lo] >> g) & 1) << (byte % 8));
                group[4 * kQuadBytes + 8 * (4 + i) + byte / 8] |= static_cast<uint8_t>(((blk.qh[hi] >> g) & 1) << (byte % 8));
              }
            }
          }
        }
        break;
      }
      case DType::Q6_K: {
        Q6KQuants q[kPackRows];
        for (int r = 0; r < n_rows; ++r) {
          const BlockQ6_K& blk = reinterpret_cast<const BlockQ6_K*>(w.row(r0 + r))[b];
          d16[r] = blk.d;
          for (int s = 0; s < 16; ++s) dst[16 * s + r] = static_cast<uint8_t>(blk.scales[s]);
          q6_k_quants(blk, q[r].q);
        }
        for (int unit = 0; unit < 8; ++unit) {
          uint8_t* u = dst + 256 + 384 * unit;
          const uint8_t* rows[kPackRows] = {};
          for (int r = 0; r < n_rows; ++r) rows[r] = q[r].q + 32 * unit;
          put_nibble_quads(rows, u);
          for (int r = 0; r < n_rows; ++r) {
            for (int h = 0; h < 2; ++h) {
              for (int m = 0; m < 4; ++m) {
                uint8_t bits = 0;
                for (int v = 0; v < 4; ++v) bits |= static_cast<uint8_t>((rows[r][16 * h + 4 * v + m] >> 4) << (2 * v));
                u[256 + kQuadBytes * h + 4 * r + m] = bits;
              }
            }
          }
        }
        break;
      }
      default: fail("pack_matrix: no packed layout for ", dtype_name(w.type));
    }
  }
}

}  // namespace

bool packable(DType type) { return packed_body_bytes(type) != 0; }

size_t packed_body_bytes(DType type) {
  switch (type) {
    case DType::Q8_0: return 8 * kQuadBytes;
    case DType::Q4_0: return 4 * kQuadBytes;
    case DType::Q4_K: return 3 * kQuadBytes + 8 * 4 * kQuadBytes;
    case DType::Q5_K: return 3 * kQuadBytes + 8 * 5 * kQuadBytes;
    case DType::Q6_K: return 256 + 8 * 6 * kQuadBytes;
    default: return 0;
  }
}

int64_t packed_chunk_blocks(DType type) {
  switch (type) {
    case DType::Q8_0: return 16;  // 8 KiB of bodies
    case DType::Q4_0: return 32;  // 8 KiB
    case DType::Q4_K: return 4;   // 8.75 KiB
    case DType::Q5_K: return 3;   // 8.1 KiB
    case DType::Q6_K: return 2;   // 6.5 KiB
    default: return 0;
  }
}

size_t packed_tail_bytes(DType type) {
  switch (type) {
    case DType::Q8_0:
    case DType::Q4_0:
    case DType::Q6_K: return 2 * kPackRows;
    case DType::Q4_K:
    case DType::Q5_K: return 4 * kPackRows;
    default: return 0;
  }
}

namespace {

// Everything but the data.
std::unique_ptr<PackedMatrix> packed_layout(const MatrixView& w) {
  if (!packable(w.type)) fail("pack_matrix: no packed layout for ", dtype_name(w.type));
  auto p = std::make_unique<PackedMatrix>();
  p->type = w.type;
  p->rows = w.rows;
  p->cols = w.cols;
  p->row_groups = (w.rows + kPackRows - 1) / kPackRows;
  const int64_t block_elems = dtype_traits(w.type).block_size;
  p->blocks = w.cols / block_elems;
  p->body_bytes = packed_body_bytes(w.type);
  p->tail_bytes = packed_tail_bytes(w.type);
  p->chunk_blocks = packed_chunk_blocks(w.type);
  // 64 bytes of scales per unit of 64 / tail_bytes blocks (the last unit
  // may be short), plus every body.
  const int64_t unit_blocks = 64 / static_cast<int64_t>(p->tail_bytes);
  p->group_bytes = static_cast<size_t>((p->blocks + unit_blocks - 1) / unit_blocks) * 64 +
                   static_cast<size_t>(p->blocks) * p->body_bytes;
  p->bytes = static_cast<size_t>(p->row_groups) * p->group_bytes;
  return p;
}

void no_free(void*) {}

}  // namespace

size_t packed_matrix_bytes(const MatrixView& w) { return packed_layout(w)->bytes; }

std::unique_ptr<PackedMatrix> pack_matrix(const MatrixView& w, int threads, uint8_t* into) {
  auto p = packed_layout(w);
  if (into != nullptr) {
    p->data = std::unique_ptr<uint8_t, void (*)(void*)>(into, &no_free);
  } else if (p->bytes >= 2 * kHugePageBytes) {
    // Big matrices on their own: huge pages (base/huge_pages.h).
    p->data = allocate_huge_pages(p->bytes, "pack_matrix");
  } else {
    const size_t alloc = std::max<size_t>(64, (p->bytes + 63) / 64 * 64);
    void* mem = std::aligned_alloc(64, alloc);
    if (!mem) fail("pack_matrix: out of memory for ", alloc, " bytes");
    p->data = std::unique_ptr<uint8_t, void (*)(void*)>(static_cast<uint8_t*>(mem), &std::free);
  }
  const PackedMatrix& pm = *p;
  ThreadPool::global().run(
      pm.row_groups, [&](int64_t g) { pack_group(w, pm, g, pm.data.get() + static_cast<size_t>(g) * pm.group_bytes); },
      threads);
  return p;
}

void dequantize_packed_row(const PackedMatrix& p, int64_t row, float* out) {
  const uint8_t* grp = p.group(row / kPackRows);
  const int r = static_cast<int>(row % kPackRows);
  // Value k (0..31) of a nibble-quad run of 32 values.
  const auto nibble = [r](const uint8_t* quads, int k) {
    const int i = (k % 16) / 4, m = k % 4;
    const uint8_t byte = quads[kQuadBytes * i + 4 * r + m];
    return k < 16 ? (byte & 15) : (byte >> 4);
  };
  for (int64_t b = 0; b < p.blocks; ++b) {
    const BlockPlace place = block_place(p, b);
    const uint8_t* blk = grp + place.body;
    const uint16_t* d16 = reinterpret_cast<const uint16_t*>(grp + place.tail);
    switch (p.type) {
      case DType::Q8_0:
        for (int k = 0; k < kQK; ++k) {
          const int q = blk[kQuadBytes * (k / 4) + 4 * r + k % 4] - 128;
          out[b * kQK + k] = fp16_to_f32(d16[r]) * static_cast<float>(q);
        }
        break;
      case DType::Q4_0:
        for (int k = 0; k < kQK; ++k) out[b * kQK + k] = fp16_to_f32(d16[r]) * static_cast<float>(nibble(blk, k) - 8);
        break;
      case DType::Q4_K:
      case DType::Q5_K: {
        const bool five = p.type == DType::Q5_K;
        uint8_t s[kScalesK];
        for (int j = 0; j < kScalesK; ++j) s[j] = blk[kQuadBytes * (j / 4) + 4 * r + j % 4];
        const float d = fp16_to_f32(d16[r]), dmin = fp16_to_f32(d16[kPackRows + r]);
        for (int grp_i = 0; grp_i < 8; ++grp_i) {
          uint8_t sc, m;
          quant::unpack_scale_min(grp_i, s, &sc, &m);
          const uint8_t* quads = blk + 3 * kQuadBytes + (five ? 5 * kQuadBytes : 4 * kQuadBytes) * grp_i;
          for (int k = 0; k < kQK; ++k) {
            int q = nibble(quads, k);
            if (five) {  // the fifth bit: mask of quad (k % 16) / 4 (+ 4 for high nibbles), bit 4r + m
              const int mask = (k % 16) / 4 + (k < 16 ? 0 : 4), byte = 4 * r + k % 4;
              q |= ((quads[4 * kQuadBytes + 8 * mask + byte / 8] >> (byte % 8)) & 1) << 4;
            }
            out[b * kQK_K + 32 * grp_i + k] =
                d * static_cast<float>(sc) * static_cast<float>(q) - dmin * static_cast<float>(m);
          }
        }
        break;
      }
      case DType::Q6_K: {
        const float d = fp16_to_f32(d16[r]);
        for (int unit = 0; unit < 8; ++unit) {
          const uint8_t* u = blk + 256 + 384 * unit;
          for (int k = 0; k < kQK; ++k) {
            const int h = k / 16, v = (k % 16) / 4, m = k % 4;
            const int hi = (u[256 + kQuadBytes * h + 4 * r + m] >> (2 * v)) & 3;
            const int q = nibble(u, k) | hi << 4;
            const int8_t sc = static_cast<int8_t>(blk[16 * (2 * unit + k / 16) + r]);
            out[b * kQK_K + 32 * unit + k] = d * static_cast<float>(sc) * static_cast<float>(q - 32);
          }
        }
        break;
      }
      default: fail("dequantize_packed_row: no packed layout for ", dtype_name(p.type));
    }
  }
}

}  // namespace nomoat
