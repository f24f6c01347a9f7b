// AVX-512 peak loops (built with AVX-512 F/BW/VL/VNNI flags, see
// CMakeLists.txt): int8 vpdpbusd and fp32 FMA on zmm registers. Only
// peak_isa.h and <immintrin.h> are included (see peak_isa.h for why).
#if defined(__x86_64__)
#include <immintrin.h>

#include "kernels/peak_isa.h"

namespace nomoat::kernels {
namespace {

// 16 independent accumulators: more than latency x throughput of either
// instruction on current cores (e.g. 4-5 cycles x 2 per cycle), so the loop
// is bound by issue rate, not by a dependency chain.
constexpr int kAcc = 16;

// Loaded through volatile so the inputs are not compile-time constants.
// (Results are summed through memory: GCC 12 warns inside its own
// _mm512_reduce_* helpers.)
volatile int g_a = 0x01010101, g_b = 0x02020202;
volatile float g_m = 0.9999f, g_c = 1e-4f;

// The whole loop is one asm block on zmm16-31: with the intrinsic, GCC 12
// copies each accumulator through another register (or the stack) every
// iteration, because vpdpbusd overwrites its input; and 16 accumulators as
// asm operands would exceed GCC's limit of 30.
double int8_run(uint64_t iterations) {
  if (iterations == 0) return 0;
  const __m512i a = _mm512_set1_epi32(g_a), b = _mm512_set1_epi32(g_b);
  __m512i sum;
  uint64_t n = iterations;
  __asm__ volatile(
      "vmovdqa64 %[a], %%zmm16\n\t"
      "vmovdqa64 %[a], %%zmm17\n\t"
      "vmovdqa64 %[a], %%zmm18\n\t"
      "vmovdqa64 %[a], %%zmm19\n\t"
      "vmovdqa64 %[a], %%zmm20\n\t"
      "vmovdqa64 %[a], %%zmm21\n\t"
      "vmovdqa64 %[a], %%zmm22\n\t"
      "vmovdqa64 %[a], %%zmm23\n\t"
      "vmovdqa64 %[a], %%zmm24\n\t"
      "vmovdqa64 %[a], %%zmm25\n\t"
      "vmovdqa64 %[a], %%zmm26\n\t"
      "vmovdqa64 %[a], %%zmm27\n\t"
      "vmovdqa64 %[a], %%zmm28\n\t"
      "vmovdqa64 %[a], %%zmm29\n\t"
      "vmovdqa64 %[a], %%zmm30\n\t"
      "vmovdqa64 %[a], %%zmm31\n\t"
      "1:\n\t"
      "vpdpbusd %[b], %[a], %%zmm16\n\t"
      "vpdpbusd %[b], %[a], %%zmm17\n\t"
      "vpdpbusd %[b], %[a], %%zmm18\n\t"
      "vpdpbusd %[b], %[a], %%zmm19\n\t"
      "vpdpbusd %[b], %[a], %%zmm20\n\t"
      "vpdpbusd %[b], %[a], %%zmm21\n\t"
      "vpdpbusd %[b], %[a], %%zmm22\n\t"
      "vpdpbusd %[b], %[a], %%zmm23\n\t"
      "vpdpbusd %[b], %[a], %%zmm24\n\t"
      "vpdpbusd %[b], %[a], %%zmm25\n\t"
      "vpdpbusd %[b], %[a], %%zmm26\n\t"
      "vpdpbusd %[b], %[a], %%zmm27\n\t"
      "vpdpbusd %[b], %[a], %%zmm28\n\t"
      "vpdpbusd %[b], %[a], %%zmm29\n\t"
      "vpdpbusd %[b], %[a], %%zmm30\n\t"
      "vpdpbusd %[b], %[a], %%zmm31\n\t"
      "dec %[n]\n\t"
      "jnz 1b\n\t"
      "vpaddd %%zmm24, %%zmm16, %%zmm16\n\t"
      "vpaddd %%zmm25, %%zmm17, %%zmm17\n\t"
      "vpaddd %%zmm26, %%zmm18, %%zmm18\n\t"
      "vpaddd %%zmm27, %%zmm19, %%zmm19\n\t"
      "vpaddd %%zmm28, %%zmm20, %%zmm20\n\t"
      "vpaddd %%zmm29, %%zmm21, %%zmm21\n\t"
      "vpaddd %%zmm30, %%zmm22, %%zmm22\n\t"
      "vpaddd %%zmm31, %%zmm23, %%zmm23\n\t"
      "vpaddd %%zmm20, %%zmm16, %%zmm16\n\t"
      "vpaddd %%zmm21, %%zmm17, %%zmm17\n\t"
      "vpaddd %%zmm22, %%zmm18, %%zmm18\n\t"
      "vpaddd %%zmm23, %%zmm19, %%zmm19\n\t"
      "vpaddd %%zmm18, %%zmm16, %%zmm16\n\t"
      "vpaddd %%zmm19, %%zmm17, %%zmm17\n\t"
      "vpaddd %%zmm17, %%zmm16, %%zmm16\n\t"
      "vmovdqa64 %%zmm16, %[out]"
      : [out] "=v"(sum), [n] "+r"(n)
      : [a] "v"(a), [b] "v"(b)
      : "cc", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24", "xmm25", "xmm26",
        "xmm27", "xmm28", "xmm29", "xmm30", "xmm31");
  alignas(64) int v[16];
  _mm512_store_si512(v, sum);
  double out = 0;
  for (int x : v) out += x;
  return out;
}

double fp32_run(uint64_t iterations) {
  // acc = acc * m + c converges to c / (1 - m): no overflow, no denormals.
  const __m512 m = _mm512_set1_ps(g_m), c = _mm512_set1_ps(g_c);
  __m512 acc[kAcc];
  for (int k = 0; k < kAcc; ++k) acc[k] = _mm512_set1_ps(0.5f + 0.01f * static_cast<float>(k));
  for (uint64_t i = 0; i < iterations; ++i) {
    for (int k = 0; k < kAcc; ++k) acc[k] = _mm512_fmadd_ps(acc[k], m, c);
  }
  __m512 s = acc[0];
  for (int k = 1; k < kAcc; ++k) s = _mm512_add_ps(s, acc[k]);
  alignas(64) float v[16];
  _mm512_store_ps(v, s);
  double out = 0;
  for (float x : v) out += x;
  return out;
}

}  // namespace

// vpdpbusd: 16 lanes x 4 multiply-adds = 64 MACs = 128 int8 ops.
extern const PeakLoop kPeakInt8Avx512 = {"avx512", "vpdpbusd zmm", 128.0 * kAcc, int8_run};
// vfmadd: 16 lanes x 2 FLOPs.
extern const PeakLoop kPeakFp32Avx512 = {"avx512", "vfmadd231ps zmm", 32.0 * kAcc, fp32_run};

}  // namespace nomoat::kernels
#endif
