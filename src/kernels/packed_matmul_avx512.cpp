// AVX-512 VNNI kernels over the x16 packed layouts (design:
// packed_matmul.h, layouts: tensor/packed.h). Compiled with AVX-512 flags
// for this file only; includes nothing that defines inline functions or
// templates outside this file (see fast_matmul.h).
#include "kernels/packed_matmul.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512VNNI__) && \
    defined(__FMA__) && defined(__F16C__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // see fast_matmul_avx512.cpp
#include <immintrin.h>

namespace nomoat::kernels {
namespace {

constexpr int kRows = 16;
constexpr int kQuad = 64;  // bytes of one 16-row x 4-value quad

// 4 int8 activations broadcast to every lane (the signed vpdpbusd operand).
inline __m512i broadcast4(const int8_t* p) {
  int32_t v;
  __builtin_memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

inline __m512i load_quad(const uint8_t* p) { return _mm512_loadu_si512(p); }
inline __m512 load_scales16(const uint8_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// The activation panel of one tile of NP tokens (layout: packed_matmul.h):
// every address below is the tile's base plus a compile-time offset, so the
// token loop needs no per-token pointers (GCC kept 48 of them on the stack).
template <int NP>
struct Panel {
  const int8_t* qs;
  const float* scales;
  const int32_t* bias;
  const int32_t* min_sums;
  Panel(const PackedActivations& a, int64_t t0) {
    const int64_t tile = t0 / NP;
    qs = a.qs + tile * a.n_blocks * 32 * NP;
    scales = a.scales + tile * a.n_scales * NP;
    bias = a.bias ? a.bias + tile * a.n_blocks * a.bias_per_block * NP : nullptr;
    min_sums = a.min_sums ? a.min_sums + tile * a.n_scales * NP * 4 : nullptr;
  }
  // Values 4q..4q+3 of block b for token t (q = 0..7).
  const int8_t* quad(int64_t b, int q, int t) const { return qs + (b * 8 + q) * 4 * NP + 4 * t; }
  // Scale s (block, or super-block for K-quants) of token t.
  float scale(int64_t s, int t) const { return scales[s * NP + t]; }
  int32_t bias_of(int64_t h, int t) const { return bias[h * NP + t]; }
  // Word w of super-block s's min sums for token t (packed_matmul.h).
  const int32_t* min_word(int64_t s, int t, int w) const { return min_sums + (s * NP + t) * 4 + w; }
};

inline __m512i broadcast_word(const int32_t* p) { return _mm512_set1_epi32(*p); }

// Small tiles (decode) split each block's dot into two chains so one token
// is not bound by vpdpbusd latency; big tiles have N independent chains.
template <int N>
constexpr bool kSplitChains = N <= 2;

// Where block j of a chunk (j from the chunk's first block) keeps its body
// and its scales: units of 64 bytes of scales for 64 / Tail blocks, then
// those blocks' bodies (tensor/packed.h).
struct Place {
  const uint8_t* body;
  const uint8_t* tail;
};
template <int Body, int Tail>
inline Place place(const uint8_t* chunk, int64_t j) {
  constexpr int64_t kUnit = 64 / Tail;
  const uint8_t* unit = chunk + (j / kUnit) * (64 + kUnit * Body);
  return Place{unit + 64 + (j % kUnit) * Body, unit + (j % kUnit) * Tail};
}

// Decode (N = 1): software prefetch task.prefetch bytes ahead of `bytes`
// (plus one line) about to be read (packed_matmul.h says when it is on).
// Into L2, not L1: a T0 prefetch holds one of L1's few fill buffers until
// its line arrives, and bursts of them (a Q6_K super-block is 52 lines)
// stalled the loads behind them. Measured interleaved, 2 threads, 256 MiB,
// share of the probe: T1 0.87-0.95 against T0 0.80-0.82 at 3 KiB.
// Callers prefetch piece by piece as they read, for the same reason.
template <int N>
inline void prefetch_ahead(const PackedTask& task, const uint8_t* body, int bytes) {
  if (N != 1 || task.prefetch == 0) return;
  const char* p = reinterpret_cast<const char*>(body) + task.prefetch;
  for (int off = 0; off <= bytes; off += 64) _mm_prefetch(p + off, _MM_HINT_T1);
}

// Block sums start at the int32 zero-point correction; a second
// chain for small tiles (kSplitChains).
template <int N, int NP>
inline void start_sums(const Panel<NP>& a, int64_t bias_index, __m512i* acc, __m512i* acc2) {
  for (int t = 0; t < N; ++t) {
    acc[t] = _mm512_set1_epi32(a.bias_of(bias_index, t));
    acc2[t] = _mm512_setzero_si512();
  }
}

// f[t] += (16 row scales x token t's scale) * block sum.
template <int N, int NP>
inline void add_block(const __m512i* acc, const __m512i* acc2, __m512 row_scales, const Panel<NP>& a, int64_t b, __m512* f) {
  for (int t = 0; t < N; ++t) {
    const __m512i sum = kSplitChains<N> ? _mm512_add_epi32(acc[t], acc2[t]) : acc[t];
    f[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), _mm512_mul_ps(row_scales, _mm512_set1_ps(a.scale(b, t))), f[t]);
  }
}

// ---- Q8_0x16: 8 quads of bytes q + 128 per block; bias = -128 sum(a) ----
template <int N, int NP>
inline void q8_0_group(const PackedTask& task, const uint8_t* grp, int64_t t0, int64_t b0, int64_t b1, __m512* f) {
  const Panel<NP> a(*task.acts, t0);
  for (int64_t b = b0; b < b1; ++b) {
    const Place at = place<8 * kQuad, 32>(grp, b - b0);
    prefetch_ahead<N>(task, at.body, 8 * kQuad);
    __m512i acc[N], acc2[N];
    start_sums<N>(a, b, acc, acc2);
#pragma GCC unroll 8
    for (int i = 0; i < 8; ++i) {
      const __m512i w = load_quad(at.body + kQuad * i);
      for (int t = 0; t < N; ++t) {
        const __m512i x = broadcast4(a.quad(b, i, t));
        if (kSplitChains<N> && (i & 1)) {
          acc2[t] = _mm512_dpbusd_epi32(acc2[t], w, x);
        } else {
          acc[t] = _mm512_dpbusd_epi32(acc[t], w, x);
        }
      }
    }
    add_block<N>(acc, acc2, load_scales16(at.tail), a, b, f);
  }
}

// 32 values of nibble quads (Q4_0 arrangement) against one activation block:
// quad i's low nibbles are values 4i.., high nibbles 16 + 4i...
template <int N, int NP>
inline void nibble_block(const uint8_t* quads, const Panel<NP>& a, int64_t b, __m512i* acc, __m512i* acc2) {
  const __m512i low4 = _mm512_set1_epi8(15);
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    const __m512i raw = load_quad(quads + kQuad * i);
    const __m512i lo = _mm512_and_si512(raw, low4);
    const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(raw, 4), low4);
    for (int t = 0; t < N; ++t) {
      acc[t] = _mm512_dpbusd_epi32(acc[t], lo, broadcast4(a.quad(b, i, t)));
      if (kSplitChains<N>) {
        acc2[t] = _mm512_dpbusd_epi32(acc2[t], hi, broadcast4(a.quad(b, 4 + i, t)));
      } else {
        acc[t] = _mm512_dpbusd_epi32(acc[t], hi, broadcast4(a.quad(b, 4 + i, t)));
      }
    }
  }
}

// ---- Q4_0x16: 4 nibble quads per block; bias = -8 sum(a) ----
template <int N, int NP>
inline void q4_0_group(const PackedTask& task, const uint8_t* grp, int64_t t0, int64_t b0, int64_t b1, __m512* f) {
  const Panel<NP> a(*task.acts, t0);
  for (int64_t b = b0; b < b1; ++b) {
    const Place at = place<4 * kQuad, 32>(grp, b - b0);
    prefetch_ahead<N>(task, at.body, 4 * kQuad);
    __m512i acc[N], acc2[N];
    start_sums<N>(a, b, acc, acc2);
    nibble_block<N>(at.body, a, b, acc, acc2);
    add_block<N>(acc, acc2, load_scales16(at.tail), a, b, f);
  }
}

// ---- Q4_Kx16: per group g, x = d sc[g] q - dmin m[g] ----
// With one activation scale s_a per super-block (packed_matmul.h):
//   sum x a = s_a (sum_g (d sc[g]) dot(q_g, a_g) - dmin sum_g m[g] S_g)
// The group sums take one FMA each with d sc[g] (computed once per tile);
// sum_g m[g] S_g is integer: 4 vpdpbusd of the 6-bit mins against the bytes
// of S = 64 H + L; s_a costs one FMA per super-block.
template <int N, int NP>
inline void q4_k_group(const PackedTask& task, const uint8_t* grp, int64_t t0, int64_t b0, int64_t b1, __m512* f) {
  const Panel<NP> a(*task.acts, t0);
  const __m512i six_bits = _mm512_set1_epi8(0x3f);
  const __m512i four_bits = _mm512_set1_epi8(0x0f);
  const __m512i two_bits = _mm512_set1_epi8(0x03);
  const __m512i byte_mask = _mm512_set1_epi32(0xff);
  alignas(64) float group_scale[8][16];
  for (int64_t sb = b0; sb < b1; ++sb) {
    const Place at = place<35 * kQuad, 64>(grp, sb - b0);
    const uint8_t* blk = at.body;
    prefetch_ahead<N>(task, blk, 2 * kQuad);  // the packed scales; groups below
    const __m512 d = load_scales16(at.tail);
    // The 12 packed scale bytes of each row, 4 per lane; unpacked for all
    // 16 rows at once (layout in tensor/packed.h and q4_k.cpp).
    const __m512i k0 = load_quad(blk);
    const __m512i k2 = load_quad(blk + 2 * kQuad);
    const __m512i sc_lo = _mm512_and_si512(k0, six_bits);
    const __m512i sc_hi = _mm512_or_si512(_mm512_and_si512(k2, four_bits),
                                          _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(k0, 6), two_bits), 4));
#pragma GCC unroll 8
    for (int g = 0; g < 8; ++g) {
      const __m512i sc_src = g < 4 ? sc_lo : sc_hi;
      const __m512i sc = _mm512_and_si512(_mm512_srli_epi32(sc_src, 8 * (g % 4)), byte_mask);
      _mm512_store_ps(group_scale[g], _mm512_mul_ps(d, _mm512_cvtepi32_ps(sc)));
    }
    __m512 sums[N];
    for (int t = 0; t < N; ++t) sums[t] = _mm512_setzero_ps();
    const uint8_t* quads = blk + 3 * kQuad;
#pragma GCC unroll 8
    for (int g = 0; g < 8; ++g) {
      const int64_t ab = sb * 8 + g;  // activation block
      prefetch_ahead<N>(task, quads + 4 * kQuad * g, 3 * kQuad);
      __m512i acc[N], acc2[N];
      for (int t = 0; t < N; ++t) {  // no bias: the min term is separate
        acc[t] = _mm512_setzero_si512();
        acc2[t] = _mm512_setzero_si512();
      }
      nibble_block<N>(quads + 4 * kQuad * g, a, ab, acc, acc2);
      const __m512 gs = _mm512_load_ps(group_scale[g]);
      for (int t = 0; t < N; ++t) {
        const __m512i sum = kSplitChains<N> ? _mm512_add_epi32(acc[t], acc2[t]) : acc[t];
        sums[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), gs, sums[t]);
      }
    }
    // The min term, then the super-block's activation scale.
    const __m512i k1 = load_quad(blk + kQuad);
    const __m512i m_lo = _mm512_and_si512(k1, six_bits);
    const __m512i m_hi = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(k2, 4), four_bits),
                                         _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(k1, 6), two_bits), 4));
    const __m512 dmin = load_scales16(at.tail + 32);
    for (int t = 0; t < N; ++t) {
      __m512i high = _mm512_dpbusd_epi32(_mm512_setzero_si512(), m_lo, broadcast_word(a.min_word(sb, t, 0)));
      __m512i low = _mm512_dpbusd_epi32(_mm512_setzero_si512(), m_lo, broadcast_word(a.min_word(sb, t, 2)));
      high = _mm512_dpbusd_epi32(high, m_hi, broadcast_word(a.min_word(sb, t, 1)));
      low = _mm512_dpbusd_epi32(low, m_hi, broadcast_word(a.min_word(sb, t, 3)));
      const __m512i mins = _mm512_add_epi32(_mm512_slli_epi32(high, 6), low);
      sums[t] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(mins), dmin, sums[t]);
      f[t] = _mm512_fmadd_ps(sums[t], _mm512_set1_ps(a.scale(sb, t)), f[t]);
    }
  }
}

