// kernels::attention against kernels::attention_reference, for every ISA
// path this CPU runs, on random data of odd shapes: head_dim 64/80/128/33,
// key counts that are not multiples of the 32-key block, GQA ratios 1/4/8,
// F16/F32/Q8_0 caches, causal ranges, sliding windows and soft-caps.
//
// What must hold (see kernels/attention.h):
//  * F16 cache, keys within one chunk: bit for bit the reference (scores are
//    the same double dot in the same order, the same float softmax steps,
//    the same fp16 roundings);
//  * F32/Q8_0 caches: online float softmax vs the reference's two-pass one:
//    within (n_keys + 16) * 2^-22 * max|v| (float rounding of the weights,
//    sums and rescales);
//  * past one chunk (split-K merge): F16 within 4e-3 * max|v| (fp16
//    accumulators restart per chunk), others as above;
//  * every ISA, any thread count and any batching give identical bits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/attention.h"
#include "kernels/attention_isa.h"
#include "kernels/exp_f32.h"
#include "tensor/dtype.h"
#include "test_rng.h"

namespace nomoat::kernels {
namespace {

using testing_util::Rng;

struct Case {
  DType type = DType::F16;
  int64_t n_head = 8, n_head_kv = 2, head_dim = 64;
  int64_t n_pos = 37;      // cached positions
  int64_t window = 0;      // 0: causal over the whole past
  float softcap = 0.0f;
  std::vector<int64_t> positions;  // query positions (each attends up to itself)
  std::string name() const {
    return std::string(dtype_name(type)) + " heads " + std::to_string(n_head) + "/" + std::to_string(n_head_kv) + " D " +
           std::to_string(head_dim) + " n_pos " + std::to_string(n_pos) + " window " + std::to_string(window) +
           " softcap " + std::to_string(softcap);
  }
};

struct Data {
  std::vector<uint8_t> k, v;
  std::vector<float> q;
  size_t row_bytes = 0;
  float max_abs_v = 0.0f;
  AttentionShape shape;
};

Data make_data(const Case& c, uint64_t seed) {
  Rng rng(seed);
  Data d;
  const int64_t kv_dim = c.n_head_kv * c.head_dim;
  d.row_bytes = dtype_row_bytes(c.type, kv_dim);
  d.k.resize(d.row_bytes * static_cast<size_t>(c.n_pos));
  d.v.resize(d.k.size());
  std::vector<float> row(static_cast<size_t>(kv_dim)), back(row.size());
  for (int64_t p = 0; p < c.n_pos; ++p) {
    for (auto& x : row) x = rng.uniform(-1.0f, 1.0f);
    dtype_traits(c.type).quantize(row.data(), d.k.data() + d.row_bytes * static_cast<size_t>(p), kv_dim);
    for (auto& x : row) x = rng.uniform(-2.0f, 2.0f);
    dtype_traits(c.type).quantize(row.data(), d.v.data() + d.row_bytes * static_cast<size_t>(p), kv_dim);
    dtype_traits(c.type).dequantize(d.v.data() + d.row_bytes * static_cast<size_t>(p), back.data(), kv_dim);
    for (float x : back) d.max_abs_v = std::max(d.max_abs_v, std::fabs(x));
  }
  // Queries large enough that softmax is far from uniform.
  d.q.resize(c.positions.size() * static_cast<size_t>(c.n_head * c.head_dim));
  for (auto& x : d.q) x = rng.uniform(-3.0f, 3.0f);
  d.shape.n_head = c.n_head;
  d.shape.n_head_kv = c.n_head_kv;
  d.shape.head_dim = c.head_dim;
  d.shape.scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  d.shape.softcap = c.softcap;
  return d;
}

std::vector<AttentionQuery> make_queries(const Case& c, const Data& d, std::vector<float>& out) {
  const int64_t Q = c.n_head * c.head_dim;
  out.assign(c.positions.size() * static_cast<size_t>(Q), std::nanf(""));  // unwritten outputs fail
  std::vector<AttentionQuery> qs;
  for (size_t i = 0; i < c.positions.size(); ++i) {
    const int64_t pos = c.positions[i];
    AttentionQuery q;
    q.q = &d.q[i * static_cast<size_t>(Q)];
    q.out = &out[i * static_cast<size_t>(Q)];
    q.first = c.window > 0 ? std::max<int64_t>(0, pos - c.window + 1) : 0;
    q.last = pos;
    q.kv = KvRows{c.type, d.k.data(), d.v.data(), d.row_bytes};
    qs.push_back(q);
  }
  return qs;
}

std::vector<float> run_reference(const Case& c, const Data& d) {
  std::vector<float> out;
  for (const AttentionQuery& q : make_queries(c, d, out)) attention_reference(d.shape, q);
  return out;
}

std::vector<float> run_fast(Isa isa, const Case& c, const Data& d, int threads) {
  std::vector<float> out;
  const std::vector<AttentionQuery> qs = make_queries(c, d, out);
  attention(isa, d.shape, qs.data(), static_cast<int64_t>(qs.size()), threads);
  return out;
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

void expect_matches_reference(Isa isa, const Case& c, uint64_t seed) {
  const Data d = make_data(c, seed);
  const std::vector<float> want = run_reference(c, d);
  const std::vector<float> got = run_fast(isa, c, d, 2);
  int64_t longest = 0;
  bool one_chunk = true;  // every query's keys within one chunk
  std::vector<float> unused;
  for (const AttentionQuery& q : make_queries(c, d, unused)) {
    longest = std::max(longest, q.last - q.first + 1);
    one_chunk = one_chunk && q.first / kAttnChunk == q.last / kAttnChunk;
  }
  const bool exact = c.type == DType::F16 && one_chunk;
  const double tol = c.type == DType::F16 ? 4e-3 * d.max_abs_v
                                          : (static_cast<double>(longest) + 16.0) * std::ldexp(1.0, -22) * d.max_abs_v;
  int reported = 0;
  for (size_t i = 0; i < want.size() && reported < 5; ++i) {
    const bool ok = exact ? same_bits(got[i], want[i]) : std::fabs(got[i] - want[i]) <= tol;
    if (!ok) {
      ++reported;
      ADD_FAILURE() << isa_name(isa) << " " << c.name() << ": out[" << i << "] = " << got[i] << ", reference " << want[i]
                    << (exact ? " (must be identical)" : " tol " + std::to_string(tol));
    }
  }
  // Every ISA and thread count gives the portable path's bits.
  const std::vector<float> portable = run_fast(Isa::Scalar, c, d, 1);
  for (size_t i = 0; i < got.size() && reported < 5; ++i) {
    if (!same_bits(got[i], portable[i])) {
      ++reported;
      ADD_FAILURE() << isa_name(isa) << " " << c.name() << ": out[" << i << "] = " << got[i] << ", portable path "
                    << portable[i];
    }
  }
}

std::vector<int64_t> all_positions(int64_t n) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) p[static_cast<size_t>(i)] = i;
  return p;
}

class Attention : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    if (!isa_supported(GetParam())) GTEST_SKIP() << isa_name(GetParam()) << " is not supported by this CPU";
  }
};

