// Gated-linear-unit activations over whole rows: g[i] = act(g[i]) * u[i],
// with SiLU or tanh-GELU. The scalar reference applies kernels::silu /
// kernels::gelu_tanh (std::exp, std::tanh) element by element; the AVX-512
// path evaluates exp with a degree-6 polynomial on a range-reduced argument
// and vscalefps (within a few float ulps of std::exp; the tests bound it),
// because scalar expf was ~8% of a 512-token prompt on a 1B model.
#pragma once

#include <cstdint>

#include "kernels/fast_matmul.h"

namespace nomoat::kernels {

enum class GluActivation { kSilu, kGeluTanh };

// g[i] = act(g[i]) * u[i] for i < n, on up to `threads` pool threads.
void glu(GluActivation act, float* g, const float* u, int64_t n, int threads = 1);
// The same with an explicit path (tests); Scalar is the reference.
void glu_isa(Isa isa, GluActivation act, float* g, const float* u, int64_t n);

// ISA entry points (plain functions: see fast_matmul.h on ODR).
void glu_silu_avx512(float* g, const float* u, int64_t n);
void glu_gelu_avx512(float* g, const float* u, int64_t n);

}  // namespace nomoat::kernels