// ---- Q6_Kx16: x = d sc[g] (q - 32), groups of 16, q = 4 low + 2 high bits ----
// Each 32-value unit is two groups, each an int32 chain per token starting
// at its bias (-32 sum(a) of that half), added into the super-block's float
// sums with one FMA by d sc[g] (computed once per tile); the activation
// scale (one per super-block) costs one FMA per super-block.
template <int N, int NP>
inline void q6_k_group(const PackedTask& task, const uint8_t* grp, int64_t t0, int64_t b0, int64_t b1, __m512* f) {
  const Panel<NP> a(*task.acts, t0);
  const __m512i low4 = _mm512_set1_epi8(15);
  const __m512i high2 = _mm512_set1_epi8(0x30);
  alignas(64) float group_scale[16][16];
  for (int64_t sb = b0; sb < b1; ++sb) {
    const Place at = place<256 + 48 * kQuad, 32>(grp, sb - b0);
    prefetch_ahead<N>(task, at.body, 256 - 64);  // the group scales; units below
    const uint8_t* blk = at.body;
    const __m512 d = load_scales16(at.tail);
#pragma GCC unroll 16
    for (int g = 0; g < 16; ++g) {
      const __m128i sc = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 16 * g));
      _mm512_store_ps(group_scale[g], _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(sc))));
    }
    __m512 sums[N];
    for (int t = 0; t < N; ++t) sums[t] = _mm512_setzero_ps();
    // Per unit: the activation quads and biases sit at constant offsets
    // from two pointers (fewer live registers for address arithmetic).
    const int8_t* unit_quads = a.quad(sb * 8, 0, 0);
    const int32_t* unit_bias = &a.bias[2 * sb * 8 * NP];
    for (int unit = 0; unit < 8; ++unit, unit_quads += 32 * NP, unit_bias += 2 * NP) {
      const uint8_t* u = blk + 256 + 6 * kQuad * unit;
      prefetch_ahead<N>(task, u, 5 * kQuad);
#pragma GCC unroll 2
      for (int half = 0; half < 2; ++half) {
        // Half 0: low nibbles with their high bits in quad 4; half 1: high
        // nibbles, high bits in quad 5 (bits 2i..2i+1 for quad i).
        const __m512i h = load_quad(u + (4 + half) * kQuad);
        __m512i acc[N];
        for (int t = 0; t < N; ++t) acc[t] = _mm512_set1_epi32(unit_bias[half * NP + t]);
#pragma GCC unroll 4
        for (int i = 0; i < 4; ++i) {
          const __m512i raw = load_quad(u + kQuad * i);
          const __m512i nib = half == 0 ? raw : _mm512_srli_epi16(raw, 4);
          const __m512i top = i < 3 ? _mm512_slli_epi16(h, 4 - 2 * i) : _mm512_srli_epi16(h, 2);
          const __m512i w = _mm512_or_si512(_mm512_and_si512(nib, low4), _mm512_and_si512(top, high2));
          const int8_t* quad = unit_quads + (4 * half + i) * 4 * NP;
          for (int t = 0; t < N; ++t) acc[t] = _mm512_dpbusd_epi32(acc[t], w, broadcast4(quad + 4 * t));
        }
        const __m512 gs = _mm512_load_ps(group_scale[2 * unit + half]);
        for (int t = 0; t < N; ++t) sums[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[t]), gs, sums[t]);
      }
    }
    for (int t = 0; t < N; ++t) f[t] = _mm512_fmadd_ps(sums[t], _mm512_set1_ps(a.scale(sb, t)), f[t]);
  }
}

