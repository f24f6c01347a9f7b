// AVX2 peak loops (built with -mavx2 -mfma -mf16c, see CMakeLists.txt):
// int8 as vpmaddubsw + vpmaddwd + vpaddd (the AVX2 int8 dot product the
// matmul kernels use) and fp32 FMA on ymm registers. Only peak_isa.h and
// <immintrin.h> are included (see peak_isa.h for why).
#if defined(__x86_64__)
#include <immintrin.h>

#include "kernels/peak_isa.h"

namespace nomoat::kernels {
namespace {

// 16 ymm registers: accumulators plus the constant operands must fit, or
// the loop spills to memory and measures loads instead.
constexpr int kAccInt8 = 8;
constexpr int kAccFp32 = 12;

volatile int g_a = 0x01010101, g_b = 0x02020202;
volatile float g_m = 0.9999f, g_c = 1e-4f;

// One asm block: with intrinsics the compiler sees that the products never
// change and hoists them out of the loop, leaving only the adds. Four
// temporaries rotate (register renaming makes their reuse free).
#define NOMOAT_DOT(i, t)                               \
  "vpmaddubsw %[b], %[a], %[" #t "]\n\t"              \
  "vpmaddwd %[ones], %[" #t "], %[" #t "]\n\t"         \
  "vpaddd %[" #t "], %[c" #i "], %[c" #i "]\n\t"
double int8_run(uint64_t iterations) {
  if (iterations == 0) return 0;
  const __m256i a = _mm256_set1_epi32(g_a), b = _mm256_set1_epi32(g_b);
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i c0 = a, c1 = a, c2 = a, c3 = a, c4 = b, c5 = b, c6 = b, c7 = b;
  __m256i t0, t1, t2, t3;
  uint64_t n = iterations;
  __asm__ volatile("1:\n\t" NOMOAT_DOT(0, t0) NOMOAT_DOT(1, t1) NOMOAT_DOT(2, t2) NOMOAT_DOT(3, t3) NOMOAT_DOT(4, t0)
                   NOMOAT_DOT(5, t1) NOMOAT_DOT(6, t2) NOMOAT_DOT(7, t3) "dec %[n]\n\tjnz 1b"
                   : [c0] "+x"(c0), [c1] "+x"(c1), [c2] "+x"(c2), [c3] "+x"(c3), [c4] "+x"(c4), [c5] "+x"(c5),
                     [c6] "+x"(c6), [c7] "+x"(c7), [t0] "=&x"(t0), [t1] "=&x"(t1), [t2] "=&x"(t2), [t3] "=&x"(t3),
                     [n] "+r"(n)
                   : [a] "x"(a), [b] "x"(b), [ones] "x"(ones)
                   : "cc");
  const __m256i acc[kAccInt8] = {c0, c1, c2, c3, c4, c5, c6, c7};
  __m256i s = acc[0];
  for (int k = 1; k < kAccInt8; ++k) s = _mm256_add_epi32(s, acc[k]);
  alignas(32) int v[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(v), s);
  double out = 0;
  for (int x : v) out += x;
  return out;
}
#undef NOMOAT_DOT

double fp32_run(uint64_t iterations) {
  const __m256 m = _mm256_set1_ps(g_m), c = _mm256_set1_ps(g_c);
  __m256 acc[kAccFp32];
  for (int k = 0; k < kAccFp32; ++k) acc[k] = _mm256_set1_ps(0.5f + 0.01f * static_cast<float>(k));
  for (uint64_t i = 0; i < iterations; ++i) {
    for (int k = 0; k < kAccFp32; ++k) acc[k] = _mm256_fmadd_ps(acc[k], m, c);
  }
  __m256 s = acc[0];
  for (int k = 1; k < kAccFp32; ++k) s = _mm256_add_ps(s, acc[k]);
  alignas(32) float v[8];
  _mm256_store_ps(v, s);
  double out = 0;
  for (float x : v) out += x;
  return out;
}

}  // namespace

// One vpmaddubsw + vpmaddwd + vpaddd group: 32 u8 x s8 multiply-adds = 64 ops.
extern const PeakLoop kPeakInt8Avx2 = {"avx2", "vpmaddubsw+vpmaddwd+vpaddd ymm", 64.0 * kAccInt8, int8_run};
// vfmadd: 8 lanes x 2 FLOPs.
extern const PeakLoop kPeakFp32Avx2 = {"avx2", "vfmadd231ps ymm", 16.0 * kAccFp32, fp32_run};

}  // namespace nomoat::kernels
#endif
