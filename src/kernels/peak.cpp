#include "kernels/peak.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>

#include "base/error.h"
#include "base/thread_pool.h"
#include "kernels/amx.h"
#include "kernels/peak_isa.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace nomoat::kernels {
namespace {

using Clock = std::chrono::steady_clock;

// Iterations between clock reads: tens of microseconds of work, so reading
// the clock costs nothing measurable and the overshoot past the deadline
// is small.
constexpr uint64_t kChunk = 4096;

volatile double g_sink;
volatile int g_small = 3;
volatile float g_m = 0.99999f, g_c = 0.00001f;

// Baseline-ISA stand-ins for machines without AVX2: what the compiler makes
// of independent multiply-add chains. Lower bounds, not peaks.
constexpr int kPlainChains = 32;

double int8_plain(uint64_t iterations) {
  int32_t acc[kPlainChains];
  const int8_t a = static_cast<int8_t>(g_small), b = static_cast<int8_t>(g_small + 1);
  for (int k = 0; k < kPlainChains; ++k) acc[k] = k;
  for (uint64_t i = 0; i < iterations; ++i) {
    for (int k = 0; k < kPlainChains; ++k) acc[k] += static_cast<int32_t>(a) * static_cast<int32_t>(b + k);
  }
  double s = 0;
  for (int32_t v : acc) s += v;
  return s;
}

double fp32_plain(uint64_t iterations) {
  float acc[kPlainChains];
  const float m = g_m, c = g_c;  // converges to 1: no overflow, no denormals
  for (int k = 0; k < kPlainChains; ++k) acc[k] = 0.5f + 0.01f * static_cast<float>(k);
  for (uint64_t i = 0; i < iterations; ++i) {
    for (int k = 0; k < kPlainChains; ++k) acc[k] = acc[k] * m + c;
  }
  double s = 0;
  for (float v : acc) s += v;
  return s;
}

const PeakLoop kInt8Plain = {"scalar", "plain C++ int32 multiply-add loop", 2.0 * kPlainChains, int8_plain};
const PeakLoop kFp32Plain = {"scalar", "plain C++ float multiply-add loop", 2.0 * kPlainChains, fp32_plain};

// Ops per second of one timed run of `loop` on `threads` pool threads.
double run_once(const PeakLoop& loop, int threads, double seconds) {
  std::vector<double> ops(static_cast<size_t>(threads), 0.0);
  std::vector<double> sums(static_cast<size_t>(threads), 0.0);
  const auto t0 = Clock::now();
  const auto deadline = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  // One task per thread, all running until a shared deadline: the result is
  // what `threads` cores do at the same time, not one after another.
  ThreadPool::global().run(threads, [&](int64_t t) {
    uint64_t iterations = 0;
    double s = 0;
    do {
      s += loop.run(kChunk);
      iterations += kChunk;
    } while (Clock::now() < deadline);
    ops[static_cast<size_t>(t)] = static_cast<double>(iterations) * loop.ops_per_iteration;
    sums[static_cast<size_t>(t)] = s;
  }, threads);
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  double total = 0, sink = 0;
  for (size_t i = 0; i < ops.size(); ++i) total += ops[i], sink += sums[i];
  g_sink = sink;
  return total / std::max(elapsed, 1e-9);
}

const PeakLoop* pick_loop(PeakKind kind, Isa isa, std::string* why) {
#if defined(__x86_64__)
  const bool avx512 = isa == Isa::Avx512 && isa_supported(Isa::Avx512);
  const bool avx2 = (avx512 || isa == Isa::Avx2) && isa_supported(Isa::Avx2);
  switch (kind) {
    case PeakKind::Int8: return avx512 ? &kPeakInt8Avx512 : avx2 ? &kPeakInt8Avx2 : &kInt8Plain;
    case PeakKind::Fp32: return avx512 ? &kPeakFp32Avx512 : avx2 ? &kPeakFp32Avx2 : &kFp32Plain;
    case PeakKind::AmxInt8:
      if (!avx512 || !amx_enabled() || kPeakInt8Amx.run == nullptr) {
        *why = "no AMX here (CPU, OS, compiler, NOMOAT_AMX=0 or NOMOAT_ISA)";
        return nullptr;
      }
      return &kPeakInt8Amx;
    case PeakKind::Bf16:
      if (!cpu_has_avx512_bf16()) {
        *why = "this CPU has no AVX-512 BF16 (vdpbf16ps)";
        return nullptr;
      }
      if (!avx512) {
        *why = std::string("the ") + isa_name(isa) + " path was chosen (NOMOAT_ISA)";
        return nullptr;
      }
      return &kPeakBf16Avx512;
  }
#else
  (void)isa;
  switch (kind) {
    case PeakKind::Int8: return &kInt8Plain;
    case PeakKind::Fp32: return &kFp32Plain;
    case PeakKind::Bf16: *why = "no bf16 peak loop for this architecture yet"; return nullptr;
    case PeakKind::AmxInt8: *why = "AMX is x86 only"; return nullptr;
  }
#endif
  *why = "unknown peak kind";
  return nullptr;
}

}  // namespace

const char* peak_kind_name(PeakKind kind) {
  switch (kind) {
    case PeakKind::Int8: return "int8";
    case PeakKind::Bf16: return "bf16";
    case PeakKind::Fp32: return "fp32";
    case PeakKind::AmxInt8: return "amx_int8";
  }
  return "?";
}

bool cpu_has_avx512_bf16() {
#if defined(__x86_64__)
  // CPUID leaf 7 sub-leaf 1, EAX bit 5; avx512f via the compiler's check,
  // which also asks the OS (XGETBV) whether zmm state is saved.
  if (!__builtin_cpu_supports("avx512f")) return false;
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx)) return false;
  return (eax >> 5) & 1u;
#else
  return false;
#endif
}

PeakResult measure_peak(PeakKind kind, int threads, int reps, double seconds_per_rep, Isa isa) {
  if (threads <= 0) fail("--threads must be positive, not ", threads);
  if (reps <= 0) fail("-r (repetitions) must be positive, not ", reps);
  if (!(seconds_per_rep > 0) || !std::isfinite(seconds_per_rep)) fail("peak duration must be positive, not ", seconds_per_rep);
  PeakResult r;
  r.kind = kind;
  r.reps = reps;
  r.seconds_per_rep = seconds_per_rep;
  r.threads = std::min(threads, ThreadPool::global().size());
  const PeakLoop* loop = pick_loop(kind, isa, &r.why_unavailable);
  if (!loop) return r;
  r.available = true;
  r.isa = loop->isa;
  r.instruction = loop->instruction;
  r.lower_bound = loop == &kInt8Plain || loop == &kFp32Plain;
  run_once(*loop, r.threads, seconds_per_rep);  // warm-up
  for (int i = 0; i < reps; ++i) r.samples.push_back(run_once(*loop, r.threads, seconds_per_rep));
  std::vector<double> sorted = r.samples;
  std::sort(sorted.begin(), sorted.end());
  const size_t n = sorted.size();
  r.median = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  r.best = sorted.back();
  return r;
}

}  // namespace nomoat::kernels
