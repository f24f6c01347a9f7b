// Plain floating-point and integer storage. Sources may come straight from a
// mapped file, so elements are read with memcpy rather than through casts.
#include <cstring>

#include "base/fp16.h"
#include "tensor/quant/quant.h"

namespace nomoat::quant {
namespace {

// Reads element i of an array of T that may not be aligned for T.
template <typename T>
T load(const void* src, int64_t i) {
  T v;
  std::memcpy(&v, static_cast<const unsigned char*>(src) + i * static_cast<int64_t>(sizeof(T)),
              sizeof(T));
  return v;
}

template <typename T>
void widen_to_f32(const void* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<float>(load<T>(src, i));
}

}  // namespace

void dequantize_f32(const void* src, float* dst, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

void quantize_f32(const float* src, void* dst, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

void dequantize_f16(const void* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_f32(load<uint16_t>(src, i));
}

void quantize_f16(const float* src, void* dst, int64_t n) {
  auto* out = static_cast<unsigned char*>(dst);
  for (int64_t i = 0; i < n; ++i) {
    const uint16_t h = f32_to_fp16(src[i]);
    std::memcpy(out + 2 * i, &h, 2);
  }
}

void dequantize_bf16(const void* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(load<uint16_t>(src, i));
}

void quantize_bf16(const float* src, void* dst, int64_t n) {
  auto* out = static_cast<unsigned char*>(dst);
  for (int64_t i = 0; i < n; ++i) {
    const uint16_t b = f32_to_bf16(src[i]);
    std::memcpy(out + 2 * i, &b, 2);
  }
}

// Wider types lose precision (and I32/I64 exactness past 2^24) by design:
// callers that need exact integers read the raw data instead.
void dequantize_f64(const void* src, float* dst, int64_t n) { widen_to_f32<double>(src, dst, n); }
void dequantize_i8(const void* src, float* dst, int64_t n) { widen_to_f32<int8_t>(src, dst, n); }
void dequantize_i16(const void* src, float* dst, int64_t n) { widen_to_f32<int16_t>(src, dst, n); }
void dequantize_i32(const void* src, float* dst, int64_t n) { widen_to_f32<int32_t>(src, dst, n); }
void dequantize_i64(const void* src, float* dst, int64_t n) { widen_to_f32<int64_t>(src, dst, n); }

}  // namespace nomoat::quant
