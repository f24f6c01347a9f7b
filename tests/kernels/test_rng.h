// splitmix64: reproducible random test data on every standard library.
#pragma once

#include <cstdint>

namespace nomoat::kernels::testing_util {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [lo, hi) with 24 random bits.
  float uniform(float lo, float hi) { return lo + (hi - lo) * static_cast<float>(next() >> 40) * (1.0f / 16777216.0f); }
  float uniform() { return uniform(-1.0f, 1.0f); }

 private:
  uint64_t state_;
};

}  // namespace nomoat::kernels::testing_util
