// AMX (Advanced Matrix Extensions) kernels for prompt batches over the x16
// packed layouts (tensor/packed.h), compiled with AMX and AVX-512 flags for
// this file only; run only where kernels/amx.h says the CPU and the OS allow
// it. Same rules as packed_matmul_avx512.cpp: no inline functions or
// templates shared with other translation units.
//
// Why AMX: one TDPBF16PS multiplies 16 tokens x 32 bf16 activations by
// 32 x 16 bf16 weights into 16 x 16 fp32 sums (512 multiply-adds per
// token where a vpdpbusd does 64 per lane group). The weights' x16 quads
// are already in B-tile order (each 64-byte row holds 4 consecutive k
// values of 16 weight rows), so a 16-row group's k slice is unpacked and
// dequantized once per task and serves every 16-token tile of the task.
//
// Why bf16 and not int8 tiles (TDPBSSD, twice the multiply rate): every
// type scales each 16- or 32-value group of a row separately, and an int8
// route must take each group's int32 tile out of the tile unit to scale
// it. On the dev VM's Xeon a tile store costs 17 cycles and also slows the
// vector work beside it; storing and scaling a 32-value block took about 60
// cycles against 18 for its multiply, and Q6_K's 16-value groups ran at
// half Q4_0's speed. Here each weight becomes d * sc * q - dmin * m rounded
// to bf16 (far inside the 4-, 6- and 8-bit formats' own error) once per
// task, activations are rounded to bf16 once per matmul (finer than the
// VNNI path's int8 per 32 or 256 values), and the fp32 sums stay in the
// tile unit for the whole k slice. GEMMs ran 1.2x faster than the int8
// tiles for Q8_0 and Q4_0 (and the int8 activation quantization went away).