using GroupFn = void (*)(const PackedTask&, const uint8_t*, int64_t, int64_t, int64_t, __m512*);

// One 16-row group x N tokens over the chunks of blocks [b0, b1) (each
// chunk: units of scales then bodies; tensor/packed.h). Partial sums
// between calls within a k slice live in `acc` (N x 16 floats, aligned,
// unmasked), never in y: a masked store cannot forward to the masked load
// of the next chunk, so the load waited for the store to retire, which
// drained the pipeline at every chunk and halved decode streaming (11 vs 27
// GB/s on one core). y is read at the start of a slice that continues an
// earlier one and written at the end of each slice, valid rows only.
template <int N, GroupFn Group>
inline void tile(const PackedTask& task, int64_t g, int64_t t0, int64_t b0, int64_t b1, float* acc) {
  const int64_t r0 = g * kRows;
  const int64_t valid = task.rows - r0;
  const __mmask16 mask = valid >= kRows ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << valid) - 1);
  __m512 f[N];
  for (int t = 0; t < N; ++t) {
    if (b0 != task.block_begin) {
      f[t] = _mm512_load_ps(acc + kRows * t);
    } else if (task.block_begin == 0) {
      f[t] = _mm512_setzero_ps();
    } else {
      f[t] = _mm512_maskz_loadu_ps(mask, task.y + (t0 + t) * task.rows + r0);
    }
  }
  const uint8_t* grp = task.data + static_cast<size_t>(g) * task.group_bytes;
  for (int64_t c0 = b0; c0 < b1; c0 += task.chunk_blocks) {
    const int64_t c1 = c0 + task.chunk_blocks < b1 ? c0 + task.chunk_blocks : b1;
    Group(task, grp + static_cast<size_t>(c0) * task.block_bytes, t0, c0, c1, f);
  }
  if (b1 < task.block_end) {
    for (int t = 0; t < N; ++t) _mm512_store_ps(acc + kRows * t, f[t]);
    return;
  }
  for (int t = 0; t < N; ++t) _mm512_mask_storeu_ps(task.y + (t0 + t) * task.rows + r0, mask, f[t]);
}

