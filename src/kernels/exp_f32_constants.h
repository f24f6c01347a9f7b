// The constants of exp_f32 (exp_f32.h), shared by its scalar and SIMD
// copies. Constants only (internal linkage): safe to include from the ISA
// translation units.
#pragma once

namespace nomoat::kernels {

constexpr double kExpLo = -150.0;  // exp below rounds to float 0
constexpr double kExpHi = 100.0;   // exp above rounds to float inf
constexpr double kExpLog2e = 0x1.71547652b82fep0;
constexpr double kExpShifter = 0x1.8p52;  // adding it rounds to an integer
constexpr double kExpLn2Hi = 0x1.62e42fefa39efp-1;  // ln 2 = hi + lo
constexpr double kExpLn2Lo = 0x1.abc9e3b39803fp-56;
// 1/k! for k = 13 down to 0, for Horner's scheme.
constexpr int kExpPolyTerms = 14;
constexpr double kExpPoly[kExpPolyTerms] = {
    0x1.6124613a86d09p-33, 0x1.1eed8eff8d898p-29, 0x1.ae64567f544e4p-26, 0x1.27e4fb7789f5cp-22,
    0x1.71de3a556c734p-19, 0x1.a01a01a01a01ap-16, 0x1.a01a01a01a01ap-13, 0x1.6c16c16c16c17p-10,
    0x1.1111111111111p-7, 0x1.5555555555555p-5, 0x1.5555555555555p-3, 0x1.0000000000000p-1,
    0x1.0000000000000p+0, 0x1.0000000000000p+0};

}  // namespace nomoat::kernels