#include "kernels/packed_matmul.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AMX_TILE__) && defined(__AMX_BF16__) && defined(__AVX512BF16__) && \
    defined(__FMA__) && defined(__F16C__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstdlib>
#include <new>

namespace nomoat::kernels {
namespace {

constexpr int kRows = 16;   // weight rows per group = fp32 lanes per C-tile row
constexpr int kTokens = 16; // tokens per tile (A and C tile rows)
constexpr int kQuad = 64;

// Tile registers. GCC's tile intrinsics paste their tile argument into
// the assembly text, so these must be macros that expand to digits.
#define AMX_A 0
#define AMX_B 1
#define AMX_ACC0 2  // ACC0-ACC3: the 4 C tiles (group_tiles: 4 token tiles; pair_tiles: 2 x 2)
#define AMX_ACC1 3
#define AMX_ACC2 4
#define AMX_ACC3 5
#define AMX_A1 6    // pair_tiles: the second token tile
#define AMX_B1 7    // pair_tiles: the second group's B tile

struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

// Every tile 16 rows of 64 bytes: A = 16 tokens x 32 values, B = 16 value
// pairs x 16 weight rows, C = 16 tokens x 16 rows of fp32.
void configure_tiles() {
  constexpr int kTiles[] = {AMX_A, AMX_B, AMX_ACC0, AMX_ACC1, AMX_ACC2, AMX_ACC3, AMX_A1, AMX_B1};
  TileConfig c;
  for (int t : kTiles) {
    c.rows[t] = kTokens;
    c.colsb[t] = 64;
  }
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

// Thread-local scratch that grows: 64-byte aligned, freed with the thread.
// Plain code, no std::unique_ptr: an ISA file must not instantiate library
// templates (fast_matmul.h); at -O0 they come out as weak symbols built with
// this file's AMX/AVX-512 flags, which the linker may pick for the program.
class Scratch {
 public:
  Scratch() = default;
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() { release(); }
  // At least `need` bytes; what was there is not kept. The aligned
  // operator new throws std::bad_alloc itself (constructing one here would
  // instantiate its inline constructors with this file's flags).
  uint8_t* reserve(size_t need) {
    if (need > bytes) {
      release();
      data = static_cast<uint8_t*>(::operator new(need, std::align_val_t{64}));
      bytes = need;
    }
    return data;
  }

 private:
  void release() {
    if (data) ::operator delete(data, std::align_val_t{64});
    data = nullptr;
    bytes = 0;
  }
  uint8_t* data = nullptr;
  size_t bytes = 0;
};

// A group's k slice unpacked: int8 quads in k order, one 16-float scale
// vector per scale group, Q4_K's dmin and 6-bit mins per super-block, and
// the bf16 B tiles made from all that.
struct Unpacked {
  int8_t* b = nullptr;      // int8 quads, k order
  float* scales = nullptr;  // per scale group, 16 rows
  float* dmin = nullptr;    // Q4_K, per super-block
  int8_t* mins = nullptr;   // Q4_K, per super-block: two vectors of 4 six-bit mins per row
  uint16_t* bf16 = nullptr; // bf16 B tiles, 1 KiB per 32 values
  void reserve(int64_t values, int64_t groups, int64_t superblocks) {
    const size_t int8_bytes = static_cast<size_t>(values * kRows);
    const size_t need = int8_bytes * 3 + static_cast<size_t>(groups * kRows * 4 + superblocks * (kRows * 4 + 2 * kQuad));
    uint8_t* p = storage.reserve(need);  // every part a multiple of 64 bytes
    bf16 = reinterpret_cast<uint16_t*>(p);
    b = reinterpret_cast<int8_t*>(p + 2 * int8_bytes);
    scales = reinterpret_cast<float*>(p + 3 * int8_bytes);
    dmin = scales + groups * kRows;
    mins = reinterpret_cast<int8_t*>(dmin + superblocks * kRows);
  }

 private:
  Scratch storage;
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

void unpack_q4_0(const uint8_t* grp, int64_t b0, int64_t b1, Unpacked& u) {
  for (int64_t b = b0; b < b1; ++b) {
    unpack_nibbles(body_of<4 * kQuad, 32>(grp, b), u.b + (b - b0) * 8 * kQuad, 8);
    _mm512_store_ps(u.scales + (b - b0) * kRows, load_scales16(tail_of<4 * kQuad, 32>(grp, b)));
  }
}

// Group scales d sc[g] computed as the VNNI kernel does (same bits). Q5_K
// (Five): each group's nibble quads are followed by their fifth bits
// (tensor/packed.h), or-ed in at bit 4.
template <bool Five>
void unpack_q4_k(const uint8_t* grp, int64_t b0, int64_t b1, Unpacked& u) {
  constexpr int kGroupQuads = Five ? 5 : 4;
  constexpr int kBody = (3 + 8 * kGroupQuads) * kQuad;
  const __m512i six_bits = _mm512_set1_epi8(0x3f);
  const __m512i four_bits = _mm512_set1_epi8(0x0f);
  const __m512i two_bits = _mm512_set1_epi8(0x03);
  const __m512i byte_mask = _mm512_set1_epi32(0xff);
  for (int64_t sb = b0; sb < b1; ++sb) {
    const int64_t j = sb - b0;
    const uint8_t* blk = body_of<kBody, 64>(grp, sb);
    const uint8_t* tail = tail_of<kBody, 64>(grp, sb);
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
      const uint8_t* quads = blk + 3 * kQuad + kGroupQuads * kQuad * g;
      int8_t* out = u.b + (j * 8 + g) * 8 * kQuad;
      unpack_nibbles(quads, out, 0);
      if constexpr (Five) {  // + 16 where the quad's fifth-bit mask is set
        const __m512i sixteen = _mm512_set1_epi8(16);
        for (int q = 0; q < 8; ++q) {
          uint64_t bits;
          __builtin_memcpy(&bits, quads + 4 * kQuad + 8 * q, 8);
          __m512i* p = reinterpret_cast<__m512i*>(out + kQuad * q);
          _mm512_store_si512(p, _mm512_mask_add_epi8(_mm512_load_si512(p), static_cast<__mmask64>(bits), _mm512_load_si512(p), sixteen));
        }
      }
    }
    const __m512i m_lo = _mm512_and_si512(k1, six_bits);
    const __m512i m_hi = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(k2, 4), four_bits),
                                         _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(k1, 6), two_bits), 4));
    _mm512_store_si512(u.mins + j * 2 * kQuad, m_lo);
    _mm512_store_si512(u.mins + j * 2 * kQuad + kQuad, m_hi);
    _mm512_store_ps(u.dmin + j * kRows, load_scales16(tail + 32));
  }
}

