// AMX (Advanced Matrix Extensions) kernels for prompt batches over the x16
// packed layouts (tensor/packed.h), compiled with AMX and AVX-512 flags for
// this file only; run only where kernels/amx.h says the CPU and the OS allow
// it. Same rules as packed_matmul_avx512.cpp: no inline functions or
// templates shared with other translation units.
//
// Why AMX: one TDPBSSD multiplies a 16 x K int8 tile of activations by a
// K x 16 tile of weights into 16 x 16 int32 sums: 8192 multiply-adds per
// instruction for K = 32, where a vpdpbusd does 64; on the dev VM's Xeon
// one core ran 7.3 int8 Top/s of TDPBSSD against 0.94 of vpdpbusd.
//
// The weights' x16 quads are already AMX's B-tile rows (each 64-byte row
// holds 4 consecutive k values of 16 weight rows), so a 16-row group's k
// slice is unpacked once per task into signed int8 B tiles (Q8_0: q + 128
// back to q; Q4_0: nibble - 8; Q4_K: nibbles; Q6_K: 6-bit value - 32) and
// float scales, then serves every 16-token tile of the task. The block
// (group) scales keep each scale group its own tile product: K = 32
// (Q8_0, Q4_0, Q4_K) or 16 (Q6_K). The int32 tile is stored and scaled on
// the AVX-512 side with the same float operations in the same order as
// the VNNI kernels (packed_matmul_avx512.cpp), so both paths give the same
// bits; AMX multiplies the next group while the vector units scale this one.
#include "kernels/packed_matmul.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AMX_TILE__) && defined(__AMX_INT8__) && \
    defined(__FMA__) && defined(__F16C__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstdlib>
#include <memory>
#include <new>
#include <vector>

namespace nomoat::kernels {
namespace {

constexpr int kRows = 16;   // weight rows per group = int32 lanes per C-tile row
constexpr int kTokens = 16; // tokens per tile (A and C tile rows)
constexpr int kQuad = 64;

// Tile registers. GCC's tile intrinsics paste their tile argument into
// the assembly text, so these must be macros that expand to digits.
#define AMX_A 0
#define AMX_B 1
#define AMX_C0 2  // C0-C3: the ring of products in flight (pipeline below)
#define AMX_C1 3
#define AMX_C2 4
#define AMX_C3 5
#define AMX_MIN_A 6
#define AMX_MIN_B 7

struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

// Scale groups of `group` k values: A = 16 tokens x group bytes, B =
// group / 4 rows of 64 bytes, C = 16 x 16 int32; Q4_K's min term: A = 16
// tokens x 8 bytes (the 8 block sums' high or low bytes), B = 2 rows (the
// 8 six-bit mins of 16 rows).
void configure_tiles(int group) {
  TileConfig c;
  c.rows[AMX_A] = kTokens;
  c.colsb[AMX_A] = static_cast<uint16_t>(group);
  c.rows[AMX_B] = static_cast<uint8_t>(group / 4);
  c.colsb[AMX_B] = 64;
  for (int t : {AMX_C0, AMX_C1, AMX_C2, AMX_C3}) {
    c.rows[t] = kTokens;
    c.colsb[t] = 64;
  }
  c.rows[AMX_MIN_A] = kTokens;
  c.colsb[AMX_MIN_A] = 8;
  c.rows[AMX_MIN_B] = 2;
  c.colsb[AMX_MIN_B] = 64;
  _tile_loadconfig(&c);
}

inline __m512 load_scales16(const uint8_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// Body and scales of block (super-block) b of a group (tensor/packed.h):
// units of 64 bytes of scales for 64 / Tail blocks, then their bodies.
template <int Body, int Tail>
inline const uint8_t* body_of(const uint8_t* grp, int64_t b) {
  constexpr int64_t kUnit = 64 / Tail;
  return grp + (b / kUnit) * (64 + kUnit * Body) + 64 + (b % kUnit) * Body;
}
template <int Body, int Tail>
inline const uint8_t* tail_of(const uint8_t* grp, int64_t b) {
  constexpr int64_t kUnit = 64 / Tail;
  return grp + (b / kUnit) * (64 + kUnit * Body) + (b % kUnit) * Tail;
}

// A group's k slice unpacked for the tile instructions: B tiles (int8,
// group / 4 rows of 64 bytes each) and one 16-float scale vector per scale
// group; Q4_K also per super-block its dmin vector and its mins B tile.
struct Unpacked {
  int8_t* b = nullptr;
  float* scales = nullptr;
  float* dmin = nullptr;
  int8_t* mins = nullptr;
  void reserve(int64_t values, int64_t groups, int64_t superblocks) {
    const size_t need = static_cast<size_t>(values * kRows + groups * kRows * 4 + superblocks * (kRows * 4 + 2 * kQuad));
    if (need > storage_bytes) {
      storage.reset(static_cast<uint8_t*>(std::aligned_alloc(64, (need + 63) / 64 * 64)));
      if (!storage) throw std::bad_alloc();
      storage_bytes = need;
    }
    uint8_t* p = storage.get();  // every part a multiple of 64 bytes
    b = reinterpret_cast<int8_t*>(p);
    scales = reinterpret_cast<float*>(p + values * kRows);
    dmin = scales + groups * kRows;
    mins = reinterpret_cast<int8_t*>(dmin + superblocks * kRows);
  }

 private:
  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t, Free> storage;
  size_t storage_bytes = 0;
};

// 4 nibble quads (Q4_0 arrangement) -> 8 B-tile rows: low nibbles are
// values 4i.., high nibbles 16 + 4i..; `offset` is subtracted (8 for Q4_0).
inline void unpack_nibbles(const uint8_t* quads, int8_t* out, int offset) {
  const __m512i low4 = _mm512_set1_epi8(15);
  const __m512i off = _mm512_set1_epi8(static_cast<char>(offset));
  for (int i = 0; i < 4; ++i) {
    const __m512i raw = _mm512_load_si512(quads + kQuad * i);
    _mm512_store_si512(out + kQuad * i, _mm512_sub_epi8(_mm512_and_si512(raw, low4), off));
    _mm512_store_si512(out + kQuad * (4 + i), _mm512_sub_epi8(_mm512_and_si512(_mm512_srli_epi16(raw, 4), low4), off));
  }
}

void unpack_q8_0(const uint8_t* grp, int64_t b0, int64_t b1, Unpacked& u) {
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  for (int64_t b = b0; b < b1; ++b) {
    const uint8_t* body = body_of<8 * kQuad, 32>(grp, b);
    int8_t* out = u.b + (b - b0) * 8 * kQuad;
    for (int i = 0; i < 8; ++i) {
      _mm512_store_si512(out + kQuad * i, _mm512_xor_si512(_mm512_load_si512(body + kQuad * i), flip));
    }
    _mm512_store_ps(u.scales + (b - b0) * kRows, load_scales16(tail_of<8 * kQuad, 32>(grp, b)));
  }
}

void unpack_q4_0(const uint8_t* grp, int64_t b0, int64_t b1, Unpacked& u) {
  for (int64_t b = b0; b < b1; ++b) {
    unpack_nibbles(body_of<4 * kQuad, 32>(grp, b), u.b + (b - b0) * 8 * kQuad, 8);
    _mm512_store_ps(u.scales + (b - b0) * kRows, load_scales16(tail_of<4 * kQuad, 32>(grp, b)));
  }
}

// Group scales d sc[g] computed as the VNNI kernel does (same bits).
void unpack_q4_k(const uint8_t* grp, int64_t b0, int64_t b1, Unpacked& u) {
  const __m512i six_bits = _mm512_set1_epi8(0x3f);
  const __m512i four_bits = _mm512_set1_epi8(0x0f);
  const __m512i two_bits = _mm512_set1_epi8(0x03);
  const __m512i byte_mask = _mm512_set1_epi32(0xff);
  for (int64_t sb = b0; sb < b1; ++sb) {
    const int64_t j = sb - b0;
    const uint8_t* blk = body_of<35 * kQuad, 64>(grp, sb);
    const uint8_t* tail = tail_of<35 * kQuad, 64>(grp, sb);
    const __m512 d = load_scales16(tail);
    const __m512i k0 = _mm512_load_si512(blk);
    const __m512i k1 = _mm512_load_si512(blk + kQuad);
    const __m512i k2 = _mm512_load_si512(blk + 2 * kQuad);
    const __m512i sc_lo = _mm512_and_si512(k0, six_bits);
    const __m512i sc_hi = _mm512_or_si512(_mm512_and_si512(k2, four_bits),
                                          _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(k0, 6), two_bits), 4));
    for (int g = 0; g < 8; ++g) {
      const __m512i sc = _mm512_and_si512(_mm512_srli_epi32(g < 4 ? sc_lo : sc_hi, 8 * (g % 4)), byte_mask);
      _mm512_store_ps(u.scales + (j * 8 + g) * kRows, _mm512_mul_ps(d, _mm512_cvtepi32_ps(sc)));
      unpack_nibbles(blk + 3 * kQuad + 4 * kQuad * g, u.b + (j * 8 + g) * 8 * kQuad, 0);
    }
    const __m512i m_lo = _mm512_and_si512(k1, six_bits);
    const __m512i m_hi = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(k2, 4), four_bits),
                                         _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(k1, 6), two_bits), 4));
    _mm512_store_si512(u.mins + j * 2 * kQuad, m_lo);
    _mm512_store_si512(u.mins + j * 2 * kQuad + kQuad, m_hi);
    _mm512_store_ps(u.dmin + j * kRows, load_scales16(tail + 32));
  }
}

