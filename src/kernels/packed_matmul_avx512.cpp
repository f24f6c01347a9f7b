// The AVX-512 VNNI packed kernels (packed_matmul_avx512.inc) without GFNI,
// for CPUs that lack it (Cascade Lake); compiled with AVX-512 flags for this
// file only.
#include "kernels/packed_matmul.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512VNNI__) && \
    defined(__FMA__) && defined(__F16C__)
#define NOMOAT_PACKED_GFNI 0
#include "kernels/packed_matmul_avx512.inc"

namespace nomoat::kernels {
const PackedKernels kAvx512PackedKernels = kPackedTable;
}

#else  // built without AVX-512 flags (non-x86 target): no kernels

namespace nomoat::kernels {
const PackedKernels kAvx512PackedKernels = {};
}

#endif
