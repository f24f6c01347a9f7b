// GLU activations (kernels/activation.h): the AVX-512 path against the
// scalar reference (std::exp / std::tanh) on random and edge inputs. The
// vector exp is a degree-6 polynomial after exact range reduction, so each
// activation stays within a few float ulps: the bound is 4e-7 relative to
// the value plus 1e-7 relative to x (the second term covers values that
// are tiny differences, e.g. GELU of large negative x, where the reference's
// own 1 + tanh rounding dominates).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "kernels/activation.h"
#include "kernels/ops.h"

namespace nomoat::kernels {
namespace {

void check(GluActivation act) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> wide(-40.0f, 40.0f), narrow(-4.0f, 4.0f);
  std::vector<float> x;
  for (int i = 0; i < 20000; ++i) x.push_back(i % 2 ? wide(rng) : narrow(rng));
  for (float v : {0.0f, -0.0f, 1e-30f, -1e-30f, 1e-7f, 88.0f, -88.0f, 100.0f, -100.0f, 1e30f, -1e30f, 0.5f, -0.5f}) x.push_back(v);
  const int64_t n = static_cast<int64_t>(x.size());  // not a multiple of 16: masked tail
  std::vector<float> u(x.size());
  std::uniform_real_distribution<float> unit(-2.0f, 2.0f);
  for (auto& v : u) v = unit(rng);
  std::vector<float> want = x, got = x;
  glu_isa(Isa::Scalar, act, want.data(), u.data(), n);
  glu_isa(Isa::Avx512, act, got.data(), u.data(), n);
  for (size_t i = 0; i < x.size(); ++i) {
    const double bound = 4e-7 * std::fabs(want[i]) + 1e-7 * std::fabs(x[i] * u[i]);
    ASSERT_NEAR(got[i], want[i], bound) << "x = " << x[i] << " u = " << u[i];
  }
  // Threads split the rows without changing any value.
  std::vector<float> threaded = x, single = x;
  std::vector<float> big_u(x.size() * 8), big_g(x.size() * 8);
  for (size_t i = 0; i < big_g.size(); ++i) {
    big_g[i] = x[i % x.size()];
    big_u[i] = u[i % u.size()];
  }
  std::vector<float> a = big_g, b = big_g;
  glu(act, a.data(), big_u.data(), static_cast<int64_t>(a.size()), 1);
  glu(act, b.data(), big_u.data(), static_cast<int64_t>(b.size()), 2);
  EXPECT_EQ(a, b);
}

TEST(Glu, SiluMatchesReference) {
  if (!isa_supported(Isa::Avx512)) GTEST_SKIP() << "this CPU lacks avx512";
  check(GluActivation::kSilu);
}

TEST(Glu, GeluMatchesReference) {
  if (!isa_supported(Isa::Avx512)) GTEST_SKIP() << "this CPU lacks avx512";
  check(GluActivation::kGeluTanh);
}

TEST(Glu, ScalarPathIsTheElementwiseReference) {
  std::vector<float> g = {-3.0f, 0.0f, 2.5f}, u = {1.0f, 2.0f, -1.0f};
  glu_isa(Isa::Scalar, GluActivation::kSilu, g.data(), u.data(), 3);
  EXPECT_EQ(g[0], silu(-3.0f) * 1.0f);
  EXPECT_EQ(g[2], silu(2.5f) * -1.0f);
}

}  // namespace
}  // namespace nomoat::kernels
