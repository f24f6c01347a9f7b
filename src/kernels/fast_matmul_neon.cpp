// AArch64 NEON kernels for every ARMv8 CPU (design: fast_matmul.h). Int8
// dots by vmull_s8 + vpadalq_s16; CPUs with the dot-product extension run
// fast_matmul_neon_dot.cpp instead (chosen at run time in fast_matmul.cpp).
// The kernels themselves are in fast_matmul_neon.inc, shared by both.
// Includes nothing that defines inline functions or templates outside this
// file (see fast_matmul.h).
#include "kernels/fast_matmul.h"
#include "tensor/blocks.h"

#if defined(__aarch64__)
#include <arm_neon.h>

namespace nomoat::kernels {
namespace {

// Two products of int8 stay within int16 (2 * 128 * 127 = 32512), so one
// widening multiply and one multiply-accumulate fill an int16 lane before
// the pairwise add into int32.
inline int32x4_t dot16(int32x4_t acc, int8x16_t w, int8x16_t a) {
  const int16x8_t p = vmlal_high_s8(vmull_s8(vget_low_s8(w), vget_low_s8(a)), w, a);
  return vpadalq_s16(acc, p);
}

#include "kernels/fast_matmul_neon.inc"

}  // namespace

const IsaKernels kNeonKernels = {
#include "kernels/fast_matmul_table.inc"
};

}  // namespace nomoat::kernels

#else  // not AArch64: no kernels

namespace nomoat::kernels {
const IsaKernels kNeonKernels = {};
}

#endif
