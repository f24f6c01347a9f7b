// Fast CPU matmul kernels: design
// ===============================
//
// These kernels work on the GGUF layout as mapped; on AVX-512 VNNI, the
// Q8_0/Q4_0/Q4_K/Q6_K matrices of a loaded model are repacked and run by
// packed_matmul.h instead (kernels::matmul picks).
// One binary runs on any x86-64. The SIMD kernels live in their own
// translation units, each compiled with its own ISA flags (by file name in
// CMakeLists.txt): fast_matmul_avx2.cpp (-mavx2 -mfma -mf16c) and
// fast_matmul_avx512.cpp (AVX-512 F/BW/VL/VNNI); on AArch64,
// fast_matmul_neon.cpp (baseline NEON) and fast_matmul_neon_dot.cpp (SDOT,
// used when HWCAP says so), both from fast_matmul_neon.inc (docs/kernels.md).
// Which one runs is decided at run time:
//   * detect_isa() asks CPUID (__builtin_cpu_supports) for the best path;
//   * NOMOAT_ISA=scalar|avx2|avx512|neon in the environment overrides it (read
//     once; a path the CPU lacks falls back to the best one it has, with a
//     warning), so tests and benchmarks can force each path;
//   * every entry point also takes an explicit Isa, which the kernel tests
//     use to run all paths in one process.
// Because code compiled with -mavx2 must never run on a CPU without it, the
// ISA translation units include no header that defines inline functions or
// templates (a COMDAT copy built with AVX2 flags could be picked by the
// linker for the whole program): they see only this header's plain structs,
// tensor/blocks.h and <immintrin.h>, and keep all helpers in an anonymous
// namespace. Check: `nm -C` on their objects lists one defined symbol each
// (kAvx2Kernels / kAvx512Kernels) and no weak ones. The Q8_0/Q4_0/K-quant
// row loops are shared as fast_matmul_quant.inc (Q8_0, Q4_0, Q4_K, Q5_K,
// Q6_K), fast_matmul_legacy.inc (Q4_1, Q5_0, Q5_1) and
// fast_matmul_kquant.inc (Q2_K, Q3_K), included by both; every ISA's
// row-and-tile loop is fast_matmul_rows.inc.
//
// What is fast (weights x activations, y = W x for 1..n vectors):
//   * Q8_0, Q4_0: activations are quantized once per matmul to Q8_0-style
//     blocks (32 int8 + a float scale, round to nearest, d = amax / 127),
//     then integer dot products per block: AVX-512 VNNI vpdpbusd, or AVX2
//     vpmaddubsw + vpmaddwd. Block results are scaled and summed in float.
//   * F16: F16C conversion, BF16: widen and shift, F32: plain loads; all on unquantized
//     activations, products and sums in double FMA like the reference (exact
//     products, so only the summation order differs). Float sums changed
//     Stories260K's greedy tokens on the AVX2 path; double costs nothing in
//     a memory-bound matvec.
//   * Q4_1, Q5_0, Q5_1, Q2_K..Q6_K: the same 32-value activation blocks
//     (finer than a Q8_K super-block scale, and one activation format for
//     all), integer dot per block, the groups' scales (and mins) applied in
//     float; min/offset terms of 16-value groups use per-16 activation sums.
//   * Everything else (IQ*, ...) runs the scalar reference
//     kernels::matmul_reference in ops.cpp, which also defines the numbers
//     all fast paths are tested against.
// Work split: rows are cut into tasks of about 256 KiB of contiguous
// weights (long runs keep the hardware prefetchers busy; at least 4 tasks
// per thread), claimed dynamically by the persistent ThreadPool
// (base/thread_pool.h) on min(threads, physical cores) threads. Within a
// task each weight row is read once per tile of up to 4 activation vectors
// (the row stays in L1 across tiles), so a small batch costs little more
// memory traffic than one vector. AVX-512 float batches (F16/BF16/F32)
// instead get x widened to double once per matmul and run 2 rows x 8
// vectors over 256-column chunks (fast_matmul_avx512.cpp).
// Benchmarks: bench/matmul_bench.cpp (GB/s of weights vs. read bandwidth).
#pragma once

