// AArch64 NEON kernels with the dot-product extension (SDOT), for ARMv8.2+
// CPUs that have it (Cortex-A55/A76 and later, Apple, Neoverse). Compiled
// with -march=armv8.2-a+dotprod for this file only; fast_matmul.cpp picks
// this table when getauxval(AT_HWCAP) reports ASIMDDP, so baseline ARMv8
// (Cortex-A53/A72: Raspberry Pi 3/4) never executes it. Same kernels as
// fast_matmul_neon.cpp (fast_matmul_neon.inc); same include rules.
#include "kernels/fast_matmul.h"
#include "tensor/blocks.h"

#if defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD)
#include <arm_neon.h>

namespace nomoat::kernels {
namespace {

inline int32x4_t dot16(int32x4_t acc, int8x16_t w, int8x16_t a) { return vdotq_s32(acc, w, a); }

#include "kernels/fast_matmul_neon.inc"

}  // namespace

const IsaKernels kNeonDotKernels = {
#include "kernels/fast_matmul_table.inc"
};

}  // namespace nomoat::kernels

#else  // not AArch64, or built without +dotprod: no kernels

namespace nomoat::kernels {
const IsaKernels kNeonDotKernels = {};
}

#endif