TEST_P(Attention, MatchesReferenceOnOddShapes) {
  uint64_t seed = 1;
  for (DType type : {DType::F16, DType::F32, DType::Q8_0}) {
    for (int64_t D : {64, 80, 128, 33}) {
      for (int64_t ratio : {1, 4, 8}) {
        Case c;
        c.type = type;
        c.head_dim = D;
        c.n_head_kv = 2;
        if (type == DType::Q8_0 && (2 * D) % 32 != 0) c.n_head_kv = 32;  // Q8_0 rows are whole 32-blocks
        c.n_head = c.n_head_kv * ratio;
        c.n_pos = D == 33 ? 45 : 37;
        // A whole prompt, causal: each position sees itself and the past.
        c.positions = all_positions(c.n_pos);
        expect_matches_reference(GetParam(), c, seed++);
      }
    }
  }
}

TEST_P(Attention, WindowsSoftcapsAndScatteredQueries) {
  uint64_t seed = 100;
  for (DType type : {DType::F16, DType::F32, DType::Q8_0}) {
    for (int64_t window : {0, 1, 7, 40}) {
      Case c;
      c.type = type;
      c.n_head = 12;
      c.n_head_kv = 3;  // GQA 4 with an odd number of KV heads
      c.head_dim = 64;
      c.n_pos = 101;
      c.window = window;
      c.softcap = window == 7 ? 0.0f : 5.0f;
      // Queries out of order and far apart in one batch.
      c.positions = {100, 0, 3, 64, 31, 32, 33, 99, 65};
      expect_matches_reference(GetParam(), c, seed++);
    }
  }
}