// 16 groups of 16 per super-block, 4 quads each: q - 32 as int8.
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

enum class Kind { kQ8_0, kQ4_0, kQ4_K, kQ5_K, kQ6_K };

// An int8 quad (values 4i..4i+3 of 16 rows, byte 4n + j) times a per-row
// scale plus a per-row offset, as the two bf16 B-tile rows of its value
// pairs (row 2i: values 4i, 4i+1 of each row n in dword n; row 2i+1: values
// 4i+2, 4i+3).
struct RowVectors {
  __m512 scale[4];   // chunk c (rows 4c..4c+3): each row's value in 4 lanes
  __m512 offset[4];
};

template <bool kOffset>
inline RowVectors spread_rows(__m512 scale, __m512 offset) {
  RowVectors v;
  for (int c = 0; c < 4; ++c) {
    const __m512i idx = _mm512_set_epi32(4 * c + 3, 4 * c + 3, 4 * c + 3, 4 * c + 3, 4 * c + 2, 4 * c + 2, 4 * c + 2,
                                         4 * c + 2, 4 * c + 1, 4 * c + 1, 4 * c + 1, 4 * c + 1, 4 * c, 4 * c, 4 * c, 4 * c);
    v.scale[c] = _mm512_permutexvar_ps(idx, scale);
    v.offset[c] = kOffset ? _mm512_permutexvar_ps(idx, offset) : offset;
  }
  return v;
}

// Two float vectors of 8 rows x 4 values each (rows 0-7, rows 8-15) as bf16
// and regrouped into the B rows of value pairs 0-1 and 2-3.
inline void store_pairs(__m512 f0, __m512 f1, __m512 f2, __m512 f3, uint16_t* row0, uint16_t* row1) {
  const __m512i low = (__m512i)_mm512_cvtne2ps_pbh(f1, f0);   // rows 0-7: dword 2n + p
  const __m512i high = (__m512i)_mm512_cvtne2ps_pbh(f3, f2);  // rows 8-15
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
  _mm512_store_si512(row0, _mm512_permutex2var_epi32(low, even, high));
  _mm512_store_si512(row1, _mm512_permutex2var_epi32(low, odd, high));
}

// The int8 -> float step loads each 16-byte chunk straight into
// vpmovsxbd (no extracts: the shuffle port bounds this loop); types without
// an offset (all but Q4_K, and Q8_0 read as unsigned bytes) skip its add.
// kUnsigned: the bytes are unsigned (vpmovzxbd).
template <bool kOffset, bool kUnsigned = false>
inline void quads_to_bf16(const void* quads, int n_quads, const RowVectors& rv, uint16_t* out) {
  for (int i = 0; i < n_quads; ++i) {
    const uint8_t* q = static_cast<const uint8_t*>(quads) + kQuad * i;
    __m512 f[4];
    for (int c = 0; c < 4; ++c) {
      const __m128i bytes = _mm_load_si128(reinterpret_cast<const __m128i*>(q + 16 * c));
      const __m512 v = _mm512_cvtepi32_ps(kUnsigned ? _mm512_cvtepu8_epi32(bytes) : _mm512_cvtepi8_epi32(bytes));
      f[c] = kOffset ? _mm512_fmadd_ps(v, rv.scale[c], rv.offset[c]) : _mm512_mul_ps(v, rv.scale[c]);
    }
    store_pairs(f[0], f[1], f[2], f[3], out + 64 * i, out + 64 * i + 32);
  }
}

