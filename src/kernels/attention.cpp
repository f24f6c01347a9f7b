// Attention dispatcher (design: attention.h): query blocks, chunks, the
// online softmax and the merge of chunk states, the task split over the
// thread pool, the portable kernels and the scalar reference. Built with the
// baseline flags: the float operations of the softmax here are the ones the
// reference performs; only the score and value loops run ISA code.
#include "kernels/attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "base/aligned.h"
#include "base/error.h"
#include "base/fp16.h"
#include "base/thread_pool.h"
#include "kernels/attention_isa.h"
#include "kernels/exp_f32.h"
#include "tensor/blocks.h"

namespace nomoat::kernels {
namespace {

constexpr int64_t KB = kAttnKeyBlock;
// Rows (query x head) per block: enough to reuse each loaded key/value row
// many times, few enough that a block's scores and accumulators stay in L1.
constexpr int64_t kRowsPerBlock = 32;
// Threads only above kMinParallelWork (fast_matmul.h) multiply-adds,
// scores plus values.

int64_t pad16(int64_t n) { return (n + 15) / 16 * 16; }

float round_f16(float x) { return fp16_to_f32(f32_to_fp16(x)); }

float value_at(const AttnRows& rows, int64_t i, int64_t d) {
  const uint8_t* row = static_cast<const uint8_t*>(rows.base) + static_cast<size_t>(i) * rows.stride;
  return rows.f16 ? fp16_to_f32(reinterpret_cast<const uint16_t*>(row)[d]) : reinterpret_cast<const float*>(row)[d];
}

// Portable kernels (Isa::Scalar, and targets without SIMD kernels yet).
void scores_portable(const AttnScoresTask& t) {
  for (int64_t r = 0; r < t.n_rows; ++r) {
    const float* q = t.q + r * t.q_stride;
    for (int64_t j = 0; j < t.n_keys; ++j) {
      double dot = 0.0;
      for (int64_t d = 0; d < t.head_dim; ++d) dot += static_cast<double>(q[d]) * value_at(t.k, j, d);
      t.s[j * t.row_stride + r] = static_cast<float>(dot);
    }
  }
}

// The reference's float steps per key (baseline flags: nothing is fused).
void softmax_portable(const AttnSoftmaxTask& t) {
  for (int64_t r = 0; r < t.n_rows; ++r) {
    float m = t.m[r], l = t.l[r];
    for (int64_t j = 0; j < t.n_keys; ++j) {
      float old_scale = 1.0f, w = 0.0f;
      if (j >= t.j0[r] && j < t.j1[r]) {
        const float x = t.s[j * t.row_stride + r] * t.scale;
        w = 1.0f;
        if (x > m) {
          old_scale = exp_f32(m - x);
          m = x;
        } else {
          w = exp_f32(x - m);
        }
        l = l * old_scale + w;
      }
      t.rescale[j * t.row_stride + r] = old_scale;
      t.weight[j * t.row_stride + r] = w;
    }
    t.m[r] = m;
    t.l[r] = l;
  }
}

void accumulate_portable(const AttnAccumulateTask& t) {
  const int64_t D = t.head_dim;
  for (int64_t r = 0; r < t.n_rows; ++r) {
    float* acc = t.acc + r * t.acc_stride;
    for (int32_t j = t.j0[r]; j < t.j1[r]; ++j) {
      const float sc = t.rescale[j * t.row_stride + r], w = t.weight[j * t.row_stride + r];
      if (sc != 1.0f) {
        for (int64_t d = 0; d < D; ++d) acc[d] = t.round_f16 ? round_f16(acc[d] * sc) : acc[d] * sc;
      }
      for (int64_t d = 0; d < D; ++d) {
        const float a = std::fma(value_at(t.v, j, d), w, acc[d]);
        acc[d] = t.round_f16 ? round_f16(a) : a;
      }
    }
  }
}

void exp_portable(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = exp_f32(x[i]);
}

const AttentionIsaKernels kPortable = {&scores_portable, &softmax_portable, &accumulate_portable, &exp_portable};

// The kernels of `isa` where it has them, the portable ones elsewhere.
AttentionIsaKernels kernels_for(Isa isa) {
  AttentionIsaKernels k = kPortable;
  const AttentionIsaKernels* simd = nullptr;
  if (isa == Isa::Avx512 && isa_supported(isa)) simd = &kAttnAvx512Kernels;
  if (isa == Isa::Avx2 && isa_supported(isa)) simd = &kAttnAvx2Kernels;
  if (simd) {
    if (simd->scores) k.scores = simd->scores;
    if (simd->softmax) k.softmax = simd->softmax;
    if (simd->accumulate) k.accumulate = simd->accumulate;
    if (simd->exp) k.exp = simd->exp;
  }
  return k;
}

// Values [c0, c0 + n) of a Q8_0 row as floats (d * q, like dequantize_q8_0).
void dequantize_q8_0_cols(const uint8_t* row, int64_t c0, int64_t n, float* out) {
  const auto* blocks = reinterpret_cast<const BlockQ8_0*>(row);
  for (int64_t c = c0; c < c0 + n;) {
    const BlockQ8_0& b = blocks[c / kQK];
    const float d = fp16_to_f32(b.d);
    const int64_t end = std::min(c0 + n, (c / kQK + 1) * kQK);
    for (; c < end; ++c) out[c - c0] = static_cast<float>(b.qs[c % kQK]) * d;
  }
}

// Online-softmax state of n rows: running max, sum of weights, and the
// weighted sum of values (stride pad16(head_dim), pad lanes zero). l == 0
// marks a row that has taken no key yet.
struct RowStates {
  std::vector<float> m, l, acc;
  void reset(int64_t rows, int64_t stride) {
    m.assign(static_cast<size_t>(rows), -INFINITY);
    l.assign(static_cast<size_t>(rows), 0.0f);
    acc.assign(static_cast<size_t>(rows * stride), 0.0f);
  }
};

// A run of queries of one sequence, and the key positions any of them sees.
struct Block {
  int64_t begin = 0, end = 0;  // into Plan::order
  int64_t lo = 0, hi = 0;      // key positions [lo, hi)
  int64_t first_chunk() const { return lo / kAttnChunk; }
  int64_t n_chunks() const { return (hi - 1) / kAttnChunk - first_chunk() + 1; }
};

struct Plan {
  AttentionShape shape;
  const AttentionQuery* queries = nullptr;
  AttentionIsaKernels kernels{};
  std::vector<int64_t> order;  // query indices, grouped by sequence
  std::vector<Block> blocks;
  int64_t group = 1, D = 0, stride = 0;
  int64_t rows(const Block& b) const { return (b.end - b.begin) * group; }
};

// Per-thread buffers, reused across calls. s, rescale and weight are
// key-major with row stride rs (attention_isa.h); they, qt and keys are
// 64-byte aligned (the SIMD kernels load 16 rows of one key, and the
// transposed queries, with aligned loads).
struct Scratch {
  std::vector<float> q, k_rows, v_rows, s_storage, rescale_storage, weight_storage;
  std::vector<double> qt_storage, keys_storage;
  std::vector<int32_t> j0, j1;
  RowStates chunk, total;
  float *s = nullptr, *rescale = nullptr, *weight = nullptr;
  double *qt = nullptr, *keys = nullptr;
  int64_t rs = 0;
  void size_for(int64_t rows, int64_t stride, int64_t D) {
    rs = pad16(rows);
    q.resize(static_cast<size_t>(rows * stride));
    s = aligned_scratch(s_storage, static_cast<size_t>(KB * rs));
    rescale = aligned_scratch(rescale_storage, static_cast<size_t>(KB * rs));
    weight = aligned_scratch(weight_storage, static_cast<size_t>(KB * rs));
    qt = aligned_scratch(qt_storage, static_cast<size_t>(D * rs));
    keys = aligned_scratch(keys_storage, static_cast<size_t>(D * KB + 8));
    j0.resize(static_cast<size_t>(rows));
    j1.resize(static_cast<size_t>(rows));
    k_rows.resize(static_cast<size_t>(KB * D));
    v_rows.resize(k_rows.size());
  }
};

// The query rows of block b for KV head kvh, rounded to fp16 for an F16
// cache (the reference multiplies a half cache in half precision): row-major
// floats in sc.q, and transposed doubles in sc.qt (pad rows zero).
void load_queries(const Plan& p, const Block& b, int64_t kvh, Scratch& sc) {
  const bool f16 = p.queries[p.order[static_cast<size_t>(b.begin)]].kv.type == DType::F16;
  std::fill(sc.q.begin(), sc.q.end(), 0.0f);
  std::fill(sc.qt, sc.qt + p.D * sc.rs, 0.0);
  for (int64_t i = b.begin; i < b.end; ++i) {
    const AttentionQuery& query = p.queries[p.order[static_cast<size_t>(i)]];
    for (int64_t g = 0; g < p.group; ++g) {
      const float* src = query.q + (kvh * p.group + g) * p.D;
      const int64_t r = (i - b.begin) * p.group + g;
      float* dst = &sc.q[static_cast<size_t>(r * p.stride)];
      for (int64_t d = 0; d < p.D; ++d) {
        dst[d] = f16 ? round_f16(src[d]) : src[d];
        sc.qt[d * sc.rs + r] = dst[d];
      }
    }
  }
}

// Key or value rows [p0, p0 + n) of KV head kvh as the kernels read them:
// F16/F32 in place, Q8_0 dequantized into `buf`.
AttnRows kv_rows(const Plan& p, const KvRows& kv, const uint8_t* base, int64_t kvh, int64_t p0, int64_t n,
                 std::vector<float>& buf) {
  const uint8_t* row0 = base + static_cast<size_t>(p0) * kv.row_bytes;
  if (kv.type == DType::F16) return AttnRows{row0 + static_cast<size_t>(kvh * p.D) * 2, kv.row_bytes, true};
  if (kv.type == DType::F32) return AttnRows{row0 + static_cast<size_t>(kvh * p.D) * 4, kv.row_bytes, false};
  for (int64_t i = 0; i < n; ++i) {
    dequantize_q8_0_cols(row0 + static_cast<size_t>(i) * kv.row_bytes, kvh * p.D, p.D, &buf[static_cast<size_t>(i * p.D)]);
  }
  return AttnRows{buf.data(), static_cast<size_t>(p.D) * sizeof(float), false};
}

// Keys of chunk c (within the block's range) into a fresh state `st`, for
// the query rows already in sc.q.
void run_chunk(const Plan& p, const Block& b, int64_t kvh, int64_t c, Scratch& sc, RowStates& st) {
  const int64_t rows = p.rows(b);
  st.reset(rows, p.stride);
  const KvRows& kv = p.queries[p.order[static_cast<size_t>(b.begin)]].kv;
  const bool f16 = kv.type == DType::F16;
  const float scale = p.shape.scale, cap = p.shape.softcap;
  const int64_t k_end = std::min(b.hi, (c + 1) * kAttnChunk);
  for (int64_t k0 = std::max(b.lo, c * kAttnChunk); k0 < k_end; k0 += KB) {
    const int64_t nk = std::min(KB, k_end - k0);
    bool any = false;
    for (int64_t r = 0; r < rows; ++r) {
      const AttentionQuery& query = p.queries[p.order[static_cast<size_t>(b.begin + r / p.group)]];
      const int64_t j0 = std::clamp<int64_t>(query.first - k0, 0, nk);
      const int64_t j1 = std::clamp<int64_t>(query.last + 1 - k0, 0, nk);
      sc.j0[static_cast<size_t>(r)] = static_cast<int32_t>(j0 < j1 ? j0 : 0);
      sc.j1[static_cast<size_t>(r)] = static_cast<int32_t>(j0 < j1 ? j1 : 0);
      any = any || j0 < j1;
    }
    if (!any) continue;
    const AttnRows keys = kv_rows(p, kv, kv.k, kvh, k0, nk, sc.k_rows);
    p.kernels.scores(AttnScoresTask{sc.q.data(), p.stride, sc.qt, rows, p.D, keys, nk, sc.keys, sc.s, sc.rs});
    float softmax_scale = scale;
    if (cap > 0) {
      // The soft-cap (tanh) stays scalar; the softmax then scales by 1.
      for (int64_t r = 0; r < rows; ++r) {
        for (int32_t j = sc.j0[static_cast<size_t>(r)]; j < sc.j1[static_cast<size_t>(r)]; ++j) {
          float& x = sc.s[j * sc.rs + r];
          x = cap * std::tanh(x * scale / cap);
        }
      }
      softmax_scale = 1.0f;
    }
    p.kernels.softmax(AttnSoftmaxTask{sc.s, rows, nk, sc.j0.data(), sc.j1.data(), softmax_scale, st.m.data(),
                                      st.l.data(), sc.rescale, sc.weight, sc.rs});
    const AttnRows values = kv_rows(p, kv, kv.v, kvh, k0, nk, sc.v_rows);
    p.kernels.accumulate(AttnAccumulateTask{rows, p.D, values, sc.j0.data(), sc.j1.data(), sc.rescale, sc.weight,
                                            sc.rs, f16, st.acc.data(), p.stride});
  }
}

// total = total (+) part, both online-softmax states of the same rows.
void merge(RowStates& total, const RowStates& part, int64_t rows, int64_t stride) {
  for (int64_t r = 0; r < rows; ++r) {
    const auto ri = static_cast<size_t>(r);
    if (part.l[ri] == 0.0f) continue;
    float* acc = &total.acc[static_cast<size_t>(r * stride)];
    const float* add = &part.acc[static_cast<size_t>(r * stride)];
    if (total.l[ri] == 0.0f) {
      std::copy_n(add, stride, acc);
      total.m[ri] = part.m[ri];
      total.l[ri] = part.l[ri];
      continue;
    }
    const float m = std::max(total.m[ri], part.m[ri]);
    const float a = exp_f32(total.m[ri] - m), b = exp_f32(part.m[ri] - m);
    for (int64_t d = 0; d < stride; ++d) acc[d] = acc[d] * a + add[d] * b;
    total.l[ri] = total.l[ri] * a + part.l[ri] * b;
    total.m[ri] = m;
  }
}

// Outputs of block b for KV head kvh: acc / l, as the reference divides.
void write_outputs(const Plan& p, const Block& b, int64_t kvh, const RowStates& st) {
  for (int64_t r = 0; r < p.rows(b); ++r) {
    const AttentionQuery& query = p.queries[p.order[static_cast<size_t>(b.begin + r / p.group)]];
    float* out = query.out + (kvh * p.group + r % p.group) * p.D;
    const float inv_sum = 1.0f / st.l[static_cast<size_t>(r)];
    const float* acc = &st.acc[static_cast<size_t>(r * p.stride)];
    for (int64_t d = 0; d < p.D; ++d) out[d] = acc[d] * inv_sum;
  }
}

Plan make_plan(Isa isa, const AttentionShape& shape, const AttentionQuery* queries, int64_t n) {
  Plan p;
  p.shape = shape;
  p.queries = queries;
  p.kernels = kernels_for(isa);
  p.group = shape.n_head / shape.n_head_kv;
  p.D = shape.head_dim;
  p.stride = pad16(p.D);
  // Group by sequence (same key rows), keeping batch order within one.
  p.order.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) p.order[static_cast<size_t>(i)] = i;
  std::vector<const uint8_t*> first_seen;
  std::vector<size_t> rank(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const auto it = std::find(first_seen.begin(), first_seen.end(), queries[i].kv.k);
    rank[static_cast<size_t>(i)] = static_cast<size_t>(it - first_seen.begin());
    if (it == first_seen.end()) first_seen.push_back(queries[i].kv.k);
  }
  std::stable_sort(p.order.begin(), p.order.end(), [&](int64_t a, int64_t b) { return rank[static_cast<size_t>(a)] < rank[static_cast<size_t>(b)]; });
  const int64_t per_block = std::max<int64_t>(1, kRowsPerBlock / p.group);
  for (int64_t i = 0; i < n;) {
    Block b;
    b.begin = i;
    b.lo = queries[p.order[static_cast<size_t>(i)]].first;
    const uint8_t* seq = queries[p.order[static_cast<size_t>(i)]].kv.k;
    for (; i < n && i - b.begin < per_block && queries[p.order[static_cast<size_t>(i)]].kv.k == seq; ++i) {
      const AttentionQuery& q = queries[p.order[static_cast<size_t>(i)]];
      b.lo = std::min(b.lo, q.first);
      b.hi = std::max(b.hi, q.last + 1);
    }
    b.end = i;
    p.blocks.push_back(b);
  }
  return p;
}

}  // namespace

