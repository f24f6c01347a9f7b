#include "kernels/dequantize.h"

#include "kernels/fast_matmul.h"
#include "tensor/dtype.h"

namespace nomoat::kernels {

DequantizeRowFn fast_dequantizer(DType type) {
  const DequantizeRowFn reference = dtype_traits(type).dequantize;
  if (active_isa() != Isa::Avx512) return reference;
  const FastDequantizers& f = kAvx512Dequantizers;
  DequantizeRowFn fast = nullptr;
  switch (type) {
    case DType::Q4_1: fast = f.q4_1; break;
    case DType::Q5_0: fast = f.q5_0; break;
    case DType::Q5_1: fast = f.q5_1; break;
    case DType::Q2_K: fast = f.q2_k; break;
    case DType::Q3_K: fast = f.q3_k; break;
    case DType::Q5_K: fast = f.q5_k; break;
    default: break;
  }
  return fast ? fast : reference;
}

}  // namespace nomoat::kernels