// The unpacked int8 slice of `values` k values as bf16 B tiles (one per 32
// values: 16 rows of 64 bytes), each scale group with its scale and offset.
template <Kind T>
void slice_to_bf16(int64_t values, Unpacked& u) {
  constexpr int kGroupQuads = T == Kind::kQ6_K ? 4 : 8;  // quads per scale group
  constexpr bool kOffset = T == Kind::kQ4_K || T == Kind::kQ5_K;
  const int64_t n_groups = values / (4 * kGroupQuads);
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t q = 0; q < n_groups; ++q) {
    __m512 offset = zero;
    if constexpr (kOffset) {
      // -dmin * m[g]: the 6-bit mins, 4 per lane in two vectors (unpack_q4_k).
      const int64_t j = q / 8, g = q % 8;
      const __m512i m = _mm512_load_si512(u.mins + j * 2 * kQuad + (g / 4) * kQuad);
      const __m512i mg = _mm512_and_si512(_mm512_srli_epi32(m, 8 * (g % 4)), _mm512_set1_epi32(0xff));
      offset = _mm512_sub_ps(zero, _mm512_mul_ps(_mm512_load_ps(u.dmin + j * kRows), _mm512_cvtepi32_ps(mg)));
    }
    const RowVectors rv = spread_rows<kOffset>(_mm512_load_ps(u.scales + q * kRows), offset);
    const int64_t first = q * kGroupQuads;  // quad index in the slice
    quads_to_bf16<kOffset>(u.b + first * kQuad, kGroupQuads, rv, u.bf16 + first * 64);
  }
}

// Q8_0 straight from its packed quads, which hold q + 128 as unsigned
// bytes: u * d - 128 d is one fma, exactly q * d rounded once (what
// unpack_q8_0 + slice_to_bf16 compute), without the int8 copy of the slice
// the other types' nibbles and bit planes need.
void q8_0_to_bf16(const uint8_t* grp, int64_t b0, int64_t b1, Unpacked& u) {
  const __m512 minus_128 = _mm512_set1_ps(-128.0f);
  for (int64_t b = b0; b < b1; ++b) {
    const __m512 d = load_scales16(tail_of<8 * kQuad, 32>(grp, b));
    const RowVectors rv = spread_rows<true>(d, _mm512_mul_ps(d, minus_128));
    quads_to_bf16<true, true>(body_of<8 * kQuad, 32>(grp, b), 8, rv, u.bf16 + (b - b0) * 8 * 64);
  }
}

// ---- the tile loop ----
// Activations: per 32-value block and 16-token tile, 16 token rows of 32
// bf16 (1 KiB; packed_matmul.h). Weights: per 32-value block one B tile of
// 16 rows x 64 bytes. C tiles accumulate fp32 over the whole k slice:
// nothing leaves the tile unit until the end.
// Token tile `tile` at `block` (packed_matmul.h): the blocks after it, up
// to the end of its k slice, follow 1 KiB apart.
inline const uint16_t* act_tile(const PackedActivations& acts, int64_t tile, int64_t block) {
  const int64_t first = block / acts.slice_blocks * acts.slice_blocks;
  const int64_t len = acts.n_blocks - first < acts.slice_blocks ? acts.n_blocks - first : acts.slice_blocks;
  return acts.bf16 + (first * acts.n_tiles + tile * len + block - first) * kTokens * 32;
}

// A C tile of 16 tokens x 16 rows at y, or through `tmp_c` where the tile
// has padding rows or tokens.
struct CTarget {
  float* y;
  int64_t stride;  // bytes between tokens in y
  bool direct;     // 16 tokens x 16 valid rows: loaded and stored in place
  int tokens;
  __mmask16 rows;  // the valid rows
};

inline __mmask16 valid_rows(int64_t valid) {
  return valid >= kRows ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << valid) - 1);
}

// The C tile of the group at row r0 and the 16-token tile at token t0.
inline CTarget c_target(const PackedTask& task, int64_t r0, int64_t t0) {
  const int64_t left = task.t_end - t0;
  const int tokens = static_cast<int>(left < kTokens ? left : kTokens);
  const bool full_rows = task.rows - r0 >= kRows;
  return CTarget{task.y + t0 * task.rows + r0, task.rows * 4, full_rows && tokens == kTokens, tokens,
                 valid_rows(task.rows - r0)};
}

alignas(64) thread_local float tmp_c[4][kTokens * kRows];

inline void c_in(const CTarget& t, int i, bool fresh) {
  if (t.direct) return;
  for (int m = 0; m < kTokens; ++m) {
    const __m512 v = fresh || m >= t.tokens ? _mm512_setzero_ps()
                                            : _mm512_maskz_loadu_ps(t.rows, reinterpret_cast<const char*>(t.y) + m * t.stride);
    _mm512_store_ps(tmp_c[i] + kRows * m, v);
  }
}
inline void c_out(const CTarget& t, int i) {
  if (t.direct) return;
  for (int m = 0; m < t.tokens; ++m) {
    _mm512_mask_storeu_ps(reinterpret_cast<char*>(t.y) + m * t.stride, t.rows, _mm512_load_ps(tmp_c[i] + kRows * m));
  }
}