// Every group of the task against every token tile of the task, over the
// task's k slice. With several tiles, k goes chunk by chunk (about 8 KiB of
// the group's weights) across all tiles, so a chunk stays in L1 beside the
// tiles' activations for it (an 8192-wide FFN row group is 72-144 KiB, far
// more than L1); a single tile (decode) runs the slice in one call.
template <int NMax, template <int> class G>
void run_task(const PackedTask& task) {
  alignas(64) float acc[kMaxPackedTokens * kRows];
  const bool one_tile = task.t_end - task.t_begin <= NMax;
  const int64_t step = one_tile ? task.block_end - task.block_begin : task.chunk_blocks;
  for (int64_t g = task.group_begin; g < task.group_end; ++g) {
    for (int64_t b0 = task.block_begin; b0 < task.block_end; b0 += step) {
      const int64_t b1 = b0 + step < task.block_end ? b0 + step : task.block_end;
      int64_t t0 = task.t_begin;
      for (; t0 + NMax <= task.t_end; t0 += NMax) tile<NMax, G<NMax>::fn>(task, g, t0, b0, b1, acc + kRows * (t0 - task.t_begin));
      // Remainder: one tile of the exact width.
      float* rest = acc + kRows * (t0 - task.t_begin);
      switch (task.t_end - t0) {
#define NOMOAT_PACKED_CASE(n)                                                \
  case n:                                                                    \
    if constexpr (n < NMax) tile<n, G<n>::fn>(task, g, t0, b0, b1, rest);    \
    break;
        NOMOAT_PACKED_CASE(1)
        NOMOAT_PACKED_CASE(2)
        NOMOAT_PACKED_CASE(3)
        NOMOAT_PACKED_CASE(4)
        NOMOAT_PACKED_CASE(5)
        NOMOAT_PACKED_CASE(6)
        NOMOAT_PACKED_CASE(7)
        NOMOAT_PACKED_CASE(8)
        NOMOAT_PACKED_CASE(9)
        NOMOAT_PACKED_CASE(10)
        NOMOAT_PACKED_CASE(11)
#undef NOMOAT_PACKED_CASE
        default: break;
      }
    }
  }
}

