// AVX-512 BF16 peak loop (vdpbf16ps), built with -mavx512bf16 on this file
// alone (see CMakeLists.txt); run only when CPUID reports avx512_bf16.
// Only peak_isa.h and <immintrin.h> are included (see peak_isa.h for why).
#if defined(__x86_64__)
#include <immintrin.h>

#include "kernels/peak_isa.h"

namespace nomoat::kernels {
namespace {

constexpr int kAcc = 16;

// bf16 1.0 in both halves of every 32-bit lane.
volatile int g_one = 0x3f803f80;

// The whole loop is one asm block on zmm16-31 (see peak_avx512.cpp: the
// intrinsic gets register copies added to the loop by GCC 12).
double bf16_run(uint64_t iterations) {
  if (iterations == 0) return 0;
  const __m512i a = _mm512_set1_epi32(g_one), b = _mm512_set1_epi32(g_one);
  const __m512 zero = _mm512_setzero_ps();
  // The sums grow until adding 2 no longer changes them (2^25); a float
  // that stops changing costs the same as one that does.
  __m512 sum;
  uint64_t n = iterations;
  __asm__ volatile(
      "vmovaps %[zero], %%zmm16\n\t"
      "vmovaps %[zero], %%zmm17\n\t"
      "vmovaps %[zero], %%zmm18\n\t"
      "vmovaps %[zero], %%zmm19\n\t"
      "vmovaps %[zero], %%zmm20\n\t"
      "vmovaps %[zero], %%zmm21\n\t"
      "vmovaps %[zero], %%zmm22\n\t"
      "vmovaps %[zero], %%zmm23\n\t"
      "vmovaps %[zero], %%zmm24\n\t"
      "vmovaps %[zero], %%zmm25\n\t"
      "vmovaps %[zero], %%zmm26\n\t"
      "vmovaps %[zero], %%zmm27\n\t"
      "vmovaps %[zero], %%zmm28\n\t"
      "vmovaps %[zero], %%zmm29\n\t"
      "vmovaps %[zero], %%zmm30\n\t"
      "vmovaps %[zero], %%zmm31\n\t"
      "1:\n\t"
      "vdpbf16ps %[b], %[a], %%zmm16\n\t"
      "vdpbf16ps %[b], %[a], %%zmm17\n\t"
      "vdpbf16ps %[b], %[a], %%zmm18\n\t"
      "vdpbf16ps %[b], %[a], %%zmm19\n\t"
      "vdpbf16ps %[b], %[a], %%zmm20\n\t"
      "vdpbf16ps %[b], %[a], %%zmm21\n\t"
      "vdpbf16ps %[b], %[a], %%zmm22\n\t"
      "vdpbf16ps %[b], %[a], %%zmm23\n\t"
      "vdpbf16ps %[b], %[a], %%zmm24\n\t"
      "vdpbf16ps %[b], %[a], %%zmm25\n\t"
      "vdpbf16ps %[b], %[a], %%zmm26\n\t"
      "vdpbf16ps %[b], %[a], %%zmm27\n\t"
      "vdpbf16ps %[b], %[a], %%zmm28\n\t"
      "vdpbf16ps %[b], %[a], %%zmm29\n\t"
      "vdpbf16ps %[b], %[a], %%zmm30\n\t"
      "vdpbf16ps %[b], %[a], %%zmm31\n\t"
      "dec %[n]\n\t"
      "jnz 1b\n\t"
      "vaddps %%zmm24, %%zmm16, %%zmm16\n\t"
      "vaddps %%zmm25, %%zmm17, %%zmm17\n\t"
      "vaddps %%zmm26, %%zmm18, %%zmm18\n\t"
      "vaddps %%zmm27, %%zmm19, %%zmm19\n\t"
      "vaddps %%zmm28, %%zmm20, %%zmm20\n\t"
      "vaddps %%zmm29, %%zmm21, %%zmm21\n\t"
      "vaddps %%zmm30, %%zmm22, %%zmm22\n\t"
      "vaddps %%zmm31, %%zmm23, %%zmm23\n\t"
      "vaddps %%zmm20, %%zmm16, %%zmm16\n\t"
      "vaddps %%zmm21, %%zmm17, %%zmm17\n\t"
      "vaddps %%zmm22, %%zmm18, %%zmm18\n\t"
      "vaddps %%zmm23, %%zmm19, %%zmm19\n\t"
      "vaddps %%zmm18, %%zmm16, %%zmm16\n\t"
      "vaddps %%zmm19, %%zmm17, %%zmm17\n\t"
      "vaddps %%zmm17, %%zmm16, %%zmm16\n\t"
      "vmovaps %%zmm16, %[out]"
      : [out] "=v"(sum), [n] "+r"(n)
      : [a] "v"(a), [b] "v"(b), [zero] "v"(zero)
      : "cc", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24", "xmm25", "xmm26",
        "xmm27", "xmm28", "xmm29", "xmm30", "xmm31");
  alignas(64) float v[16];
  _mm512_store_ps(v, sum);
  double out = 0;
  for (float x : v) out += x;
  return out;
}

}  // namespace

// vdpbf16ps: 16 lanes x 2 pairs = 32 multiply-adds = 64 FLOPs.
extern const PeakLoop kPeakBf16Avx512 = {"avx512_bf16", "vdpbf16ps zmm", 64.0 * kAcc, bf16_run};

}  // namespace nomoat::kernels
#endif