#define AMX_C_LOAD(C, i)                                                   \
  if (n_c > (i)) {                                                         \
    c_in(ct[i], i, fresh);                                                 \
    if (ct[i].direct && fresh) {                                           \
      _tile_zero(C);                                                       \
    } else if (ct[i].direct) {                                             \
      _tile_loadd(C, ct[i].y, ct[i].stride);                               \
    } else {                                                               \
      _tile_loadd(C, tmp_c[i], kRows * 4);                                 \
    }                                                                      \
  }
#define AMX_C_STORE(C, i)                                                  \
  if (n_c > (i)) {                                                         \
    if (ct[i].direct) {                                                    \
      _tile_stored(C, ct[i].y, ct[i].stride);                              \
    } else {                                                               \
      _tile_stored(C, tmp_c[i], kRows * 4);                                \
      c_out(ct[i], i);                                                     \
    }                                                                      \
  }
#define AMX_C_LOAD_ALL  \
  AMX_C_LOAD(AMX_ACC0, 0) \
  AMX_C_LOAD(AMX_ACC1, 1) \
  AMX_C_LOAD(AMX_ACC2, 2) \
  AMX_C_LOAD(AMX_ACC3, 3)
#define AMX_C_STORE_ALL  \
  AMX_C_STORE(AMX_ACC0, 0) \
  AMX_C_STORE(AMX_ACC1, 1) \
  AMX_C_STORE(AMX_ACC2, 2) \
  AMX_C_STORE(AMX_ACC3, 3)

// One 16-row group (row r0 on, B tiles `bt`) against tokens [t_begin,
// t_end) over the 32-value blocks [kb0, kb0 + n_blocks) of k, 4 token tiles
// at a time: each B tile is loaded once for the 4 products. Used for a
// matrix's odd last group (tasks take whole pairs); pairs take pair_tiles.
void group_tiles(const PackedTask& task, const uint16_t* bt, int64_t r0, int64_t kb0, int64_t n_blocks) {
  const PackedActivations& acts = *task.acts;
  const bool fresh = kb0 == 0;  // the first k slice starts from zero; later ones add to y
  for (int64_t t0 = task.t_begin; t0 < task.t_end; t0 += 4 * kTokens) {
    const int64_t tile0 = t0 / kTokens;
    const int64_t left = task.t_end - t0;
    const int n_c = left >= 4 * kTokens ? 4 : static_cast<int>((left + kTokens - 1) / kTokens);
    CTarget ct[4];
    const uint16_t* a[4];  // each token tile's k slice, contiguous
    for (int i = 0; i < n_c; ++i) {
      ct[i] = c_target(task, r0, t0 + i * kTokens);
      a[i] = act_tile(acts, tile0 + i, kb0);
    }
    AMX_C_LOAD_ALL
    for (int64_t blk = 0; blk < n_blocks; ++blk) {
      _tile_loadd(AMX_B, bt + blk * kRows * 32, 64);
#define AMX_STEP(C, i)                                         \
  if (n_c > (i)) {                                             \
    _tile_loadd(AMX_A, a[i] + blk * kTokens * 32, 64);         \
    _tile_dpbf16ps(C, AMX_A, AMX_B);                           \
  }
      AMX_STEP(AMX_ACC0, 0)
      AMX_STEP(AMX_ACC1, 1)
      AMX_STEP(AMX_ACC2, 2)
      AMX_STEP(AMX_ACC3, 3)
#undef AMX_STEP
    }
    AMX_C_STORE_ALL
  }
}

