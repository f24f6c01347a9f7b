// Scale searches shared by the K-quant quantizers (Q2_K ... Q6_K, Q8_K).
//
// Each search follows the reference algorithm of ggml step for step: the same
// float operations in the same order, so that for the same input nomoat writes
// the same bytes as llama.cpp's reference quantizers (llama-quantize without an
// importance matrix). Sums therefore stay sequential; do not reassociate them.
#pragma once

#include <cstdint>
#include <cstring>

namespace nomoat::quant {

// A group whose largest |x| is below this is stored as all zero.
inline constexpr float kGroupZeroEps = 1e-15f;

// Round to nearest, ties to even, exact for |v| < 2^22: adding 1.5 * 2^23
// leaves the rounded integer in the low mantissa bits. Larger, infinite or
// NaN inputs give some unspecified int (never undefined behaviour); every
// caller clamps the result to its level range, and such inputs only come from
// degenerate groups whose stored scale is 0. Not clamping here keeps the hot
// search loops as fast as llama.cpp's and identical to it.
inline int nearest_int(float v) {
  const float shifted = v + 12582912.0f;
  int32_t bits;
  std::memcpy(&bits, &shifted, sizeof bits);
  return (bits & 0x007fffff) - 0x00400000;
}

// Fits x[i] ~= scale * L[i] + offset with L in [0, nmax] and offset <= 0,
// minimising the weighted squared error (or absolute error if abs_error).
// Starts from the plain min/max fit, then tries nstep + 1 inverse scales
// (nmax + rmin + rdelta * k) / (max - offset), with offset the best one found
// so far: each gives levels, and a weighted least-squares solve gives that
// candidate's scale and offset. The best fit wins. Returns scale; stores
// -offset (>= 0) in *neg_offset and L in levels. n <= 32.
float fit_scale_offset(int n, int nmax, const float* x, const float* weights, uint8_t* levels,
                       float* neg_offset, float rmin, float rdelta, int nstep, bool abs_error);

// Fits x[i] ~= scale * L[i] with L in [-nmax, nmax - 1], weight x[i]^2 (Q6_K).
// The starting inverse scale -nmax / max maps the largest-magnitude value onto
// -nmax; 18 neighbours -(nmax + 0.1 k) / max are tried and the one with the
// best weighted least-squares fit is kept. Stores L + nmax in levels. A group
// that is all (near) zero gives scale 0 and levels 0.
float fit_signed_scale(int n, int nmax, const float* x, int8_t* levels);

// Fits x[i] ~= scale * L[i] with L in [-nmax, nmax - 1], weight x[i]^2 (Q3_K).
// Starts from -nmax / max, then moves single levels to their least-squares
// optimum while that improves the fit (at most 5 passes). Stores L + nmax in
// levels. A group that is all (near) zero gives scale 0 and levels 0.
float fit_signed_scale_refined(int n, int nmax, const float* x, int8_t* levels);

// Q4_K and Q5_K share everything but the level count: 8 groups of 32, each fit
// with fit_scale_offset (weights |x| + rms of the group), scales and mins
// rounded to 6 bits against d = max_scale / 63 and dmin = max_min / 63, then
// every value re-rounded with its group's final (stored) scale and min.
struct ScaleMinSuperblock {
  uint16_t d;           // fp16
  uint16_t dmin;        // fp16
  uint8_t scales[12];   // packed 6-bit scales and mins, see unpack_scale_min
  uint8_t levels[256];  // 0..nmax per value
};
// nmax 15 (Q4_K, rmin -1, 20 steps) or 31 (Q5_K, rmin -0.5, 15 steps).
void quantize_scale_min_superblock(const float* x, int nmax, float rmin, int nstep,
                                   ScaleMinSuperblock* out);

// unpack_scale_min (Q4_K/Q5_K) and unpack_q3_k_scale: shared as text with
// the AVX-512 dequantizers, which may include no header that defines inline
// functions (kernels/fast_matmul.h).
#include "tensor/quant/scale_unpack.inc"

}  // namespace nomoat::quant