void attention(Isa isa, const AttentionShape& shape, const AttentionQuery* queries, int64_t n_queries, int threads) {
  if (n_queries <= 0) return;
  if (shape.n_head_kv <= 0 || shape.n_head % shape.n_head_kv != 0 || shape.head_dim <= 0) {
    fail("attention: ", shape.n_head, " heads cannot share ", shape.n_head_kv, " KV heads");
  }
  for (int64_t i = 0; i < n_queries; ++i) {
    const AttentionQuery& q = queries[i];
    if (q.first < 0 || q.first > q.last) fail("attention: empty key range [", q.first, ", ", q.last, "]");
    if (q.kv.type != DType::F16 && q.kv.type != DType::F32 && q.kv.type != DType::Q8_0) {
      fail("attention: KV cache type ", dtype_name(q.kv.type), " is not supported");
    }
  }
  const Plan p = make_plan(isa, shape, queries, n_queries);
  const auto n_blocks = static_cast<int64_t>(p.blocks.size());
  const int64_t n_kv = shape.n_head_kv;
  int64_t work = 0, max_chunks = 1;
  for (const Block& b : p.blocks) {
    work += p.rows(b) * (b.hi - b.lo) * p.D * 2;
    max_chunks = std::max(max_chunks, b.n_chunks());
  }
  ThreadPool& pool = ThreadPool::global();
  const int n_threads = work < kMinParallelWork ? 1 : std::max(1, std::min(threads, pool.size()));

  // Latest blocks first: they see the most keys, and dynamic claiming then
  // fills the tail with short ones.
  auto block_of = [&](int64_t u) -> const Block& { return p.blocks[static_cast<size_t>(n_blocks - 1 - u)]; };
  if (n_threads == 1 || max_chunks == 1 || n_blocks * n_kv >= 4 * n_threads) {
    // One task per (block, KV head); chunks merged in order inside it.
    pool.run(
        n_blocks * n_kv,
        [&](int64_t task) {
          thread_local Scratch sc;
          const Block& b = block_of(task / n_kv);
          const int64_t kvh = task % n_kv;
          sc.size_for(p.rows(b), p.stride, p.D);
          load_queries(p, b, kvh, sc);
          if (b.n_chunks() == 1) {
            run_chunk(p, b, kvh, b.first_chunk(), sc, sc.total);
          } else {
            sc.total.reset(p.rows(b), p.stride);
            for (int64_t c = b.first_chunk(); c < b.first_chunk() + b.n_chunks(); ++c) {
              run_chunk(p, b, kvh, c, sc, sc.chunk);
              merge(sc.total, sc.chunk, p.rows(b), p.stride);
            }
          }
          write_outputs(p, b, kvh, sc.total);
        },
        n_threads);
    return;
  }
  // Split-K: few (block, KV head) pairs over long contexts (one query per
  // sequence while generating). Each chunk is its own task; the states are
  // then merged in chunk order, the same arithmetic as above.
  std::vector<int64_t> unit_start(static_cast<size_t>(n_blocks * n_kv) + 1, 0);
  std::vector<int64_t> state_offset(unit_start.size(), 0);
  for (int64_t u = 0; u < n_blocks * n_kv; ++u) {
    const Block& b = block_of(u / n_kv);
    unit_start[static_cast<size_t>(u) + 1] = unit_start[static_cast<size_t>(u)] + b.n_chunks();
  }
  const int64_t n_tasks = unit_start.back();
  std::vector<RowStates> states(static_cast<size_t>(n_tasks));
  pool.run(
      n_tasks,
      [&](int64_t task) {
        thread_local Scratch sc;
        const int64_t u = std::upper_bound(unit_start.begin(), unit_start.end(), task) - unit_start.begin() - 1;
        const Block& b = block_of(u / n_kv);
        const int64_t kvh = u % n_kv;
        sc.size_for(p.rows(b), p.stride, p.D);
        load_queries(p, b, kvh, sc);
        run_chunk(p, b, kvh, b.first_chunk() + task - unit_start[static_cast<size_t>(u)], sc,
                  states[static_cast<size_t>(task)]);
      },
      n_threads);
  for (int64_t u = 0; u < n_blocks * n_kv; ++u) {
    const Block& b = block_of(u / n_kv);
    RowStates total;
    total.reset(p.rows(b), p.stride);
    for (int64_t t = unit_start[static_cast<size_t>(u)]; t < unit_start[static_cast<size_t>(u) + 1]; ++t) {
      merge(total, states[static_cast<size_t>(t)], p.rows(b), p.stride);
    }
    write_outputs(p, b, u % n_kv, total);
  }
}