// pair_tiles' products over a k slice: token tile a0 (and a1 where kTwo)
// by the two groups' B tiles, into ACC0/ACC1 (and ACC2/ACC3).
template <bool kTwo>
inline void pair_steps(const uint16_t* a0, const uint16_t* a1, const uint16_t* bt0, const uint16_t* bt1,
                       int64_t n_blocks) {
  for (int64_t blk = 0; blk < n_blocks; ++blk) {
    _tile_loadd(AMX_A, a0 + blk * kTokens * 32, 64);
    _tile_loadd(AMX_B, bt0 + blk * kRows * 32, 64);
    _tile_dpbf16ps(AMX_ACC0, AMX_A, AMX_B);
    _tile_loadd(AMX_B1, bt1 + blk * kRows * 32, 64);
    _tile_dpbf16ps(AMX_ACC1, AMX_A, AMX_B1);
    if constexpr (kTwo) {
      _tile_loadd(AMX_A1, a1 + blk * kTokens * 32, 64);
      _tile_dpbf16ps(AMX_ACC2, AMX_A1, AMX_B);
      _tile_dpbf16ps(AMX_ACC3, AMX_A1, AMX_B1);
    }
  }
}

// Two 16-row groups (rows r0.. with B tiles bt0, r0 + 16.. with bt1)
// against two token tiles at a time: per 32-value block 2 A and 2 B tile
// loads for 4 products, where group_tiles loads 5. The loads, not the
// multiplies, bound this loop (the activations come from L2): a standalone
// copy took 24-32 TSC cycles per product this way against 34-38 with
// group_tiles' 1 x 4, and 17-21 with every tile in L1 (docs/kernels.md).
void pair_tiles(const PackedTask& task, const uint16_t* bt0, const uint16_t* bt1, int64_t r0, int64_t kb0,
                int64_t n_blocks) {
  const PackedActivations& acts = *task.acts;
  const bool fresh = kb0 == 0;
  for (int64_t t0 = task.t_begin; t0 < task.t_end; t0 += 2 * kTokens) {
    const int64_t tile0 = t0 / kTokens;
    const bool two = task.t_end - t0 > kTokens;
    const int n_c = two ? 4 : 2;
    // C tiles: (group 0, tile 0), (group 1, tile 0), (group 0, tile 1), (group 1, tile 1).
    CTarget ct[4];
    for (int i = 0; i < n_c; ++i) ct[i] = c_target(task, r0 + (i % 2) * kRows, t0 + (i / 2) * kTokens);
    AMX_C_LOAD_ALL
    const uint16_t* a0 = act_tile(acts, tile0, kb0);  // the token tiles' k slices
    if (two) {
      pair_steps<true>(a0, act_tile(acts, tile0 + 1, kb0), bt0, bt1, n_blocks);
    } else {
      pair_steps<false>(a0, nullptr, bt0, bt1, n_blocks);
    }
    AMX_C_STORE_ALL
  }
}
#undef AMX_C_LOAD
#undef AMX_C_STORE
#undef AMX_C_LOAD_ALL
#undef AMX_C_STORE_ALL

// A task's groups in pairs (pair_tiles), an odd last one alone: `tiles(g,
// slot)` makes group g's B tiles for the task's k slice in buffer `slot`
// (0 or 1: a pair's two groups are alive at once) and returns them.
template <typename MakeTiles>
void run_groups(const PackedTask& task, int64_t kb0, int64_t n_blocks, MakeTiles&& tiles) {
  for (int64_t g = task.group_begin; g < task.group_end; g += 2) {
    const uint16_t* bt0 = tiles(g, 0);
    if (g + 1 < task.group_end) {
      pair_tiles(task, bt0, tiles(g + 1, 1), g * kRows, kb0, n_blocks);
    } else {
      group_tiles(task, bt0, g * kRows, kb0, n_blocks);
    }
  }
}

