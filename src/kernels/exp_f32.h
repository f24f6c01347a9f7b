// exp for floats, deterministic across ISAs: the attention softmax calls it
// once per (query, key), and its SIMD copies (attention_avx512.cpp,
// attention_avx2.cpp) perform the same double operations in the same order,
// every multiply-add an explicit fused one, so every path gives the same
// bits on any compiler flags.
//
// Method: in double, x clamped to [-150, 100] (results there round to 0 and
// inf in float anyway), n = nearest integer of x / ln 2 (by the 1.5 * 2^52
// shifter), r = x - n ln 2 with ln 2 in two parts (|r| <= 0.347), exp(r) by
// its Taylor series to degree 13 (truncation < 2^-56 relative), times 2^n
// (exact), then one rounding to float. The double result is within about
// 2^-51 of exp(x), so the float is the correctly rounded one except when
// exp(x) lies that close to a midpoint between floats (glibc's expf differs
// from it only where glibc itself is off by its < 0.502 ulp).
// NaN gives x + x; -inf gives 0; +inf gives inf.
#pragma once

namespace nomoat::kernels {

float exp_f32(float x);

}  // namespace nomoat::kernels
