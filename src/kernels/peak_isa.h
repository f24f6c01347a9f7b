// The per-ISA peak loops (peak_avx2.cpp, peak_avx512.cpp,
// peak_avx512bf16.cpp) as plain data, for peak.cpp. Like fast_matmul.h's
// IsaKernels this header defines no inline function or template: the ISA
// translation units include it, and an inline definition compiled there with
// AVX flags could be the copy the linker keeps for the whole program.
#pragma once

#include <cstdint>

namespace nomoat::kernels {

struct PeakLoop {
  const char* isa;           // "avx512", "avx2", "avx512_bf16"
  const char* instruction;   // the instruction the loop is made of, e.g. "vpdpbusd zmm"
  double ops_per_iteration;  // int8 ops (2 per multiply-add) or FLOPs per call of one iteration
  // Runs `iterations` iterations; returns a value computed from the
  // accumulators so the compiler cannot drop the loop.
  double (*run)(uint64_t iterations);
};

#if defined(__x86_64__)
extern const PeakLoop kPeakInt8Avx2;
extern const PeakLoop kPeakFp32Avx2;
extern const PeakLoop kPeakInt8Avx512;
extern const PeakLoop kPeakFp32Avx512;
extern const PeakLoop kPeakBf16Avx512;
extern const PeakLoop kPeakInt8Amx;  // run is null where the compiler has no AMX
#endif

}  // namespace nomoat::kernels
