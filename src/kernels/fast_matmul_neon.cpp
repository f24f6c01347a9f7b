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
    .quantize_activations = &quantize_q8_blocks,
    .q8_0 = &matmul_q8_0,
    .q4_0 = &matmul_q4_0,
    .q4_1 = &matmul_q4_1,
    .q5_0 = &matmul_q5_0,
    .q5_1 = &matmul_q5_1,
    .q2_k = &matmul_q2_k,
    .q3_k = &matmul_q3_k,
    .q4_k = &matmul_q4_k,
    .q5_k = &matmul_q5_k,
    .q6_k = &matmul_q6_k,
    .f16 = &matmul_f16,
    .bf16 = &matmul_bf16,
    .f32 = &matmul_f32,
};

}  // namespace nomoat::kernels

#else  // not AArch64: no kernels

namespace nomoat::kernels {
const IsaKernels kNeonKernels = {};
}

#endif