// A task: per 16-row group, its k slice unpacked and dequantized to bf16
// B tiles, then multiplied with every token tile of the task.
template <Kind K>
void run_bf16(const PackedTask& task) {
  constexpr bool kSuper = K == Kind::kQ4_K || K == Kind::kQ5_K || K == Kind::kQ6_K;
  constexpr int kBlockValues = kSuper ? 256 : 32;  // values per packed block
  constexpr int kGroupsPerBlock = K == Kind::kQ6_K ? 16 : kSuper ? 8 : 1;
  configure_tiles();
  const int64_t b0 = task.block_begin, b1 = task.block_end, n = b1 - b0;
  const int64_t values = n * kBlockValues;
  thread_local Unpacked unpacked[2];  // a pair of groups
  for (Unpacked& u : unpacked) u.reserve(values, n * kGroupsPerBlock, kSuper ? n : 0);
  run_groups(task, b0 * (kBlockValues / 32), values / 32, [&](int64_t g, int slot) {
    Unpacked& u = unpacked[slot];
    const uint8_t* grp = task.data + static_cast<size_t>(g) * task.group_bytes;
    switch (K) {
      case Kind::kQ8_0: q8_0_to_bf16(grp, b0, b1, u); break;  // no int8 copy first
      case Kind::kQ4_0: unpack_q4_0(grp, b0, b1, u); break;
      case Kind::kQ4_K: unpack_q4_k<false>(grp, b0, b1, u); break;
      case Kind::kQ5_K: unpack_q4_k<true>(grp, b0, b1, u); break;
      case Kind::kQ6_K: unpack_q6_k(grp, b0, b1, u); break;
    }
    if constexpr (K != Kind::kQ8_0) slice_to_bf16<K>(values, u);
    return static_cast<const uint16_t*>(u.bf16);
  });
  _tile_release();
}

// ---- matrices in their GGUF layout ----
// Types without a packed layout (Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q5_K; any
// type under --no-repack) take their prompt batches here instead of the
// GGUF-layout VNNI kernels, which ran 8x slower: per task, each group of
// 16 rows has its k slice dequantized by the type's own dequantizer (the
// reference numbers, tensor/), rounded to bf16 and transposed into B tiles,
// then runs the same tile loop.