// 16 groups of 16 per super-block: B tiles of 4 rows each.
void unpack_q6_k(const uint8_t* grp, int64_t b0, int64_t b1, Unpacked& u) {
  const __m512i low4 = _mm512_set1_epi8(15);
  const __m512i high2 = _mm512_set1_epi8(0x30);
  const __m512i offset = _mm512_set1_epi8(32);
  for (int64_t sb = b0; sb < b1; ++sb) {
    const int64_t j = sb - b0;
    const uint8_t* blk = body_of<256 + 48 * kQuad, 32>(grp, sb);
    const __m512 d = load_scales16(tail_of<256 + 48 * kQuad, 32>(grp, sb));
    for (int g = 0; g < 16; ++g) {
      const __m128i sc = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 16 * g));
      _mm512_store_ps(u.scales + (j * 16 + g) * kRows, _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(sc))));
    }
    for (int unit = 0; unit < 8; ++unit) {
      const uint8_t* q = blk + 256 + 6 * kQuad * unit;
      for (int half = 0; half < 2; ++half) {
        const __m512i h = _mm512_load_si512(q + (4 + half) * kQuad);
        int8_t* out = u.b + (j * 16 + 2 * unit + half) * 4 * kQuad;
        for (int i = 0; i < 4; ++i) {
          const __m512i raw = _mm512_load_si512(q + kQuad * i);
          const __m512i nib = half == 0 ? raw : _mm512_srli_epi16(raw, 4);
          const __m512i top = i < 3 ? _mm512_slli_epi16(h, 4 - 2 * i) : _mm512_srli_epi16(h, 2);
          const __m512i w = _mm512_or_si512(_mm512_and_si512(nib, low4), _mm512_and_si512(top, high2));
          _mm512_store_si512(out + kQuad * i, _mm512_sub_epi8(w, offset));
        }
      }
    }
  }
}

