// The x16 packed layouts (tensor/packed.h) and their kernels
// (kernels/packed_matmul.h), on random data of odd shapes.
//  * Layout: every row decoded from the packed copy equals the source
//    row's dequantization exactly.
//  * Kernels: against a double-precision reference on the activations as
//    quantized (d * q with one scale per 32-value block for Q8_0/Q4_0, per
//    256-value super-block for the K-quants: the same bytes the kernels
//    use): only float rounding differs, bounded by (cols + 16) * 2^-23 *
//    sum_c |w_c d q_c|; and through kernels::matmul on a view with a
//    packed copy, the same result as the unpacked fast path within that
//    bound (Q8_0/Q4_0, same activations) or within the two activation
//    quantizations' difference (K-quants).
//  * AMX (where the CPU has it; batches of 16+ tokens): bf16 tiles for
//    every type, checked against the float activations in double, within
//    the two bf16 roundings (weight and activation, 2^-9 each) of sum |w x|.
//  * Several matrices on one input (matmul_shared_input): the same bits as
//    one matmul each.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "base/error.h"
#include "base/huge_pages.h"
#include "kernels/amx.h"
#include "kernels/fast_matmul.h"
#include "kernels/ops.h"
#include "kernels/packed_matmul.h"
#include "tensor/blocks.h"
#include "tensor/dtype.h"
#include "tensor/packed.h"
#include "tensor/view.h"
#include "test_rng.h"

