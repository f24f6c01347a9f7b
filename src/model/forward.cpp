#include "model/forward.h"

#include <algorithm>
#include <cmath>

#include "base/error.h"
#include "base/thread_pool.h"
#include "kernels/attention.h"
#include "kernels/ops.h"
#include "model/forward_ffn.h"
#include "model/rope_scaling.h"

namespace nomoat {
namespace {

// Adds a bias vector to each of n rows (no-op when the bias is empty).
void add_bias(float* rows, int64_t n, const std::vector<float>& bias) {
  if (bias.empty()) return;
  const auto width = static_cast<int64_t>(bias.size());
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t i = 0; i < width; ++i) rows[t * width + i] += bias[static_cast<size_t>(i)];
  }
}

float softcap(float x, float cap) { return cap > 0 ? cap * std::tanh(x / cap) : x; }

// RMSNorm of each of n rows of `width` values, in place (empty weight: no-op).
void norm_rows(float* rows, int64_t n, int64_t width, const std::vector<float>& weight, float eps) {
  if (weight.empty()) return;
  for (int64_t r = 0; r < n; ++r) kernels::rms_norm(rows + r * width, weight.data(), width, eps, rows + r * width);
}

// Splits a fused projection's T rows of [q; k; v] into q, k and v.
void split_qkv(const std::vector<float>& qkv, int64_t T, int64_t Q, int64_t KV, float* q, float* k, float* v) {
  for (int64_t t = 0; t < T; ++t) {
    const float* row = &qkv[static_cast<size_t>(t * (Q + 2 * KV))];
    std::copy_n(row, Q, q + t * Q);
    std::copy_n(row + Q, KV, k + t * KV);
    std::copy_n(row + Q + KV, KV, v + t * KV);
  }
}

// fn(t0, t1) over ranges of the batch's T entries, on the pool when the
// batch is a prompt: per-token norms, RoPE and residual adds were ~3 % of a
// 512-token prompt on one thread, with the other thread idle meanwhile.
template <class Fn>
void for_token_ranges(int64_t T, int threads, const Fn& fn) {
  if (threads <= 1 || T < 8) {
    fn(int64_t{0}, T);
    return;
  }
  const int64_t n_tasks = std::min<int64_t>(T, 4 * static_cast<int64_t>(threads));
  ThreadPool::global().run(n_tasks, [&](int64_t i) { fn(T * i / n_tasks, T * (i + 1) / n_tasks); }, threads);
}

}  // namespace