// One 16 x 16 int32 C tile, stored row by row (row m = token m).
struct alignas(64) CTile {
  int32_t v[kTokens * kRows];
  __m512 row(int m) const { return _mm512_cvtepi32_ps(_mm512_load_si512(v + kRows * m)); }
};

// The activation tile rows of scale group `q` (of `group` values) of
// `tile`: token rows of 32 bytes per 32-value block (packed_matmul.h).
inline const int8_t* act_rows(const PackedActivations& acts, int64_t tile, int64_t q, int group) {
  const int64_t values = q * group;
  return acts.qs + (tile * acts.n_blocks + values / 32) * kTokens * 32 + values % 32;
}

// Starts C = A x B on the tile unit (A: 16 token rows of 32 bytes apart).
#define AMX_ISSUE(C, a, b)            \
  do {                                \
    _tile_loadd(AMX_A, a, 32);        \
    _tile_loadd(AMX_B, b, kQuad);     \
    _tile_zero(C);                    \
    _tile_dpbssd(C, AMX_A, AMX_B);    \
  } while (0)

// consume(q, c) for q = 0..n-1, c holding product q (operands(q) gives its
// A and B). Four products are in flight on the tile unit while the vector
// units scale the oldest: a product stored right after its multiply
// stalled on it (the kernel then ran no faster than VNNI), and with two in
// flight it still waited a third of the time.
template <class Operands, class Consume>
__attribute__((always_inline)) inline void pipeline(int64_t n, const Operands& operands, const Consume& consume) {
  CTile c;
  const int8_t* a;
  const int8_t* b;
#define AMX_START(C, q)      \
  if ((q) < n) {             \
    operands((q), a, b);     \
    AMX_ISSUE(C, a, b);      \
  }
#define AMX_FINISH(C, q)                    \
  if ((q) < n) {                            \
    _tile_stored(C, c.v, kRows * 4);        \
    consume((q), c);                        \
  }
  AMX_START(AMX_C0, 0)
  AMX_START(AMX_C1, 1)
  AMX_START(AMX_C2, 2)
  for (int64_t q = 0; q < n; q += 4) {
    AMX_START(AMX_C3, q + 3)
    AMX_FINISH(AMX_C0, q)
    AMX_START(AMX_C0, q + 4)
    AMX_FINISH(AMX_C1, q + 1)
    AMX_START(AMX_C1, q + 5)
    AMX_FINISH(AMX_C2, q + 2)
    AMX_START(AMX_C2, q + 6)
    AMX_FINISH(AMX_C3, q + 3)
  }
#undef AMX_START
#undef AMX_FINISH
}

