// Scalar exp_f32 (method: exp_f32.h). Built with the baseline flags; each
// step is the one the SIMD copies perform (std::fma where they fuse).
#include "kernels/exp_f32.h"

#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/exp_f32_constants.h"

namespace nomoat::kernels {

float exp_f32(float xf) {
  if (xf != xf) return xf + xf;
  double x = static_cast<double>(xf);
  x = x < kExpLo ? kExpLo : x;
  x = x > kExpHi ? kExpHi : x;
  const double shifted = std::fma(x, kExpLog2e, kExpShifter);  // 1.5 * 2^52 + n
  const double n = shifted - kExpShifter;
  double r = std::fma(-n, kExpLn2Hi, x);
  r = std::fma(-n, kExpLn2Lo, r);
  double p = kExpPoly[0];
  for (int i = 1; i < kExpPolyTerms; ++i) p = std::fma(p, r, kExpPoly[i]);
  uint64_t bits = 0;
  std::memcpy(&bits, &shifted, sizeof bits);
  bits = (bits + 1023) << 52;  // the low bits of `shifted` hold n
  double two_n = 0;
  std::memcpy(&two_n, &bits, sizeof two_n);
  return static_cast<float>(p * two_n);
}

}  // namespace nomoat::kernels