#include <cstddef>
#include <cstdint>

namespace nomoat {
struct MatrixView;
}

namespace nomoat::kernels {

// Neon: AArch64 Advanced SIMD (fast_matmul_neon.cpp; dot-product extension
// used when the CPU has it).
enum class Isa { Scalar = 0, Avx2 = 1, Avx512 = 2, Neon = 3 };

// Every path, for tests that run each one the machine supports.
inline constexpr Isa kAllIsas[] = {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon};

// "scalar", "avx2", "avx512", "neon".
const char* isa_name(Isa isa);
// Whether this CPU can run the path (Scalar always).
bool isa_supported(Isa isa);
// The best path this CPU supports.
Isa detect_isa();
// detect_isa(), or NOMOAT_ISA when set (and supported); decided once.
Isa active_isa();
// Parses NOMOAT_ISA-style names; false when unknown.
bool parse_isa(const char* name, Isa* out);

// Whether `isa` has a fast kernel for this weight type.
bool has_fast_matmul(Isa isa, const MatrixView& w);

// Same contract as kernels::matmul (y[t][r] = sum_c w[r][c] x[t][c]) with
// the fast path of `isa`; falls back to the reference when has_fast_matmul
// is false. threads <= 1: on the caller only.
void matmul_fast(Isa isa, const MatrixView& w, const float* x, int64_t n_vectors, float* y, int threads);

// ---- Interface between the dispatcher and the ISA translation units ----

// Activations quantized Q8_0-style (for the integer-dot weight types), per vector: n_blocks scales, cols int8
// values, n_blocks values of -8 * sum(q) (the Q4_0 zero-point correction,
// so a Q4_0 block dot can use its unsigned 0..15 nibbles directly).
struct QuantizedActivations {
  const float* scales = nullptr;
  const int8_t* qs = nullptr;
  const int32_t* q4_bias = nullptr;
  int64_t n_blocks = 0;  // per vector; qs holds n_blocks * 32 per vector
  // Q4_1/Q5_1/Q2_K/Q3_K weights only (else null): per vector 2 * n_blocks
  // floats, scale * sum(q) over each 16 values, so their min/offset terms
  // cost one multiply per group instead of an extra dot per block.
  const float* half_sums = nullptr;
};

// One task: rows [row_begin, row_end) of W for all n_vectors activations.
struct MatmulTask {
  const uint8_t* w = nullptr;
  size_t row_bytes = 0;
  int64_t cols = 0;
  int64_t rows = 0;  // total rows of W: y's stride per vector
  int64_t row_begin = 0;
  int64_t row_end = 0;
  int64_t n_vectors = 0;
  const float* x = nullptr;    // F16/F32 weights: the float activations
  // F16/BF16/F32 batches on AVX-512: x widened to double, each vector
  // padded with zeros to x_double_stride (cols rounded up to 16) values.
  const double* x_double = nullptr;
  int64_t x_double_stride = 0;
  QuantizedActivations acts;   // Q8_0/Q4_0 weights
  float* y = nullptr;
  int prefetch = 0;  // decode: software prefetch distance in bytes (0: none)
};

// How far ahead decode kernels (packed and GGUF layout alike) prefetch
// weights in software: NOMOAT_PREFETCH (bytes, 0 = off) if set; else 3072
// on Intel CPUs, and 0 elsewhere (on AMD Zen 4, 2-8 KiB ahead made decode
// slower). On the Intel VM the hardware prefetchers alone left Q4_0 decode
// well below the read bandwidth; into L2, 1/2/2.5/3/3.5/4/6 KiB ahead read
// 0.77/0.84/0.89/0.88-0.95/0.92/0.89/0.87 of the probe (Q4_0, 256 MiB, 2
// threads, interleaved; the other types peaked at 3-3.5 KiB too). The GGUF
// layout kernels read one row at a time: rows_in_tiles prefetches the whole
// row that far ahead before each (Q4_1/Q5_0/Q2_K decode read 2x faster).
int decode_prefetch_bytes();

using MatmulKernel = void (*)(const MatmulTask& task);

// Quantizes n_blocks consecutive 32-float blocks of x Q8_0-style: scales[b]
// = amax / 127, qs = x / scale rounded to nearest even, q4_bias[b] =
// -8 * sum(q of block b). Every ISA gives the same bytes as the scalar one.
using QuantizeActivationsFn = void (*)(const float* x, int64_t n_blocks, float* scales, int8_t* qs, int32_t* q4_bias);
void quantize_activations_scalar(const float* x, int64_t n_blocks, float* scales, int8_t* qs, int32_t* q4_bias);

// The same with one scale per 256 values (8 blocks; what the K-quant packed
// kernels take, like the reference engine's Q8_K): scales[s] = amax / 127
// over super-block s, qs = x / scale rounded to nearest even, and
// block_sums[b] = sum(q of 32-value block b). Same bytes on every ISA.
using QuantizeSuperblocksFn = void (*)(const float* x, int64_t n_superblocks, float* scales, int8_t* qs,
                                       int32_t* block_sums);
void quantize_superblocks_scalar(const float* x, int64_t n_superblocks, float* scales, int8_t* qs, int32_t* block_sums);

// Kernels of one ISA; null where it has none for that type. Tables are
// written with designated initializers, so a new type is one field here,
// one line in kernel_for (fast_matmul.cpp) and one per ISA table.
struct IsaKernels {
  QuantizeActivationsFn quantize_activations = nullptr;
  MatmulKernel q8_0 = nullptr;
  MatmulKernel q4_0 = nullptr;
  MatmulKernel q4_1 = nullptr;
  MatmulKernel q5_0 = nullptr;
  MatmulKernel q5_1 = nullptr;
  MatmulKernel q2_k = nullptr;
  MatmulKernel q3_k = nullptr;
  MatmulKernel q4_k = nullptr;
  MatmulKernel q5_k = nullptr;
  MatmulKernel q6_k = nullptr;
  MatmulKernel f16 = nullptr;
  MatmulKernel bf16 = nullptr;
  MatmulKernel f32 = nullptr;
  // Last, outside fast_matmul_table.inc: only the x86 files set it.
  QuantizeSuperblocksFn quantize_superblocks = nullptr;
};

extern const IsaKernels kAvx2Kernels;    // fast_matmul_avx2.cpp
extern const IsaKernels kAvx512Kernels;  // fast_matmul_avx512.cpp
extern const IsaKernels kNeonKernels;    // fast_matmul_neon.cpp (empty off AArch64)
extern const IsaKernels kNeonDotKernels;  // fast_matmul_neon_dot.cpp (+dotprod; empty off AArch64)

// Whether Isa::Neon runs kNeonDotKernels (the CPU has the dot-product
// extension: getauxval(AT_HWCAP) & HWCAP_ASIMDDP) rather than kNeonKernels.
bool neon_has_dotprod();

// How the dispatchers split a matmul over the thread pool (shared by this
// file's kernels and packed_matmul.h's):
// below this many multiply-adds the pool's wake-up costs more than it saves;
inline constexpr int64_t kMinParallelWork = 1 << 16;
// units (rows, 16-row groups) per task: about 256 KiB of contiguous weights
// (long runs let the hardware prefetchers ramp up: a Q8_0 matvec went from
// 0.70 to 0.95 of the read bandwidth when tasks grew from 32 KiB to 256 KiB;
// 1 MiB was no better), but with n_threads > 1 at least 4 tasks per thread
// so dynamic claiming evens out a slow or preempted thread.
int64_t units_per_task(int64_t units, size_t unit_bytes, int n_threads);

// The table of `isa` (null for Scalar).
const IsaKernels* isa_kernels(Isa isa);

}  // namespace nomoat::kernels
