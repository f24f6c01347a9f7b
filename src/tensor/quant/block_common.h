// Small helpers shared by every block-format converter in this folder.
#pragma once

#include <cmath>
#include <cstdint>

#include "base/error.h"

namespace nomoat::quant {

// Number of blocks in n values; n must be a whole number of blocks.
inline int64_t block_count(int64_t n, int64_t block_size, const char* type_name) {
  if (n < 0 || n % block_size != 0) {
    fail(type_name, " conversion of ", n, " values: not a multiple of the block size ", block_size);
  }
  return n / block_size;
}

// 1 / d, or 0 when d is 0 or so small that 1 / d overflows: such a block
// stores d = 0 in fp16 anyway, and every level then lands on the zero point.
inline float safe_inverse(float d) {
  const float inv = d != 0 ? 1.0f / d : 0.0f;
  return std::isfinite(inv) ? inv : 0.0f;
}

// The 32 high bits of Q5_0/Q5_1 blocks are a little-endian uint32.
inline uint32_t load_le32(const uint8_t* p) {
  return p[0] | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}

inline void store_le32(uint32_t v, uint8_t* p) {
  for (int k = 0; k < 4; ++k) p[k] = static_cast<uint8_t>(v >> (8 * k));
}

// The value of largest magnitude, sign kept (the first on ties): formats map
// it onto their most negative level, which has no positive twin.
inline float signed_peak(const float* x, int n) {
  float peak = 0, peak_abs = 0;
  for (int i = 0; i < n; ++i) {
    const float a = x[i] < 0 ? -x[i] : x[i];
    if (a > peak_abs) {
      peak_abs = a;
      peak = x[i];
    }
  }
  return peak;
}

}  // namespace nomoat::quant