// Per type: the kernel of tile width N over panels of NP tokens. One token
// (decode) gets panels of width 1: with the wide panel its 4 bytes per quad
// sat 40 bytes apart, a 4096-wide activation took 40 KiB (more than L1), and
// single-thread streaming fell to half the bandwidth.
#define NOMOAT_PACKED_TYPE(Name, group, panel)              \
  template <int N>                                          \
  struct Name {                                             \
    static constexpr GroupFn fn = &group<N, panel>;         \
    static constexpr int kPanel = panel;                    \
  };                                                        \
  template <int N>                                          \
  struct Name##One {                                        \
    static constexpr GroupFn fn = &group<N, 1>;             \
  };
NOMOAT_PACKED_TYPE(Q8_0G, q8_0_group, 10)
NOMOAT_PACKED_TYPE(Q4_0G, q4_0_group, 10)
NOMOAT_PACKED_TYPE(Q4_KG, q4_k_group, 8)
NOMOAT_PACKED_TYPE(Q6_KG, q6_k_group, 8)
#undef NOMOAT_PACKED_TYPE

template <template <int> class G, template <int> class GOne>
void packed_kernel(const PackedTask& task) {
  if (task.acts->panel == 1) {
    run_task<1, GOne>(task);
  } else {
    run_task<G<1>::kPanel, G>(task);
  }
}

void packed_q8_0(const PackedTask& task) { packed_kernel<Q8_0G, Q8_0GOne>(task); }
void packed_q4_0(const PackedTask& task) { packed_kernel<Q4_0G, Q4_0GOne>(task); }
void packed_q4_k(const PackedTask& task) { packed_kernel<Q4_KG, Q4_KGOne>(task); }
void packed_q6_k(const PackedTask& task) { packed_kernel<Q6_KG, Q6_KGOne>(task); }

}  // namespace

const PackedKernels kAvx512PackedKernels = {
    .panel_q8_0 = Q8_0G<1>::kPanel,
    .panel_q4_0 = Q4_0G<1>::kPanel,
    .panel_q4_k = Q4_KG<1>::kPanel,
    .panel_q6_k = Q6_KG<1>::kPanel,
    .q8_0 = &packed_q8_0,
    .q4_0 = &packed_q4_0,
    .q4_k = &packed_q4_k,
    .q6_k = &packed_q6_k,
};

}  // namespace nomoat::kernels

#else  // built without AVX-512 flags (non-x86 target): no kernels

namespace nomoat::kernels {
const PackedKernels kAvx512PackedKernels = {};
}

#endif
