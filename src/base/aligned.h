// 64-byte aligned scratch inside a std::vector: SIMD and AMX loads of a row
// that straddles two cache lines read both (AMX tile loads ran at less than
// half speed from a std::vector's 16-byte alignment).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace nomoat {

// Resizes v so that n values fit from its first 64-byte boundary on, and
// returns that boundary. Values past n are v's own (not cleared).
template <class T>
T* aligned_scratch(std::vector<T>& v, size_t n) {
  v.resize(n + 64 / sizeof(T));
  const auto addr = reinterpret_cast<uintptr_t>(v.data());
  return reinterpret_cast<T*>((addr + 63) & ~uintptr_t{63});
}

}  // namespace nomoat