// Past kAttnChunk keys the chunk states are merged; a single query over a
// long context also splits its chunks over threads.
TEST_P(Attention, LongContextsMergeChunks) {
  uint64_t seed = 200;
  for (DType type : {DType::F16, DType::F32, DType::Q8_0}) {
    for (int64_t n_kv : {1, 4}) {
      Case c;
      c.type = type;
      c.n_head = 8;
      c.n_head_kv = n_kv;
      c.head_dim = 64;
      c.n_pos = 2 * kAttnChunk + 77;
      c.positions = {c.n_pos - 1};  // one query: split-K over threads
      expect_matches_reference(GetParam(), c, seed++);
      c.positions = {kAttnChunk - 1, kAttnChunk, 5, c.n_pos - 2, c.n_pos - 1};
      c.window = n_kv == 4 ? kAttnChunk + 3 : 0;
      expect_matches_reference(GetParam(), c, seed++);
    }
  }
}

// Results do not depend on how queries are batched or on threads.
TEST_P(Attention, BatchingAndThreadsDoNotChangeBits) {
  Case c;
  c.type = DType::F16;
  c.n_head = 16;
  c.n_head_kv = 4;
  c.head_dim = 64;
  c.n_pos = kAttnChunk + 300;
  for (int64_t p = 0; p < c.n_pos; p += 13) c.positions.push_back(p);
  for (int64_t p : {int64_t{31}, kAttnChunk - 1, kAttnChunk, c.n_pos - 1}) c.positions.push_back(p);
  const Data d = make_data(c, 7);
  const std::vector<float> together = run_fast(GetParam(), c, d, 2);
  const std::vector<float> one_thread = run_fast(GetParam(), c, d, 1);
  EXPECT_TRUE(together == one_thread);
  const int64_t Q = c.n_head * c.head_dim;
  for (size_t i : {size_t{0}, size_t{1}, c.positions.size() - 3, c.positions.size() - 1}) {
    Case alone = c;
    alone.positions = {c.positions[i]};
    Data da = d;
    std::copy_n(&d.q[i * static_cast<size_t>(Q)], Q, da.q.begin());
    const std::vector<float> out = run_fast(GetParam(), alone, da, 2);
    for (int64_t j = 0; j < Q; ++j) {
      ASSERT_TRUE(same_bits(out[static_cast<size_t>(j)], together[i * static_cast<size_t>(Q) + static_cast<size_t>(j)]))
          << "position " << c.positions[i] << " value " << j;
    }
  }
}

