// Fast dequantizers: the same floats as the tensor layer's reference
// dequantizers (tensor/quant/), for the types the AMX route takes in their
// GGUF layout (packed_matmul_amx.cpp), where the scalar loops took as much
// time as the tile multiplies.
#pragma once

#include "tensor/dtype.h"

namespace nomoat::kernels {

// AVX-512 versions where built in (null for a type without one).
struct FastDequantizers {
  DequantizeFn q4_1 = nullptr;
  DequantizeFn q5_0 = nullptr;
  DequantizeFn q5_1 = nullptr;
  DequantizeFn q2_k = nullptr;
  DequantizeFn q3_k = nullptr;
  DequantizeFn q5_k = nullptr;
};
extern const FastDequantizers kAvx512Dequantizers;  // dequantize_avx512.cpp

// The AVX-512 dequantizer of `type` where the CPU has AVX-512 (and
// NOMOAT_ISA does not force a narrower path), else the reference one; null
// where neither exists.
DequantizeFn fast_dequantizer(DType type);

}  // namespace nomoat::kernels
