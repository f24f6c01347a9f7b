// Tensor element types as numbered in GGUF files, and what each block holds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nomoat {

// GGUF/ggml type ids. Gaps are ids that were retired from the format.
enum class DType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
  TQ1_0 = 34,
  TQ2_0 = 35,
  MXFP4 = 39,
};

// Converts `n` elements (a multiple of block_size) between blocks and floats.
using DequantizeFn = void (*)(const void* blocks, float* out, int64_t n);
using QuantizeFn = void (*)(const float* in, void* blocks, int64_t n);

struct DTypeTraits {
  DType type;
  const char* name;       // as GGUF tools print it, e.g. "Q4_K"
  int64_t block_size;     // elements per block
  size_t block_bytes;     // bytes per block
  bool is_quantized;      // block-scaled integer format
  DequantizeFn dequantize;  // null: layout known, no conversion implemented
  QuantizeFn quantize;      // null: cannot be produced by nomoat
};

// Traits for a raw type id read from a file; nullptr when the id is unknown.
const DTypeTraits* find_dtype(uint32_t raw_id);
// Traits for a known type (always valid).
const DTypeTraits& dtype_traits(DType t);
// "Q4_K", or "unknown type 42" for ids that no known format uses.
std::string dtype_name(uint32_t raw_id);
inline std::string dtype_name(DType t) { return dtype_name(static_cast<uint32_t>(t)); }
// Case-insensitive lookup by name ("q4_k", "F16", "bf16").
std::optional<DType> dtype_from_name(std::string_view name);
// Bytes taken by one row of `n` elements; throws Error if n is not a whole number of blocks.
size_t dtype_row_bytes(DType t, int64_t n);
// Every type nomoat can both quantize to and dequantize from.
const DType* convertible_dtypes(size_t* count);

}  // namespace nomoat