void attention_reference(const AttentionShape& s, const AttentionQuery& query) {
  const int64_t D = s.head_dim, KV = s.n_head_kv * D, group = s.n_head / s.n_head_kv;
  const int64_t n = query.last + 1 - query.first;
  const DequantizeFn dequantize = dtype_traits(query.kv.type).dequantize;
  std::vector<float> k(static_cast<size_t>(n * KV)), v(k.size());
  for (int64_t p = 0; p < n; ++p) {
    const size_t offset = static_cast<size_t>(query.first + p) * query.kv.row_bytes;
    dequantize(query.kv.k + offset, &k[static_cast<size_t>(p * KV)], KV);
    dequantize(query.kv.v + offset, &v[static_cast<size_t>(p * KV)], KV);
  }
  const bool f16_cache = query.kv.type == DType::F16;
  std::vector<float> scores(static_cast<size_t>(n)), acc16(static_cast<size_t>(D)), q_rounded(static_cast<size_t>(D));
  for (int64_t hh = 0; hh < s.n_head; ++hh) {
    const float* qh = query.q + hh * D;
    if (f16_cache) {
      // A half-precision cache is multiplied in half precision: the query
      // and the attention weights are rounded to it first, as fp16
      // dot-product kernels (and other engines) do.
      for (int64_t d = 0; d < D; ++d) q_rounded[static_cast<size_t>(d)] = round_f16(qh[d]);
      qh = q_rounded.data();
    }
    const int64_t kvh = hh / group;
    for (int64_t p = 0; p < n; ++p) {
      const float* kp = &k[static_cast<size_t>(p * KV + kvh * D)];
      double dot = 0.0;
      for (int64_t d = 0; d < D; ++d) dot += static_cast<double>(qh[d]) * kp[d];
      float x = static_cast<float>(dot) * s.scale;
      if (s.softcap > 0) x = s.softcap * std::tanh(x / s.softcap);
      scores[static_cast<size_t>(p)] = x;
    }
    float* out = query.out + hh * D;
    if (f16_cache) {
      // Online softmax with the weighted sum of values kept in fp16,
      // rounded after every update, as fp16 flash-attention kernels (other
      // engines' CPU default) compute it.
      float running_max = -INFINITY, sum = 0.0f;
      acc16.assign(static_cast<size_t>(D), 0.0f);
      for (int64_t p = 0; p < n; ++p) {
        const float sc = scores[static_cast<size_t>(p)];
        float old_scale = 1.0f, weight = 1.0f;
        if (sc > running_max) {
          old_scale = exp_f32(running_max - sc);
          running_max = sc;
          for (float& a : acc16) a = round_f16(a * old_scale);
        } else {
          weight = exp_f32(sc - running_max);
        }
        const float* vp = &v[static_cast<size_t>(p * KV + kvh * D)];
        for (int64_t d = 0; d < D; ++d) acc16[static_cast<size_t>(d)] = round_f16(std::fma(vp[d], weight, acc16[static_cast<size_t>(d)]));
        sum = sum * old_scale + weight;
      }
      const float inv_sum = 1.0f / sum;
      for (int64_t d = 0; d < D; ++d) out[d] = acc16[static_cast<size_t>(d)] * inv_sum;
      continue;
    }
    // Two passes: max, then exp with a double sum.
    float max = scores[0];
    for (int64_t p = 1; p < n; ++p) max = std::max(max, scores[static_cast<size_t>(p)]);
    double sum = 0.0;
    for (int64_t p = 0; p < n; ++p) {
      scores[static_cast<size_t>(p)] = exp_f32(scores[static_cast<size_t>(p)] - max);
      sum += scores[static_cast<size_t>(p)];
    }
    const float inv = static_cast<float>(1.0 / sum);
    std::fill(out, out + D, 0.0f);
    for (int64_t p = 0; p < n; ++p) {
      const float w = scores[static_cast<size_t>(p)] * inv;
      const float* vp = &v[static_cast<size_t>(p * KV + kvh * D)];
      for (int64_t d = 0; d < D; ++d) out[d] += w * vp[d];
    }
  }
}

}  // namespace nomoat::kernels
