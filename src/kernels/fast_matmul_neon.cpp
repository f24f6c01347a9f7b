// AArch64 NEON kernels (design: fast_matmul.h). Not written yet: the table
// is empty, so every type runs the scalar reference on ARM.
#include "kernels/fast_matmul.h"

namespace nomoat::kernels {
const IsaKernels kNeonKernels = {};
}
