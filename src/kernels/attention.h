// Attention over a KV cache: scores, softmax and the weighted sum of values
// in one pass (online softmax), for a batch of queries.
//
// Numbers. attention_reference() is the plain definition (what forward.cpp
// computed before this kernel existed); attention() must match it:
//   * scores: q . k summed in double over d in order, rounded to float,
//     times `scale`, then the soft-cap cap * tanh(x / cap) when cap > 0;
//   * F16 cache: the query is rounded to fp16 first, and the weighted sum of
//     values is kept in fp16 with an online softmax, rounded after every key
//     (the reference engine's CPU flash attention does this; stories260K's
//     greedy text depends on it). attention() reproduces it bit for bit as
//     long as a query's keys lie in one chunk (below): the same sequential
//     max / exp / sum in float, the same fma and fp16 roundings. Every exp
//     here and in the reference is exp_f32 (exp_f32.h): correctly rounded
//     but for astronomically rare inputs, and the same bits in its scalar
//     and SIMD forms, so the softmax can run on 16 rows per vector;
//   * F32 and Q8_0 caches: the reference takes a two-pass softmax with a
//     double sum; attention() uses the same online softmax as F16 without
//     the fp16 roundings (float accumulation), equal within float rounding.
// Chunks: keys are split at absolute positions that are multiples of
// kAttnChunk; each chunk gets its own online-softmax state, and states are
// merged in chunk order (max, rescale, add). The boundaries depend only on
// positions, never on the thread count or how queries are batched, so
// results are deterministic; a single query over a long context can spread
// its chunks over threads (split-K).
//
// Work: queries of one sequence are grouped in blocks of a few positions;
// a block's rows are (query, head) pairs of the heads that share one KV
// head (GQA), so each key/value row is read once per block. Tasks are
// (block, KV head) — or (block, KV head, chunk) when that gives too few
// tasks for the threads — on the persistent ThreadPool. Per block of
// kAttnKeyBlock keys a task: converts keys (Q8_0 via dequantization),
// computes all rows' scores, runs the online softmax (rows in SIMD lanes,
// branch-free, the reference's float steps unfused), then accumulates
// values: three ISA kernels (attention_isa.h) exchanging key-major blocks.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/fast_matmul.h"
#include "tensor/dtype.h"

namespace nomoat::kernels {

// Key positions per chunk (see above). A query attending to at most this
// many positions (stories260K's whole context) is computed in one chunk.
constexpr int64_t kAttnChunk = 1024;

struct AttentionShape {
  int64_t n_head = 0;
  int64_t n_head_kv = 0;  // divides n_head; head h uses KV head h / (n_head / n_head_kv)
  int64_t head_dim = 0;
  float scale = 1.0f;     // multiplies q . k
  float softcap = 0.0f;   // > 0: scores become softcap * tanh(score / softcap)
};

// One sequence's keys and values in one layer: position p's key row
// (n_head_kv * head_dim values of `type`: F16, F32 or Q8_0) starts at
// k + p * row_bytes, its value row at v + p * row_bytes.
struct KvRows {
  DType type = DType::F16;
  const uint8_t* k = nullptr;
  const uint8_t* v = nullptr;
  size_t row_bytes = 0;
};

struct AttentionQuery {
  const float* q = nullptr;  // n_head * head_dim
  float* out = nullptr;      // n_head * head_dim
  int64_t first = 0;         // attends to key positions [first, last]
  int64_t last = 0;
  KvRows kv;
};

// Computes every query's output with the kernels of `isa` (Scalar: portable
// C++), on up to `threads` threads of the global pool. Queries with the same
// kv.k are treated as one sequence and blocked together.
void attention(Isa isa, const AttentionShape& shape, const AttentionQuery* queries, int64_t n_queries, int threads);

// The scalar reference, one query (all heads): plain loops, nothing shared.
void attention_reference(const AttentionShape& shape, const AttentionQuery& query);

}  // namespace nomoat::kernels
