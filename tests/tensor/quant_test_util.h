// Helpers shared by the tensor-type conversion tests.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "tensor/dtype.h"

namespace nomoat::quant_test {

inline std::vector<uint8_t> quantize(DType type, const std::vector<float>& x) {
  std::vector<uint8_t> out(dtype_row_bytes(type, static_cast<int64_t>(x.size())));
  dtype_traits(type).quantize(x.data(), out.data(), static_cast<int64_t>(x.size()));
  return out;
}

inline std::vector<float> dequantize(DType type, const void* data, int64_t n) {
  std::vector<float> out(static_cast<size_t>(n));
  dtype_traits(type).dequantize(data, out.data(), n);
  return out;
}

inline std::vector<float> round_trip(DType type, const std::vector<float>& x) {
  const std::vector<uint8_t> q = quantize(type, x);
  return dequantize(type, q.data(), static_cast<int64_t>(x.size()));
}

// sqrt(mean((y - x)^2)) / sqrt(mean(x^2)).
inline double relative_rmse(const std::vector<float>& x, const std::vector<float>& y) {
  double err = 0, ref = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double d = static_cast<double>(y[i]) - x[i];
    err += d * d;
    ref += static_cast<double>(x[i]) * x[i];
  }
  return ref > 0 ? std::sqrt(err / ref) : std::sqrt(err);
}

inline bool all_finite(const std::vector<float>& y) {
  for (float v : y) {
    if (!std::isfinite(v)) return false;
  }
  return true;
}

// Platform-independent pseudo-random numbers (std distributions are not), so
// that byte-exact expectations hold on every standard library.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {  // splitmix64
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1), a multiple of 2^-24.
  float uniform() { return static_cast<float>(next() >> 40) * (1.0f / 16777216.0f); }
  // Roughly normal (sum of 4 uniforms, variance 1): only + and * in a fixed
  // order, so every IEEE platform produces the same floats.
  float normal() {
    const float s = uniform() + uniform() + uniform() + uniform();
    return (s - 2.0f) * 1.7320508f;
  }

 private:
  uint64_t state_;
};

// 4096 values in 16 super-blocks of varied character (scales from 1e-3 to
// 10, offsets, a zero block, a constant block, outliers): the input of the
// byte-exact comparison with llama.cpp's reference quantizers.
inline std::vector<float> reference_input() {
  Rng rng(20240501);
  std::vector<float> x(4096);
  for (int b = 0; b < 16; ++b) {
    const float scale = b % 4 == 0 ? 1e-3f : b % 4 == 1 ? 0.02f : b % 4 == 2 ? 1.0f : 10.0f;
    const float offset = b % 3 == 1 ? 2.5f * scale : 0.0f;
    for (int i = 0; i < 256; ++i) x[256 * b + i] = rng.normal() * scale + offset;
  }
  for (int i = 0; i < 256; ++i) {
    x[256 * 5 + i] = 0.0f;    // all zero
    x[256 * 9 + i] = -0.75f;  // constant
  }
  x[256 * 6 + 17] = 300.0f;  // outliers
  x[256 * 12 + 200] = -45.0f;
  return x;
}

// FNV-1a over bytes: a compact fingerprint of quantized output.
inline uint64_t fnv1a(const std::vector<uint8_t>& bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint8_t b : bytes) {
    h ^= b;
    h *= 0x100000001b3ull;
  }
  return h;
}

}  // namespace nomoat::quant_test