// Q4_K's min term for super-blocks [0, n) of the slice, per token tile:
// sum_g m[g] S_g from the block sums' bytes S = 64 H + L (packed_matmul.h)
// against the 6-bit mins, into out[j] (16 tokens x 16 rows, int32).
inline void q4_k_min_terms(const PackedActivations& acts, int64_t tile, int64_t sb0, int64_t n, const Unpacked& u,
                           CTile* out) {
  CTile high;
  for (int64_t j = 0; j < n; ++j) {
    const int8_t* hl = reinterpret_cast<const int8_t*>(acts.min_sums + (tile * acts.n_scales + sb0 + j) * kTokens * 4);
    _tile_loadd(AMX_MIN_B, u.mins + j * 2 * kQuad, kQuad);
    _tile_loadd(AMX_MIN_A, hl, 16);
    _tile_zero(AMX_C0);
    _tile_dpbssd(AMX_C0, AMX_MIN_A, AMX_MIN_B);
    _tile_loadd(AMX_MIN_A, hl + 8, 16);
    _tile_zero(AMX_C1);
    _tile_dpbssd(AMX_C1, AMX_MIN_A, AMX_MIN_B);
    _tile_stored(AMX_C0, high.v, kRows * 4);
    _tile_stored(AMX_C1, out[j].v, kRows * 4);
    for (int m = 0; m < kTokens; ++m) {
      const __m512i h = _mm512_load_si512(high.v + kRows * m);
      const __m512i l = _mm512_load_si512(out[j].v + kRows * m);
      _mm512_store_si512(out[j].v + kRows * m, _mm512_add_epi32(_mm512_slli_epi32(h, 6), l));
    }
  }
}