namespace nomoat::kernels {
namespace {

using testing_util::Rng;

struct Matrix {
  std::vector<uint8_t> bytes;
  MatrixView view;
};

// Rows with varied magnitudes and a few outliers, so scales and mins differ.
Matrix random_matrix(DType type, int64_t rows, int64_t cols, Rng& rng) {
  Matrix m;
  const size_t row_bytes = dtype_row_bytes(type, cols);
  m.bytes.resize(row_bytes * static_cast<size_t>(rows));
  std::vector<float> row(static_cast<size_t>(cols));
  for (int64_t r = 0; r < rows; ++r) {
    const float scale = 0.05f + 2.0f * std::fabs(rng.uniform());
    const float shift = 0.3f * rng.uniform();
    for (auto& v : row) v = scale * rng.uniform() + shift;
    row[static_cast<size_t>(r % cols)] *= 6.0f;
    dtype_traits(type).quantize(row.data(), m.bytes.data() + row_bytes * static_cast<size_t>(r), cols);
  }
  m.view = MatrixView{m.bytes.data(), type, cols, rows, row_bytes};
  return m;
}

std::vector<float> random_activations(int64_t n, Rng& rng) {
  std::vector<float> x(static_cast<size_t>(n));
  for (auto& v : x) v = 3.0f * rng.uniform();
  return x;
}

const DType kPackedTypes[] = {DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::Q5_K, DType::Q6_K};

int64_t block_cols(DType type) { return dtype_traits(type).block_size; }

TEST(PackedLayout, DecodesToTheSourceRows) {
  Rng rng(1);
  for (DType type : kPackedTypes) {
    for (int64_t rows : {1, 15, 16, 17, 45}) {
      const int64_t cols = 3 * block_cols(type);
      const Matrix m = random_matrix(type, rows, cols, rng);
      const auto packed = pack_matrix(m.view, 2);
      ASSERT_EQ(packed->row_groups, (rows + 15) / 16);
      // Same bytes as the source per 16 rows, up to the 64-byte padding.
      EXPECT_EQ(packed->body_bytes + packed->tail_bytes, 16 * dtype_row_bytes(type, block_cols(type)));
      EXPECT_EQ(packed->group_bytes, (16 * m.view.row_bytes + 63) / 64 * 64) << dtype_name(type);
      std::vector<float> want(static_cast<size_t>(cols)), got(static_cast<size_t>(cols));
      for (int64_t r = 0; r < rows; ++r) {
        dequantize_row(m.view, r, want.data());
        dequantize_packed_row(*packed, r, got.data());
        ASSERT_EQ(want, got) << dtype_name(type) << " rows " << rows << " row " << r;
      }
    }
  }
}

// A model packs all its matrices into one huge-page buffer (model.cpp):
// packing into caller memory gives the same bytes as packing on its own,
// and writes nothing past packed_matrix_bytes.
TEST(PackedLayout, PacksIntoCallerMemory) {
  Rng rng(5);
  for (DType type : kPackedTypes) {
    const Matrix m = random_matrix(type, 37, 5 * block_cols(type), rng);
    const auto own = pack_matrix(m.view, 2);
    const size_t bytes = packed_matrix_bytes(m.view);
    ASSERT_EQ(bytes, own->bytes) << dtype_name(type);
    HugeBuffer buf = allocate_huge_pages(bytes + 64, "test");
    ASSERT_EQ(reinterpret_cast<uintptr_t>(buf.get()) % kHugePageBytes, 0u);
    std::memset(buf.get(), 0xA5, bytes + 64);
    const auto inside = pack_matrix(m.view, 2, buf.get());
    ASSERT_EQ(inside->data.get(), buf.get());
    EXPECT_EQ(std::memcmp(inside->data.get(), own->data.get(), bytes), 0) << dtype_name(type);
    for (size_t i = bytes; i < bytes + 64; ++i) ASSERT_EQ(buf.get()[i], 0xA5) << dtype_name(type);
  }
}

TEST(PackedLayout, RefusesTypesWithoutLayout) {
  Rng rng(2);
  const Matrix m = random_matrix(DType::Q3_K, 3, 256, rng);
  EXPECT_FALSE(packable(DType::Q3_K));
  EXPECT_THROW(pack_matrix(m.view), Error);
}

// y[t][r] in double from the dequantized weights and the quantized
// activations, plus the bound on float rounding for each output.
// want[t][r] = sum_c w[r][c] a(t, c) in double, bound = rel * sum_c |w a|.
template <class Activation>
void reference_sums(const MatrixView& w, int64_t n, const Activation& a, double rel, std::vector<double>& want,
                    std::vector<double>& bound) {
  std::vector<float> row(static_cast<size_t>(w.cols));
  want.assign(static_cast<size_t>(n * w.rows), 0.0);
  bound.assign(static_cast<size_t>(n * w.rows), 0.0);
  for (int64_t r = 0; r < w.rows; ++r) {
    dequantize_row(w, r, row.data());
    for (int64_t t = 0; t < n; ++t) {
      double sum = 0.0, abs_sum = 0.0;
      for (int64_t c = 0; c < w.cols; ++c) {
        const double p = row[static_cast<size_t>(c)] * a(t, c);
        sum += p;
        abs_sum += std::fabs(p);
      }
      want[static_cast<size_t>(t * w.rows + r)] = sum;
      bound[static_cast<size_t>(t * w.rows + r)] = rel * abs_sum;
    }
  }
}

// On the activations as the kernels quantize them; only float rounding of
// the sums differs.
void quantized_reference(const MatrixView& w, const std::vector<float>& x, int64_t n, std::vector<double>& want,
                         std::vector<double>& bound) {
  const int64_t nb = w.cols / kQK;
  std::vector<float> d(static_cast<size_t>(n * nb));
  std::vector<int8_t> q(static_cast<size_t>(n * w.cols));
  std::vector<int32_t> bias(static_cast<size_t>(n * nb));
  if (w.type == DType::Q4_K || w.type == DType::Q5_K || w.type == DType::Q6_K) {
    std::vector<float> super(static_cast<size_t>(n * nb / 8));
    quantize_superblocks_scalar(x.data(), n * nb / 8, super.data(), q.data(), bias.data());
    for (size_t b = 0; b < d.size(); ++b) d[b] = super[b / 8];
  } else {
    quantize_activations_scalar(x.data(), n * nb, d.data(), q.data(), bias.data());
  }
  const auto a = [&](int64_t t, int64_t c) {
    return static_cast<double>(d[static_cast<size_t>(t * nb + c / kQK)]) * q[static_cast<size_t>(t * w.cols + c)];
  };
  reference_sums(w, n, a, static_cast<double>(w.cols + 16) * std::ldexp(1.0, -23), want, bound);
}

// On the float activations, with the bound of the bf16 route: each
// product's two roundings to bf16 (2^-9 relative each) plus fp32 sums.
void float_reference(const MatrixView& w, const std::vector<float>& x, int64_t n, std::vector<double>& want,
                     std::vector<double>& bound) {
  const auto a = [&](int64_t t, int64_t c) { return static_cast<double>(x[static_cast<size_t>(t * w.cols + c)]); };
  reference_sums(w, n, a, std::ldexp(1.0, -8) * 1.01 + (w.cols + 16) * std::ldexp(1.0, -23), want, bound);
}

// AMX runs prompt batches on bf16 tiles, every type.
bool bf16_route(int64_t n, bool amx) { return amx && n >= kAmxMinTokens; }

// Which kernels run: VNNI with or without GFNI, and AMX for prompt batches.
struct Route {
  bool amx = false;
  bool gfni = false;
};

// A route forced while in scope.
struct RouteSetting {
  explicit RouteSetting(Route r) {
    set_amx_override(r.amx);
    set_gfni_override(r.gfni);
  }
  ~RouteSetting() {
    set_amx_override(std::nullopt);
    set_gfni_override(std::nullopt);
  }
};

// The routes worth running: VNNI, VNNI with GFNI where the CPU has it, and
// AMX where the CPU has it.
std::vector<Route> routes() {
  std::vector<Route> r = {{false, false}};
  if (gfni_supported()) r.push_back({false, true});
  if (amx_supported()) r.push_back({true, gfni_supported()});
  return r;
}

class PackedMatmul : public testing::Test {
 protected:
  void SetUp() override {
    if (!isa_uses_packed_weights(Isa::Avx512)) GTEST_SKIP() << "this CPU has no AVX-512 VNNI: no packed kernels";
  }
};

TEST_F(PackedMatmul, MatchesQuantizedReferenceOnOddShapes) {
  for (const Route route : routes()) {
  const RouteSetting setting(route);
  const bool amx = route.amx;
  Rng rng(3);
  for (DType type : kPackedTypes) {
    for (int64_t rows : {1, 16, 17, 45}) {
      for (int64_t n : {1, 2, 3, 7, 12, 13, 16, 25, 33}) {
        const int64_t cols = block_cols(type) == kQK_K ? 512 : 5 * kQK;
        Matrix m = random_matrix(type, rows, cols, rng);
        const auto packed = pack_matrix(m.view, 1);
        m.view.packed = packed.get();
        const std::vector<float> x = random_activations(n * cols, rng);
        std::vector<double> want, bound;
        if (bf16_route(n, amx)) {
          float_reference(m.view, x, n, want, bound);
        } else {
          quantized_reference(m.view, x, n, want, bound);
        }
        for (int threads : {1, 2}) {
          std::vector<float> got(static_cast<size_t>(n * rows), -1.0f);
          matmul_packed(Isa::Avx512, m.view, x.data(), n, got.data(), threads);
          for (size_t i = 0; i < got.size(); ++i) {
            ASSERT_NEAR(got[i], want[i], bound[i] + 1e-30)
                << dtype_name(type) << " rows " << rows << " n " << n << " threads " << threads << " amx " << amx << " gfni " << route.gfni
                << " at " << i;
          }
        }
      }
    }
  }
  }
}

// On AMX, prompt batches of matrices in their GGUF layout (types without a
// packed layout, or any type not packed) run on bf16 tiles too, within the
// bf16 bound of the float reference: odd row counts (the last group padded
// with zero rows that are never stored), k slices (7168 values: three and
// a half), several token blocks and partial tiles.
TEST_F(PackedMatmul, AmxTakesMatricesInTheirGgufLayout) {
  if (!amx_supported()) GTEST_SKIP() << "this CPU or OS has no AMX";
  const RouteSetting setting({true, gfni_supported()});
  Rng rng(9);
  const DType types[] = {DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q2_K, DType::Q3_K,
                         DType::Q5_K, DType::Q6_K, DType::Q8_0, DType::Q4_0, DType::Q4_K};
  for (DType type : types) {
    for (const auto& [rows, cols, n] : {std::tuple<int64_t, int64_t, int64_t>{1, 256, 16}, {17, 512, 37}, {45, 7168, 21},
                                        {33, 2304, 301}}) {
      const Matrix m = random_matrix(type, rows, cols, rng);
      EXPECT_TRUE(amx_takes(Isa::Avx512, m.view, n)) << dtype_name(type);
      EXPECT_FALSE(amx_takes(Isa::Avx512, m.view, kAmxMinTokens - 1)) << dtype_name(type);
      const std::vector<float> x = random_activations(n * cols, rng);
      std::vector<double> want, bound;
      float_reference(m.view, x, n, want, bound);
      for (int threads : {1, 2}) {
        std::vector<float> got(static_cast<size_t>(n * rows), -1.0f);
        matmul(m.view, x.data(), n, got.data(), threads);
        for (size_t i = 0; i < got.size(); ++i) {
          ASSERT_NEAR(got[i], want[i], bound[i] + 1e-30)
              << dtype_name(type) << " rows " << rows << " cols " << cols << " n " << n << " threads " << threads << " at " << i;
        }
      }
    }
  }
  // Types without a dequantizer (IQ formats) are not taken.
  const MatrixView iq{nullptr, DType::IQ4_XS, 256, 16, dtype_row_bytes(DType::IQ4_XS, 256)};
  EXPECT_FALSE(amx_takes(Isa::Avx512, iq, 64));
}

// Big enough for the threaded split into k slices (2048 values; 7168 ends
// in half a slice), several token blocks (VNNI: up to 128 tokens each at
// that slice width; AMX: up to 256) and row-group tasks.
TEST_F(PackedMatmul, ThreadedTokenBlocksMatchUnpackedPath) {
  for (const Route route : routes()) {
  const RouteSetting setting(route);
  const bool amx = route.amx;
  Rng rng(4);
  for (DType type : kPackedTypes) {
    const int64_t rows = 67, cols = 7168, n = 301;
    Matrix m = random_matrix(type, rows, cols, rng);
    const std::vector<float> x = random_activations(n * cols, rng);
    std::vector<double> want, bound;
    const bool bf16 = bf16_route(n, amx);
    if (bf16) {
      float_reference(m.view, x, n, want, bound);
    } else {
      quantized_reference(m.view, x, n, want, bound);
    }
    std::vector<float> unpacked(static_cast<size_t>(n * rows));
    matmul_fast(Isa::Avx512, m.view, x.data(), n, unpacked.data(), 2);
    const auto packed = pack_matrix(m.view, 2);
    m.view.packed = packed.get();
    std::vector<float> got(static_cast<size_t>(n * rows));
    matmul(m.view, x.data(), n, got.data(), 2);  // the public entry point takes the packed path
    // Both paths quantize activations to int8 per 32 values (VNNI only).
    const bool same_activations = (type == DType::Q8_0 || type == DType::Q4_0) && !bf16;
    double diff2 = 0, ref2 = 0, err2 = 0, unpacked_err2 = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_NEAR(got[i], want[i], bound[i]) << dtype_name(type) << " amx " << amx << " gfni " << route.gfni << " at " << i;
      if (same_activations) {
        ASSERT_NEAR(got[i], unpacked[i], 2 * bound[i]) << dtype_name(type) << " at " << i;
      }
      diff2 += (got[i] - unpacked[i]) * (got[i] - unpacked[i]);
      err2 += (got[i] - want[i]) * (got[i] - want[i]);
      unpacked_err2 += (unpacked[i] - want[i]) * (unpacked[i] - want[i]);
      ref2 += want[i] * want[i];
    }
    // Per-256 (or bf16) against per-32 int8 activations: random data has no
    // outliers, so the two roundings differ by well under 1 %.
    EXPECT_LT(std::sqrt(diff2 / ref2), same_activations ? 1e-6 : 1e-2) << dtype_name(type) << " amx " << amx << " gfni " << route.gfni;
    // bf16 tiles against the exact product: about 2.4e-3 RMS here; the
    // squared error is 0.4 of the unpacked path's with int8 activations per
    // 32 values (RMS 0.63 of it), asserted below 0.6.
    if (bf16) {
      EXPECT_LT(std::sqrt(err2 / ref2), 4e-3) << dtype_name(type);
      EXPECT_LT(err2, 0.6 * unpacked_err2) << dtype_name(type);
    }
  }
  }
}

// Q/K/V-like matrices of mixed types on one input: one shared conversion
// per activation layout and one pool run per k slice, with each output the
// same bits as its own matmul (decode, VNNI tiles, AMX token blocks, two k
// slices at 2560 values, jobs with fewer slices than others; a matrix
// without a packed copy falls back).
TEST_F(PackedMatmul, SharedInputMatchesSeparateMatmuls) {
  for (const Route route : routes()) {
  const RouteSetting setting(route);
  const bool amx = route.amx;
  Rng rng(6);
  const int64_t cols = 2560;
  std::vector<Matrix> ms;
  std::vector<std::unique_ptr<PackedMatrix>> packs;
  for (const auto& [type, rows] : {std::pair{DType::Q4_K, 45}, std::pair{DType::Q6_K, 16}, std::pair{DType::Q8_0, 33},
                                   std::pair{DType::Q4_0, 17}, std::pair{DType::Q5_K, 70}}) {
    ms.push_back(random_matrix(type, rows, cols, rng));
    packs.push_back(pack_matrix(ms.back().view, 2));
    ms.back().view.packed = packs.back().get();
  }
  for (bool all_packed : {true, false}) {
    if (!all_packed) ms[1].view.packed = nullptr;  // Q6_K on the GGUF-layout kernels
    std::vector<const MatrixView*> ws;
    for (const Matrix& m : ms) ws.push_back(&m.view);
    // 9 tokens (VNNI): Q8_0/Q4_0 (10-token panels) take one k slice, the
    // K-quants (8-token panels) two, so the second pool run skips jobs.
    for (int64_t n : {1, 5, 9, 16, 37, 301}) {
      const std::vector<float> x = random_activations(n * cols, rng);
      for (int threads : {1, 2}) {
        std::vector<std::vector<float>> separate, shared;
        std::vector<float*> ys;
        for (const Matrix& m : ms) {
          separate.emplace_back(static_cast<size_t>(n * m.view.rows));
          matmul(m.view, x.data(), n, separate.back().data(), threads);
          shared.emplace_back(static_cast<size_t>(n * m.view.rows), -1.0f);
        }
        for (auto& y : shared) ys.push_back(y.data());
        matmul_shared_input(ws, x.data(), n, ys, threads);
        for (size_t i = 0; i < ms.size(); ++i) {
          for (size_t j = 0; j < shared[i].size(); ++j) {
            ASSERT_EQ(std::bit_cast<uint32_t>(shared[i][j]), std::bit_cast<uint32_t>(separate[i][j]))
                << "matrix " << i << " n " << n << " threads " << threads << " amx " << amx << " gfni " << route.gfni << " packed " << all_packed
                << " at " << j << ": " << shared[i][j] << " vs " << separate[i][j];
          }
        }
      }
    }
  }
  }
}

TEST(MatmulSharedInput, MismatchedShapesAreErrors) {
  Rng rng(7);
  Matrix a = random_matrix(DType::Q8_0, 4, 64, rng), b = random_matrix(DType::Q8_0, 4, 96, rng);
  std::vector<float> x(96), y1(4), y2(4);
  const MatrixView* both[] = {&a.view, &b.view};
  float* ys[] = {y1.data(), y2.data()};
  try {
    matmul_shared_input(both, x.data(), 1, ys, 1);
    FAIL() << "widths 64 and 96 were accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("widths 64 and 96"), std::string::npos) << e.what();
  }
  const MatrixView* one[] = {&a.view};
  try {
    matmul_shared_input(one, x.data(), 1, ys, 1);
    FAIL() << "one matrix with two outputs was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("1 matrices but 2 outputs"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace nomoat::kernels
