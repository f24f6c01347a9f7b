// IEEE half (binary16) and bfloat16 conversions, exact round-to-nearest-even.
// Plain bit manipulation: valid on every target; fast paths live in kernels/.
#pragma once

#include <cstdint>
#include <cstring>

namespace nomoat {

inline uint32_t f32_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

inline float f32_from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline float fp16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  if (exp == 0x1f) return f32_from_bits(sign | 0x7f800000u | (mant << 13));  // inf/nan
  if (exp != 0) return f32_from_bits(sign | ((exp + 112) << 23) | (mant << 13));
  if (mant == 0) return f32_from_bits(sign);
  // Subnormal half: value = mant * 2^-24, exact in float.
  float v = static_cast<float>(mant) * 5.9604644775390625e-8f;
  return sign ? -v : v;
}

inline uint16_t f32_to_fp16(float f) {
  const uint32_t x = f32_bits(f);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  const uint32_t ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u) {  // inf or nan (keep nan quiet)
    return sign | (ax > 0x7f800000u ? 0x7e00u : 0x7c00u);
  }
  if (ax >= 0x477ff000u) return sign | 0x7c00u;  // rounds to >= 65520: overflow to inf
  if (ax < 0x38800000u) {
    // Result is subnormal (or zero): scale so the half ulp (2^-24) becomes 1.0
    // and let the FPU round to nearest even.
    const float a = f32_from_bits(ax);
    const float scaled = a * 16777216.0f;  // 2^24, exact
    // nearbyint-like rounding to even via the magic-number trick.
    const float rounded = (scaled + 8388608.0f) - 8388608.0f;
    return sign | static_cast<uint16_t>(rounded);
  }
  // Normal: rebias exponent, round mantissa to 10 bits, nearest even.
  uint32_t mant_odd = (ax >> 13) & 1u;
  uint32_t v = ax + 0x0fffu + mant_odd;  // round to nearest even
  v -= 112u << 23;                       // rebias 127 -> 15
  return sign | static_cast<uint16_t>(v >> 13);
}

inline float bf16_to_f32(uint16_t b) { return f32_from_bits(static_cast<uint32_t>(b) << 16); }

inline uint16_t f32_to_bf16(float f) {
  uint32_t x = f32_bits(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);  // quiet nan
  x += 0x7fffu + ((x >> 16) & 1u);  // nearest even
  return static_cast<uint16_t>(x >> 16);
}

}  // namespace nomoat