// Q8_0 / Q4_0 over blocks [0, n) of the unpacked slice (block b0 + j of the
// row): f[m] += cvt(C) * (d_w x d_a[m]) per block, as the VNNI kernel does.
__attribute__((always_inline)) inline void legacy_tile(const PackedActivations& acts, int64_t tile, int64_t b0, int64_t n,
                                                       const Unpacked& u, __m512* f) {
  __m512 acc[kTokens];
  for (int m = 0; m < kTokens; ++m) acc[m] = f[m];
  const float* da_base = acts.scales + (tile * acts.n_scales + b0) * kTokens;
  pipeline(
      n,
      [&](int64_t j, const int8_t*& a, const int8_t*& b) {
        a = act_rows(acts, tile, b0 + j, 32);
        b = u.b + j * 8 * kQuad;
      },
      [&](int64_t j, const CTile& ct) __attribute__((always_inline)) {
        const __m512 dw = _mm512_load_ps(u.scales + j * kRows);
        const float* da = da_base + j * kTokens;
#pragma GCC unroll 16
        for (int m = 0; m < kTokens; ++m) acc[m] = _mm512_fmadd_ps(ct.row(m), _mm512_mul_ps(dw, _mm512_set1_ps(da[m])), acc[m]);
      });
  for (int m = 0; m < kTokens; ++m) f[m] = acc[m];
}

// Q4_K / Q6_K over super-blocks [0, n) of the slice (super-block sb0 + j):
// per super-block, sums[m] = sum over groups of cvt(C_g) * (d sc[g]), Q4_K's
// min term subtracted, then f[m] += sums[m] * d_a[m] (f in memory), in the
// VNNI kernel's order.
template <int Groups>
__attribute__((always_inline)) inline void kquant_tile(const PackedActivations& acts, int64_t tile, int64_t sb0, int64_t n,
                                                       const Unpacked& u, float* f) {
  constexpr int kGroup = 256 / Groups;  // values per scale group
  constexpr int kBBytes = kGroup / 4 * kQuad;
  thread_local std::vector<CTile> min_terms;
  if (Groups == 8) {
    if (min_terms.size() < static_cast<size_t>(n)) min_terms.resize(static_cast<size_t>(n));
    q4_k_min_terms(acts, tile, sb0, n, u, min_terms.data());
  }
  const CTile* mins = min_terms.data();
  __m512 sums[kTokens];
  pipeline(
      n * Groups,
      [&](int64_t q, const int8_t*& a, const int8_t*& b) {
        a = act_rows(acts, tile, sb0 * Groups + q, kGroup);
        b = u.b + q * kBBytes;
      },
      [&](int64_t q, const CTile& ct) __attribute__((always_inline)) {
        const int64_t j = q / Groups;
        if (q % Groups == 0) {
          for (int m = 0; m < kTokens; ++m) sums[m] = _mm512_setzero_ps();
        }
        const __m512 gs = _mm512_load_ps(u.scales + q * kRows);
#pragma GCC unroll 16
        for (int m = 0; m < kTokens; ++m) sums[m] = _mm512_fmadd_ps(ct.row(m), gs, sums[m]);
        if (q % Groups == Groups - 1) {
          const float* da = acts.scales + (tile * acts.n_scales + sb0 + j) * kTokens;
          if (Groups == 8) {
            const __m512 dmin = _mm512_load_ps(u.dmin + j * kRows);
            for (int m = 0; m < kTokens; ++m) sums[m] = _mm512_fnmadd_ps(mins[j].row(m), dmin, sums[m]);
          }
          for (int m = 0; m < kTokens; ++m) {
            _mm512_store_ps(f + kRows * m, _mm512_fmadd_ps(sums[m], _mm512_set1_ps(da[m]), _mm512_load_ps(f + kRows * m)));
          }
        }
      });
}

