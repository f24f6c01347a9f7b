#include "tensor/dtype.h"

#include <array>
#include <cctype>

#include "base/error.h"
#include "tensor/blocks.h"
#include "tensor/quant/quant.h"

namespace nomoat {
namespace {

using namespace quant;

// One row per GGUF type id nomoat knows. Types without conversions are still
// listed so that files using them can be described and validated by size.
constexpr DTypeTraits kTraits[] = {
    {DType::F32, "F32", 1, 4, false, dequantize_f32, quantize_f32},
    {DType::F16, "F16", 1, 2, false, dequantize_f16, quantize_f16},
    {DType::BF16, "BF16", 1, 2, false, dequantize_bf16, quantize_bf16},
    {DType::Q4_0, "Q4_0", kQK, sizeof(BlockQ4_0), true, dequantize_q4_0, quantize_q4_0},
    {DType::Q4_1, "Q4_1", kQK, sizeof(BlockQ4_1), true, dequantize_q4_1, quantize_q4_1},
    {DType::Q5_0, "Q5_0", kQK, sizeof(BlockQ5_0), true, dequantize_q5_0, quantize_q5_0},
    {DType::Q5_1, "Q5_1", kQK, sizeof(BlockQ5_1), true, dequantize_q5_1, quantize_q5_1},
    {DType::Q8_0, "Q8_0", kQK, sizeof(BlockQ8_0), true, dequantize_q8_0, quantize_q8_0},
    {DType::Q8_1, "Q8_1", kQK, sizeof(BlockQ8_1), true, nullptr, nullptr},
    {DType::Q2_K, "Q2_K", kQK_K, sizeof(BlockQ2_K), true, dequantize_q2_k, quantize_q2_k},
    {DType::Q3_K, "Q3_K", kQK_K, sizeof(BlockQ3_K), true, dequantize_q3_k, quantize_q3_k},
    {DType::Q4_K, "Q4_K", kQK_K, sizeof(BlockQ4_K), true, dequantize_q4_k, quantize_q4_k},
    {DType::Q5_K, "Q5_K", kQK_K, sizeof(BlockQ5_K), true, dequantize_q5_k, quantize_q5_k},
    {DType::Q6_K, "Q6_K", kQK_K, sizeof(BlockQ6_K), true, dequantize_q6_k, quantize_q6_k},
    {DType::Q8_K, "Q8_K", kQK_K, sizeof(BlockQ8_K), true, dequantize_q8_k, quantize_q8_k},
    // Layouts known (sizes only) so files using them can be inspected.
    {DType::IQ2_XXS, "IQ2_XXS", kQK_K, 66, true, nullptr, nullptr},
    {DType::IQ2_XS, "IQ2_XS", kQK_K, 74, true, nullptr, nullptr},
    {DType::IQ3_XXS, "IQ3_XXS", kQK_K, 98, true, nullptr, nullptr},
    {DType::IQ1_S, "IQ1_S", kQK_K, 50, true, nullptr, nullptr},
    {DType::IQ4_NL, "IQ4_NL", kQK, 18, true, nullptr, nullptr},
    {DType::IQ3_S, "IQ3_S", kQK_K, 110, true, nullptr, nullptr},
    {DType::IQ2_S, "IQ2_S", kQK_K, 82, true, nullptr, nullptr},
    {DType::IQ4_XS, "IQ4_XS", kQK_K, 136, true, nullptr, nullptr},
    {DType::IQ1_M, "IQ1_M", kQK_K, 56, true, nullptr, nullptr},
    {DType::TQ1_0, "TQ1_0", kQK_K, 54, true, nullptr, nullptr},
    {DType::TQ2_0, "TQ2_0", kQK_K, 66, true, nullptr, nullptr},
    {DType::MXFP4, "MXFP4", kQK, 17, true, nullptr, nullptr},
    {DType::I8, "I8", 1, 1, false, dequantize_i8, nullptr},
    {DType::I16, "I16", 1, 2, false, dequantize_i16, nullptr},
    {DType::I32, "I32", 1, 4, false, dequantize_i32, nullptr},
    {DType::I64, "I64", 1, 8, false, dequantize_i64, nullptr},
    {DType::F64, "F64", 1, 8, false, dequantize_f64, nullptr},
};

constexpr DType kConvertible[] = {
    DType::F32,  DType::F16,  DType::BF16, DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1,
    DType::Q8_0, DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::Q8_K,
};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

const DTypeTraits* find_dtype(uint32_t raw_id) {
  for (const auto& t : kTraits) {
    if (static_cast<uint32_t>(t.type) == raw_id) return &t;
  }
  return nullptr;
}

const DTypeTraits& dtype_traits(DType t) {
  const DTypeTraits* traits = find_dtype(static_cast<uint32_t>(t));
  if (traits == nullptr) fail("internal: no traits for type id ", static_cast<uint32_t>(t));
  return *traits;
}

std::string dtype_name(uint32_t raw_id) {
  const DTypeTraits* t = find_dtype(raw_id);
  return t != nullptr ? std::string(t->name) : cat("unknown type ", raw_id);
}

std::optional<DType> dtype_from_name(std::string_view name) {
  for (const auto& t : kTraits) {
    if (iequals(name, t.name)) return t.type;
  }
  return std::nullopt;
}

size_t dtype_row_bytes(DType type, int64_t n) {
  const DTypeTraits& t = dtype_traits(type);
  if (n < 0 || n % t.block_size != 0) {
    fail("a row of ", n, " elements is not a whole number of ", t.name, " blocks (",
         t.block_size, " elements each)");
  }
  return static_cast<size_t>(n / t.block_size) * t.block_bytes;
}

const DType* convertible_dtypes(size_t* count) {
  *count = std::size(kConvertible);
  return kConvertible;
}

}  // namespace nomoat
