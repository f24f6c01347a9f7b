// The AVX-512 VNNI packed kernels (packed_matmul_avx512.inc) with GFNI
// (Ice Lake, Sapphire Rapids, Zen 4 and later): compiled with AVX-512 and
// GFNI flags for this file only, where the compiler knows GFNI; run only
// where CPUID reports it (packed_matmul.cpp).
#include "kernels/packed_matmul.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512VNNI__) && \
    defined(__FMA__) && defined(__F16C__) && defined(__GFNI__)
#define NOMOAT_PACKED_GFNI 1
#include "kernels/packed_matmul_avx512.inc"

namespace nomoat::kernels {
const PackedKernels kAvx512GfniPackedKernels = kPackedTable;
}

#else  // built without GFNI flags: no kernels

namespace nomoat::kernels {
const PackedKernels kAvx512GfniPackedKernels = {};
}

#endif