// r[n] holds 16 dwords of row n; afterwards r[p] holds dword p of every
// row (dword n from row n): a 16 x 16 transpose in three steps (pairs of
// rows, then quads, then 128-bit lanes twice).
inline void transpose_16x16(__m512i r[16]) {
  __m512i t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);      // per lane: a0 b0 a1 b1
    t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);  // a2 b2 a3 b3
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);  // per lane: a0 b0 c0 d0
    r[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
    r[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
    r[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
  }
  // r[4q + j] (rows 4q..4q+3): lane l holds their dword 4l + j. Lanes 0
  // and 2 of two such vectors, then lanes 1 and 3, gather dwords j and 8 + j
  // (then 4 + j and 12 + j) of 8 rows; the last step pairs rows 0-7 with 8-15.
  for (int j = 0; j < 4; ++j) {
    t[j] = _mm512_shuffle_i32x4(r[j], r[4 + j], 0x88);
    t[4 + j] = _mm512_shuffle_i32x4(r[j], r[4 + j], 0xdd);
    t[8 + j] = _mm512_shuffle_i32x4(r[8 + j], r[12 + j], 0x88);
    t[12 + j] = _mm512_shuffle_i32x4(r[8 + j], r[12 + j], 0xdd);
  }
  for (int j = 0; j < 8; ++j) {
    r[j] = _mm512_shuffle_i32x4(t[j], t[8 + j], 0x88);      // dword j of all 16 rows
    r[8 + j] = _mm512_shuffle_i32x4(t[j], t[8 + j], 0xdd);  // dword 8 + j
  }
}

// 16 rows of `values` floats (row n at rows + n * values) as bf16 B tiles,
// one per 32 values: tile row p, dword n = values 2p, 2p + 1 of row n.
void rows_to_tiles(const float* rows, int64_t values, uint16_t* out) {
  for (int64_t b = 0; b < values / 32; ++b) {
    __m512i r[16];
    for (int n = 0; n < kRows; ++n) {
      const float* v = rows + n * values + 32 * b;
      r[n] = (__m512i)_mm512_cvtne2ps_pbh(_mm512_load_ps(v + 16), _mm512_load_ps(v));
    }
    transpose_16x16(r);
    for (int p = 0; p < 16; ++p) _mm512_store_si512(out + b * kRows * 32 + 32 * p, r[p]);
  }
}

// Rows are dequantized a chunk (task.chunk_blocks: 256 values) at a time,
// 16 KiB of floats that stay in L1, and turned into tiles right away (whole
// slices at once, 128 KiB of floats, measured the same: Q5_K_M pp512
// 334-349 t/s either way).

void amx_gguf(const PackedTask& task) {
  configure_tiles();
  const int64_t b0 = task.block_begin, b1 = task.block_end;
  const int64_t values = (b1 - b0) * task.block_values;  // whole 32-value tiles (gguf_amx_type)
  const int64_t chunk_blocks = task.chunk_blocks;
  thread_local Scratch row_scratch, tile_scratch;
  float* rows = reinterpret_cast<float*>(
      row_scratch.reserve(static_cast<size_t>(chunk_blocks * task.block_values) * kRows * sizeof(float)));
  const size_t group_tiles_values = static_cast<size_t>(values) * kRows;  // a pair of groups' tiles
  uint16_t* tiles = reinterpret_cast<uint16_t*>(tile_scratch.reserve(2 * group_tiles_values * sizeof(uint16_t)));
  run_groups(task, b0 * task.block_values / 32, values / 32, [&](int64_t g, int slot) {
    const int64_t r0 = g * kRows;
    uint16_t* out = tiles + slot * group_tiles_values;
    for (int64_t c0 = b0; c0 < b1; c0 += chunk_blocks) {
      const int64_t c1 = c0 + chunk_blocks < b1 ? c0 + chunk_blocks : b1, n = (c1 - c0) * task.block_values;
      for (int i = 0; i < kRows; ++i) {
        float* dst = rows + i * n;
        if (r0 + i < task.rows) {
          task.dequantize(task.data + static_cast<size_t>(r0 + i) * task.row_bytes + static_cast<size_t>(c0) * task.block_bytes,
                          dst, n);
        } else {
          for (int64_t v = 0; v < n; v += 16) _mm512_store_ps(dst + v, _mm512_setzero_ps());  // past the last row: never stored
        }
      }
      rows_to_tiles(rows, n, out + (c0 - b0) * task.block_values * kRows);
    }
    return static_cast<const uint16_t*>(out);
  });
  _tile_release();
}

// Tokens [t0, t1) of x (n x k floats) as bf16 A tiles (packed_matmul.h),
// rounded to nearest even.
void amx_activations(const float* x, int64_t t0, int64_t t1, int64_t n, int64_t k, int64_t n_tiles,
                     int64_t slice_blocks, uint16_t* out) {
  const int64_t n_blocks = k / 32;
  // The call that ends at n also zeroes the last tile's padding rows.
  const int64_t end = t1 == n ? n_tiles * kTokens : t1;
  for (int64_t t = t0; t < end; ++t) {
    for (int64_t first = 0; first < n_blocks; first += slice_blocks) {
      const int64_t len = n_blocks - first < slice_blocks ? n_blocks - first : slice_blocks;
      // Tile t / 16, row t % 16, of this slice.
      uint16_t* base = out + ((first * n_tiles + t / kTokens * len) * kTokens + t % kTokens) * 32;
      for (int64_t c = 0; c < len; ++c) {
        __m512i h = _mm512_setzero_si512();
        if (t < n) {
          const float* v = x + t * k + 32 * (first + c);
          h = (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(v + 16), _mm512_loadu_ps(v));
        }
        _mm512_storeu_si512(base + c * kTokens * 32, h);
      }
    }
  }
}

void amx_q8_0(const PackedTask& task) { run_bf16<Kind::kQ8_0>(task); }
void amx_q4_0(const PackedTask& task) { run_bf16<Kind::kQ4_0>(task); }
void amx_q4_k(const PackedTask& task) { run_bf16<Kind::kQ4_K>(task); }
void amx_q5_k(const PackedTask& task) { run_bf16<Kind::kQ5_K>(task); }
void amx_q6_k(const PackedTask& task) { run_bf16<Kind::kQ6_K>(task); }

}  // namespace

const AmxKernels kAmxKernels = {
    .q8_0 = &amx_q8_0,
    .q4_0 = &amx_q4_0,
    .q4_k = &amx_q4_k,
    .q5_k = &amx_q5_k,
    .q6_k = &amx_q6_k,
    .gguf = &amx_gguf,
    .activations = &amx_activations,
};

}  // namespace nomoat::kernels

#else  // built without AMX flags (compiler too old, or not x86-64): no kernels

namespace nomoat::kernels {
const AmxKernels kAmxKernels = {};
}

#endif
