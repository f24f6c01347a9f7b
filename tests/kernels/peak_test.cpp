// The compute-peak loops of `bench --roofline`: every loop this machine
// can run returns a positive, finite rate after a tiny duration.
#include "kernels/peak.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

#include "base/error.h"
#include "kernels/amx.h"

namespace nomoat::kernels {
namespace {

TEST(Peak, EveryLoopGivesAPositiveRateQuickly) {
  for (Isa isa : kAllIsas) {
    if (!isa_supported(isa)) continue;
    for (PeakKind kind : {PeakKind::Int8, PeakKind::Bf16, PeakKind::Fp32}) {
      SCOPED_TRACE(std::string(isa_name(isa)) + " " + peak_kind_name(kind));
      const auto t0 = std::chrono::steady_clock::now();
      const PeakResult r = measure_peak(kind, 2, 3, 0.002, isa);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      EXPECT_LT(s, 2.0);
      EXPECT_EQ(r.reps, 3);
      EXPECT_GE(r.threads, 1);
      EXPECT_LE(r.threads, 2);
      if (kind == PeakKind::Bf16 && !(isa == Isa::Avx512 && cpu_has_avx512_bf16())) {
        EXPECT_FALSE(r.available);
        EXPECT_FALSE(r.why_unavailable.empty());
        EXPECT_TRUE(r.samples.empty());
        continue;
      }
      ASSERT_TRUE(r.available) << r.why_unavailable;
      EXPECT_FALSE(r.isa.empty());
      EXPECT_FALSE(r.instruction.empty());
      // Only x86 has SIMD peak loops so far; elsewhere plain loops stand in.
#if defined(__x86_64__)
      EXPECT_EQ(r.lower_bound, isa == Isa::Scalar);
#else
      EXPECT_TRUE(r.lower_bound);
#endif
      ASSERT_EQ(r.samples.size(), 3u);
      for (double v : r.samples) {
        EXPECT_TRUE(std::isfinite(v));
        EXPECT_GT(v, 1e7);  // any core does more than 10 M ops/s
      }
      EXPECT_GE(r.best, r.median);
      EXPECT_GT(r.median, 0);
    }
  }
}

// The AMX loop runs exactly where the prompt kernels would use AMX, and
// then beats vpdpbusd (8 times on the dev VM's Xeon); elsewhere it says why not.
TEST(Peak, AmxLoopWhereTheKernelsUseAmx) {
  const PeakResult on = measure_peak(PeakKind::AmxInt8, 1, 3, 0.01, Isa::Avx512);
  if (!amx_enabled() || !isa_supported(Isa::Avx512)) {
    EXPECT_FALSE(on.available);
    EXPECT_FALSE(on.why_unavailable.empty());
    GTEST_SKIP() << "no AMX on this machine: " << on.why_unavailable;
  }
  ASSERT_TRUE(on.available) << on.why_unavailable;
  EXPECT_EQ(on.isa, "amx");
  EXPECT_GT(on.median, 2 * measure_peak(PeakKind::Int8, 1, 3, 0.01, Isa::Avx512).median);
  struct AmxOff {
    AmxOff() { set_amx_override(false); }
    ~AmxOff() { set_amx_override(std::nullopt); }
  };
  {
    const AmxOff off_scope;
    EXPECT_FALSE(measure_peak(PeakKind::AmxInt8, 1, 1, 0.01, Isa::Avx512).available);
  }
  EXPECT_FALSE(measure_peak(PeakKind::AmxInt8, 1, 1, 0.01, Isa::Avx2).available);
}

TEST(Peak, SimdBeatsThePlainLoop) {
  // The SIMD int8 loop must be far above the scalar stand-in; a loop whose
  // body the compiler had hoisted or spilled would not be.
  if (!isa_supported(Isa::Avx2)) GTEST_SKIP() << "no AVX2";
  const double simd = measure_peak(PeakKind::Int8, 1, 3, 0.02).median;
  const double plain = measure_peak(PeakKind::Int8, 1, 3, 0.02, Isa::Scalar).median;
  EXPECT_GT(simd, 2 * plain);
}

TEST(Peak, BadArgumentsAreErrors) {
  EXPECT_THROW(measure_peak(PeakKind::Fp32, 0, 1, 0.01), Error);
  EXPECT_THROW(measure_peak(PeakKind::Fp32, 1, 0, 0.01), Error);
  EXPECT_THROW(measure_peak(PeakKind::Fp32, 1, 1, 0), Error);
  EXPECT_STREQ(peak_kind_name(PeakKind::Int8), "int8");
  EXPECT_STREQ(peak_kind_name(PeakKind::Bf16), "bf16");
  EXPECT_STREQ(peak_kind_name(PeakKind::Fp32), "fp32");
}

}  // namespace
}  // namespace nomoat::kernels