// The SIMD softmax kernel (attention_isa.h) against the contract's scalar
// steps written out here, on odd row and key counts, rows with empty,
// partial and full key ranges, ties, -inf and NaN scores, and state carried
// over from an earlier block: m, l, rescale and weight bit for bit.
TEST_P(Attention, SoftmaxKernelMatchesScalarSteps) {
  const AttentionIsaKernels* k = GetParam() == Isa::Avx512 ? &kAttnAvx512Kernels
                                 : GetParam() == Isa::Avx2 ? &kAttnAvx2Kernels
                                                           : nullptr;
  if (!k || !k->softmax) GTEST_SKIP() << "no SIMD softmax for " << isa_name(GetParam());
  testing_util::Rng rng(5);
  for (const int64_t rows : {1, 3, 8, 17, 33}) {
    for (const int64_t keys : {1, 7, 32}) {
      const int64_t rs = (rows + 15) / 16 * 16;
      std::vector<float> s(static_cast<size_t>(keys * rs) + 16);
      float* sa = s.data() + (16 - reinterpret_cast<uintptr_t>(s.data()) / 4 % 16) % 16;  // 64-byte aligned
      std::vector<int32_t> j0(static_cast<size_t>(rows)), j1(j0.size());
      std::vector<float> m(j0.size()), l(j0.size());
      for (int64_t r = 0; r < rows; ++r) {
        const auto a = static_cast<int32_t>(rng.next() % static_cast<uint64_t>(keys + 1));
        const auto b = static_cast<int32_t>(rng.next() % static_cast<uint64_t>(keys + 1));
        j0[static_cast<size_t>(r)] = std::min(a, b);
        j1[static_cast<size_t>(r)] = r % 5 == 0 ? static_cast<int32_t>(keys) : std::max(a, b);
        m[static_cast<size_t>(r)] = r % 3 == 0 ? -INFINITY : rng.uniform(-4.0f, 4.0f);
        l[static_cast<size_t>(r)] = r % 3 == 0 ? 0.0f : rng.uniform(0.5f, 9.0f);
      }
      for (int64_t i = 0; i < keys * rs; ++i) {
        const uint64_t u = rng.next() % 64;
        sa[i] = u == 0 ? -INFINITY : u == 1 ? NAN : u < 8 ? 1.5f : rng.uniform(-30.0f, 30.0f);
      }
      std::vector<float> want_m = m, want_l = l, got_m = m, got_l = l;
      std::vector<float> want_sc(static_cast<size_t>(keys * rs)), want_w(want_sc.size());
      std::vector<float> got_storage(2 * want_sc.size() + 32);
      float* got_sc = got_storage.data() + (16 - reinterpret_cast<uintptr_t>(got_storage.data()) / 4 % 16) % 16;
      float* got_w = got_sc + (want_sc.size() + 15) / 16 * 16;
      const float scale = 0.37f;
      for (int64_t r = 0; r < rows; ++r) {
        const auto ri = static_cast<size_t>(r);
        for (int64_t j = 0; j < keys; ++j) {
          float sc = 1.0f, w = 0.0f;
          if (j >= j0[ri] && j < j1[ri]) {
            const float x = sa[j * rs + r] * scale;
            w = 1.0f;
            if (x > want_m[ri]) {
              sc = exp_f32(want_m[ri] - x);
              want_m[ri] = x;
            } else {
              w = exp_f32(x - want_m[ri]);
            }
            want_l[ri] = want_l[ri] * sc + w;
          }
          want_sc[static_cast<size_t>(j * rs + r)] = sc;
          want_w[static_cast<size_t>(j * rs + r)] = w;
        }
      }
      k->softmax(AttnSoftmaxTask{sa, rows, keys, j0.data(), j1.data(), scale, got_m.data(), got_l.data(), got_sc, got_w, rs});
      for (int64_t r = 0; r < rows; ++r) {
        const auto ri = static_cast<size_t>(r);
        ASSERT_TRUE(same_bits(got_m[ri], want_m[ri])) << rows << "x" << keys << " row " << r;
        ASSERT_TRUE(same_bits(got_l[ri], want_l[ri])) << rows << "x" << keys << " row " << r;
        for (int64_t j = 0; j < keys; ++j) {
          const auto e = static_cast<size_t>(j * rs + r);
          ASSERT_TRUE(same_bits(got_sc[e], want_sc[e])) << rows << "x" << keys << " row " << r << " key " << j;
          ASSERT_TRUE(same_bits(got_w[e], want_w[e])) << rows << "x" << keys << " row " << r << " key " << j;
        }
      }
    }
  }
}

std::string isa_param_name(const ::testing::TestParamInfo<Isa>& info) { return isa_name(info.param); }

INSTANTIATE_TEST_SUITE_P(Isa, Attention, ::testing::ValuesIn(kAllIsas), isa_param_name);

// The reference itself: a zero query weighs every visible value equally,
// and one dominant score picks its value.
TEST(AttentionReference, UniformAndOneHot) {
  const int64_t D = 4, n = 3;
  std::vector<float> k(static_cast<size_t>(n * D), 0.0f), v = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  k[static_cast<size_t>(2 * D)] = 100.0f;  // key 2 points along dimension 0
  AttentionShape shape{1, 1, D, 1.0f, 0.0f};
  std::vector<float> q(static_cast<size_t>(D), 0.0f), out(static_cast<size_t>(D));
  AttentionQuery query{q.data(), out.data(), 0, n - 1,
                       KvRows{DType::F32, reinterpret_cast<const uint8_t*>(k.data()), reinterpret_cast<const uint8_t*>(v.data()), D * sizeof(float)}};
  attention_reference(shape, query);
  for (int64_t d = 0; d < D; ++d) EXPECT_FLOAT_EQ(out[static_cast<size_t>(d)], static_cast<float>(5 + d));
  q[0] = 1.0f;
  attention_reference(shape, query);
  for (int64_t d = 0; d < D; ++d) EXPECT_NEAR(out[static_cast<size_t>(d)], static_cast<float>(9 + d), 1e-30);
  query.last = 1;  // key 2 masked out: uniform over keys 0 and 1
  attention_reference(shape, query);
  for (int64_t d = 0; d < D; ++d) EXPECT_FLOAT_EQ(out[static_cast<size_t>(d)], static_cast<float>(3 + d));
}

}  // namespace
}  // namespace nomoat::kernels
