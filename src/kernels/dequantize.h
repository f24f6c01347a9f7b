// Fast dequantizers: the same floats as the tensor layer's reference
// dequantizers (tensor/quant/), for the types the AMX route takes in their
// GGUF layout (packed_matmul_amx.cpp), where the scalar loops took as much
// time as the tile multiplies.
//
// Included by an ISA file, so no header with inline functions here
// (fast_matmul.h): DType is declared, not included.
#pragma once

#include <cstdint>

namespace nomoat {
enum class DType : uint32_t;  // tensor/dtype.h
}

namespace nomoat::kernels {

// tensor/dtype.h's DequantizeFn.
using DequantizeRowFn = void (*)(const void* blocks, float* out, int64_t n);

// AVX-512 versions where built in (null for a type without one). Unlike
// the reference ones they take n as a whole number of blocks unchecked
// (their caller, the AMX route, passes whole blocks).
struct FastDequantizers {
  DequantizeRowFn q4_1 = nullptr;
  DequantizeRowFn q5_0 = nullptr;
  DequantizeRowFn q5_1 = nullptr;
  DequantizeRowFn q2_k = nullptr;
  DequantizeRowFn q3_k = nullptr;
  DequantizeRowFn q5_k = nullptr;
};
extern const FastDequantizers kAvx512Dequantizers;  // dequantize_avx512.cpp

// The AVX-512 dequantizer of `type` where the CPU has AVX-512 (and
// NOMOAT_ISA does not force a narrower path), else the reference one; null
// where neither exists.
DequantizeRowFn fast_dequantizer(DType type);

}  // namespace nomoat::kernels