enum class Kind { kQ8_0, kQ4_0, kQ4_K, kQ6_K };

template <Kind K>
void run_task(const PackedTask& task) {
  constexpr bool kLegacy = K == Kind::kQ8_0 || K == Kind::kQ4_0;
  constexpr int kGroup = K == Kind::kQ6_K ? 16 : 32;
  constexpr int kGroupsPerBlock = K == Kind::kQ4_K ? 8 : K == Kind::kQ6_K ? 16 : 1;
  configure_tiles(kGroup);
  const PackedActivations& acts = *task.acts;
  const int64_t b0 = task.block_begin, b1 = task.block_end, n = b1 - b0;
  thread_local Unpacked u;
  u.reserve(n * 32 * (kLegacy ? 1 : 8), n * kGroupsPerBlock, n);
  alignas(64) float f_mem[kTokens * kRows];
  for (int64_t g = task.group_begin; g < task.group_end; ++g) {
    const uint8_t* grp = task.data + static_cast<size_t>(g) * task.group_bytes;
    switch (K) {
      case Kind::kQ8_0: unpack_q8_0(grp, b0, b1, u); break;
      case Kind::kQ4_0: unpack_q4_0(grp, b0, b1, u); break;
      case Kind::kQ4_K: unpack_q4_k(grp, b0, b1, u); break;
      case Kind::kQ6_K: unpack_q6_k(grp, b0, b1, u); break;
    }
    const int64_t r0 = g * kRows;
    const int64_t valid = task.rows - r0;
    const __mmask16 mask = valid >= kRows ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << valid) - 1);
    for (int64_t t0 = task.t_begin; t0 < task.t_end; t0 += kTokens) {
      const int64_t tokens = task.t_end - t0 < kTokens ? task.t_end - t0 : kTokens;
      const int64_t tile = t0 / kTokens;
      float* y = task.y + t0 * task.rows + r0;
      // A slice after the first adds to what y holds.
      __m512 f[kTokens];
      for (int m = 0; m < kTokens; ++m) {
        f[m] = b0 == 0 || m >= tokens ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(mask, y + m * task.rows);
      }
      if constexpr (kLegacy) {
        legacy_tile(acts, tile, b0, n, u, f);
      } else {
        for (int m = 0; m < kTokens; ++m) _mm512_store_ps(f_mem + kRows * m, f[m]);
        kquant_tile<kGroupsPerBlock>(acts, tile, b0, n, u, f_mem);
        for (int m = 0; m < kTokens; ++m) f[m] = _mm512_load_ps(f_mem + kRows * m);
      }
      for (int m = 0; m < tokens; ++m) _mm512_mask_storeu_ps(y + m * task.rows, mask, f[m]);
    }
  }
  _tile_release();
}

void amx_q8_0(const PackedTask& task) { run_task<Kind::kQ8_0>(task); }
void amx_q4_0(const PackedTask& task) { run_task<Kind::kQ4_0>(task); }
void amx_q4_k(const PackedTask& task) { run_task<Kind::kQ4_K>(task); }
void amx_q6_k(const PackedTask& task) { run_task<Kind::kQ6_K>(task); }

}  // namespace

const PackedKernels kAmxPackedKernels = {
    .panel_q8_0 = kTokens,
    .panel_q4_0 = kTokens,
    .panel_q4_k = kTokens,
    .panel_q6_k = kTokens,
    .q8_0 = &amx_q8_0,
    .q4_0 = &amx_q4_0,
    .q4_k = &amx_q4_k,
    .q6_k = &amx_q6_k,
};

}  // namespace nomoat::kernels

#else  // built without AMX flags (compiler too old, or not x86-64): no kernels

namespace nomoat::kernels {
const PackedKernels kAmxPackedKernels = {};
}

#endif