std::vector<float> forward(const Model& model, KvCache& cache, std::span<const BatchEntry> batch, int threads) {
  const ModelSpec& s = model.spec();
  const auto T = static_cast<int64_t>(batch.size());
  if (T == 0) return {};
  for (const BatchEntry& e : batch) {
    cache.check(e.seq, e.pos);
    if (e.token < 0 || e.token >= s.n_vocab) fail("token id ", e.token, " is outside the vocabulary of ", s.n_vocab);
  }
  const int64_t E = s.n_embd, Q = s.q_dim(), KV = s.kv_dim(), D = s.head_dim;
  // Activations, reused across calls (every value is written before it is
  // read): fresh multi-MiB buffers would page-fault on every prompt batch.
  thread_local std::vector<float> x, h, o, q, attn, k, v, qkv;
  x.resize(static_cast<size_t>(T * E));
  h.resize(x.size());
  o.resize(x.size());
  q.resize(static_cast<size_t>(T * Q));
  attn.resize(q.size());
  k.resize(static_cast<size_t>(T * KV));
  v.resize(k.size());

  for (int64_t t = 0; t < T; ++t) {
    kernels::dequantize_row(model.token_embd, batch[static_cast<size_t>(t)].token, &x[static_cast<size_t>(t * E)]);
    if (s.embedding_scale != 1.0f) {
      for (int64_t i = 0; i < E; ++i) x[static_cast<size_t>(t * E + i)] *= s.embedding_scale;
    }
  }

  const bool neox = s.rope_style == RopeStyle::kNeox;
  // RoPE's cos and sin depend only on the position and the layer kind:
  // computed once per entry here, shared by every head and layer.
  const int64_t half = s.rope_dim / 2;
  auto cos_sin = [&](bool local) {
    const RopeTable table = rope_table(model, local, cache.n_ctx());
    std::vector<float> cs(static_cast<size_t>(T * 2 * half));
    for (int64_t t = 0; t < T; ++t) {
      float* c = &cs[static_cast<size_t>(t * 2 * half)];
      kernels::rope_cos_sin(half, batch[static_cast<size_t>(t)].pos, table.freq.data(), table.mscale, c, c + half);
    }
    return cs;
  };
  const std::vector<float> cs_global = cos_sin(false);
  const std::vector<float> cs_local = s.sliding_window > 0 ? cos_sin(true) : std::vector<float>{};
  kernels::AttentionShape shape;
  shape.n_head = s.n_head;
  shape.n_head_kv = s.n_head_kv;
  shape.head_dim = D;
  shape.scale = s.attn_scale > 0 ? s.attn_scale : 1.0f / std::sqrt(static_cast<float>(D));
  shape.softcap = s.attn_logit_softcap;
  std::vector<kernels::AttentionQuery> queries(static_cast<size_t>(T));

  // The buffers are thread_local: code running on pool threads must reach
  // this thread's copies through these pointers, never by name.
  float* const xs = x.data();
  float* const hs = h.data();
  float* const os = o.data();
  float* const qs = q.data();
  float* const ks = k.data();
  float* const vs = v.data();
  float* const attns = attn.data();
  // x += o, then h = RMSNorm(x) with `weight`, token by token (one pass).
  const auto add_and_norm = [&](bool add, const std::vector<float>& weight) {
    for_token_ranges(T, threads, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        float* xt = xs + t * E;
        if (add) {
          const float* ot = os + t * E;
          for (int64_t i = 0; i < E; ++i) xt[i] += ot[i];
        }
        kernels::rms_norm(xt, weight.data(), E, s.norm_eps, hs + t * E);
      }
    });
  };
  bool ffn_pending = false;  // o holds the last layer's FFN output, not yet added to x
  for (int64_t il = 0; il < s.n_layer; ++il) {
    const LayerWeights& L = model.layers[static_cast<size_t>(il)];
    add_and_norm(ffn_pending, L.attn_norm);
    if (!L.wqkv.empty()) {
      qkv.resize(static_cast<size_t>(T * (Q + 2 * KV)));
      kernels::matmul(L.wqkv, h.data(), T, qkv.data(), threads);
      split_qkv(qkv, T, Q, KV, q.data(), k.data(), v.data());
    } else {
      const MatrixView* w[] = {&L.wq, &L.wk, &L.wv};
      float* y[] = {q.data(), k.data(), v.data()};
      kernels::matmul_shared_input(w, h.data(), T, y, threads);
    }
    add_bias(q.data(), T, L.bq);
    add_bias(k.data(), T, L.bk);
    add_bias(v.data(), T, L.bv);
    // Per-head q/k norms (Qwen3, Gemma 3) come before RoPE.
    norm_rows(q.data(), T * s.n_head, D, L.q_norm, s.norm_eps);
    norm_rows(k.data(), T * s.n_head_kv, D, L.k_norm, s.norm_eps);
    const bool local = s.is_local_layer(il);
    const std::vector<float>& cs = local ? cs_local : cs_global;
    for_token_ranges(T, threads, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        const BatchEntry& e = batch[static_cast<size_t>(t)];
        const float* c = &cs[static_cast<size_t>(t * 2 * half)];
        for (int64_t hh = 0; hh < s.n_head; ++hh) kernels::rope_apply(qs + t * Q + hh * D, s.rope_dim, c, c + half, neox);
        for (int64_t hh = 0; hh < s.n_head_kv; ++hh) kernels::rope_apply(ks + t * KV + hh * D, s.rope_dim, c, c + half, neox);
        // A local layer sees positions [pos - window + 1, pos].
        const int64_t first = local ? std::max<int64_t>(0, e.pos - s.sliding_window + 1) : 0;
        queries[static_cast<size_t>(t)] = kernels::AttentionQuery{qs + t * Q, attns + t * Q, first, e.pos, cache.rows(il, e.seq)};
      }
    });
    // In batch order on this thread: a batch may name one (seq, pos) twice,
    // and then the last entry's row must win, as before.
    for (int64_t t = 0; t < T; ++t) {
      const BatchEntry& e = batch[static_cast<size_t>(t)];
      cache.store(il, e.seq, e.pos, ks + t * KV, vs + t * KV);
    }
    kernels::attention(kernels::active_isa(), shape, queries.data(), T, threads);
    kernels::matmul(L.wo, attn.data(), T, o.data(), threads);
    norm_rows(o.data(), T, E, L.post_attn_norm, s.norm_eps);  // Gemma: each branch's output is normalised too
    add_and_norm(true, L.ffn_norm);
    feed_forward(s, L, h.data(), T, o.data(), threads);
    norm_rows(o.data(), T, E, L.post_ffn_norm, s.norm_eps);
    ffn_pending = true;  // added with the next layer's norm, or below
  }
  if (ffn_pending) {
    for_token_ranges(T, threads, [&](int64_t t0, int64_t t1) {
      for (int64_t i = t0 * E; i < t1 * E; ++i) xs[i] += os[i];
    });
  }

  // Only the entries that want logits go through the output matrix.
  std::vector<float> selected;
  int64_t n_out = 0;
  for (int64_t t = 0; t < T; ++t) {
    if (!batch[static_cast<size_t>(t)].want_logits) continue;
    selected.resize(static_cast<size_t>((n_out + 1) * E));
    kernels::rms_norm(&x[static_cast<size_t>(t * E)], model.output_norm.data(), E, s.norm_eps, &selected[static_cast<size_t>(n_out * E)]);
    ++n_out;
  }
  std::vector<float> logits(static_cast<size_t>(n_out * s.n_vocab));
  if (n_out > 0) kernels::matmul(model.output, selected.data(), n_out, logits.data(), threads);
  if (s.final_logit_softcap > 0) {
    for (float& l : logits) l = softcap(l, s.final_logit_softcap);
  }
  return logits;
}

}  // namespace nomoat
