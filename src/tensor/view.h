// A read-only 2-D view of encoded tensor data: `rows` rows of `cols`
// elements each, in type `type`, rows `row_bytes` apart, optionally with a
// packed copy (tensor/packed.h).
#pragma once

#include <cstddef>
#include <cstdint>

#include "tensor/dtype.h"

namespace nomoat {

struct PackedMatrix;  // tensor/packed.h

struct MatrixView {
  const uint8_t* data = nullptr;
  DType type = DType::F32;
  int64_t cols = 0;  // elements per row (GGUF dims[0])
  int64_t rows = 0;  // GGUF dims[1] * dims[2] * ...
  size_t row_bytes = 0;
  // The same matrix in a kernel-friendly layout made at load (or null);
  // kernels use it when they can, the view above stays valid.
  const PackedMatrix* packed = nullptr;

  bool empty() const { return data == nullptr; }
  const uint8_t* row(int64_t r) const { return data + static_cast<size_t>(r) * row_bytes; }
};

}  // namespace nomoat
