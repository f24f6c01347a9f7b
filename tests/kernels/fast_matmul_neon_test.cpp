// AArch64 specifics of the fast matmul (kernels/fast_matmul.h): which NEON
// table runs (SDOT or plain, by HWCAP). The kernels themselves are tested
// for Isa::Neon with all others in fast_matmul_test.cpp. Skipped off AArch64.
#include <gtest/gtest.h>

#include <cstdio>

#include "kernels/fast_matmul.h"

namespace nomoat::kernels {
namespace {

TEST(FastMatmulNeon, DispatchFollowsDotProductSupport) {
  if (!isa_supported(Isa::Neon)) GTEST_SKIP() << "not AArch64";
  // make test-arm greps this line to show which path its qemu CPU ran.
  std::printf("NEON path: %s\n", neon_has_dotprod() ? "dotprod (SDOT)" : "plain (vmull_s8 + vpadalq_s16)");
  EXPECT_EQ(isa_kernels(Isa::Neon), neon_has_dotprod() ? &kNeonDotKernels : &kNeonKernels);
  // Both tables are built on AArch64, whichever this CPU runs.
  EXPECT_NE(kNeonKernels.q8_0, nullptr);
  EXPECT_NE(kNeonDotKernels.q8_0, nullptr);
}

}  // namespace
}  // namespace nomoat::kernels
