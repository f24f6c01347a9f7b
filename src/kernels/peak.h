// Compute peaks of this machine for `nomoat bench --roofline`: how many int8
// ops, bf16 FLOPs and fp32 FLOPs per second the SIMD units sustain when the
// loop does nothing else, on N threads of the persistent pool at once. They
// are the "roof" that prompt processing (compute-bound) is compared with.
//
// Each loop is the instruction the fast kernels use for that type, with
// enough independent accumulators to hide its latency:
//   int8: AVX-512 VNNI vpdpbusd zmm, or AVX2 vpmaddubsw + vpmaddwd + vpaddd;
//         2 ops per multiply-add (the usual TOPS convention);
//   bf16: vdpbf16ps zmm, only when CPUID reports avx512_bf16;
//   fp32: vfmadd231ps zmm / ymm, 2 FLOPs per FMA;
//   amx_int8: AMX tdpbssd tiles, where kernels::amx_enabled() (the prompt
//         kernels then run on AMX; decode stays on vpdpbusd).
// Without AVX2 (or on AArch64, for now) int8 and fp32 fall back to plain C++
// loops, flagged as lower bounds.
#pragma once

#include <string>
#include <vector>

#include "kernels/fast_matmul.h"

namespace nomoat::kernels {

enum class PeakKind { Int8, Bf16, Fp32, AmxInt8 };

// "int8", "bf16", "fp32", "amx_int8".
const char* peak_kind_name(PeakKind kind);

struct PeakResult {
  PeakKind kind = PeakKind::Fp32;
  bool available = false;       // false: this CPU (or the chosen ISA) has no such loop
  std::string why_unavailable;  // when !available
  bool lower_bound = false;     // a plain C++ loop stood in for the SIMD one
  std::string isa;              // "avx512", "avx2", "avx512_bf16", "scalar"
  std::string instruction;      // "vpdpbusd zmm", ...
  double median = 0, best = 0;  // ops/s (int8) or FLOP/s (bf16, fp32) over all threads
  std::vector<double> samples;  // one per repetition
  int threads = 0;              // threads that ran the loop
  int reps = 0;
  double seconds_per_rep = 0;
};

// Whether the CPU has AVX-512 BF16 (vdpbf16ps) and the OS saves zmm state.
bool cpu_has_avx512_bf16();

// Runs the loop on `threads` threads (capped at the pool's size) for about
// `seconds_per_rep` seconds, once unmeasured (clocks and power settle) and
// then `reps` times; median and best of the repetitions. `isa` picks the
// loop (default: the ISA the matmul kernels use, which NOMOAT_ISA can force).
// Throws Error on non-positive threads, reps or duration.
PeakResult measure_peak(PeakKind kind, int threads, int reps, double seconds_per_rep, Isa isa = active_isa());

}  // namespace nomoat::kernels
