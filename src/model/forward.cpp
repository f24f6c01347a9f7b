#include "model/forward.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "base/error.h"
#include "base/fp16.h"
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

float round_f16(float x) { return fp16_to_f32(f32_to_fp16(x)); }

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
  std::vector<float> x(static_cast<size_t>(T * E)), h(x.size()), o(x.size());
  std::vector<float> q(static_cast<size_t>(T * Q)), attn(q.size());
  std::vector<float> k(static_cast<size_t>(T * KV)), v(k.size()), qkv;

  for (int64_t t = 0; t < T; ++t) {
    kernels::dequantize_row(model.token_embd, batch[static_cast<size_t>(t)].token, &x[static_cast<size_t>(t * E)]);
    if (s.embedding_scale != 1.0f) {
      for (int64_t i = 0; i < E; ++i) x[static_cast<size_t>(t * E + i)] *= s.embedding_scale;
    }
  }

  // The longest prefix each sequence needs from the cache in this batch.
  std::map<int, int64_t> seq_len;
  for (const BatchEntry& e : batch) seq_len[e.seq] = std::max(seq_len[e.seq], e.pos + 1);
  const float scale = s.attn_scale > 0 ? s.attn_scale : 1.0f / std::sqrt(static_cast<float>(D));
  const int64_t group = s.n_head / s.n_head_kv;
  // Frequencies depend only on the layer kind and the context size.
  const RopeTable rope_global = rope_table(model, false, cache.n_ctx());
  const RopeTable rope_local = s.sliding_window > 0 ? rope_table(model, true, cache.n_ctx()) : RopeTable{};
  const bool neox = s.rope_style == RopeStyle::kNeox;
  std::vector<float> cache_k, cache_v, scores, acc16, q_rounded(static_cast<size_t>(D));
  const bool f16_cache = cache.type() == DType::F16;

  for (int64_t il = 0; il < s.n_layer; ++il) {
    const LayerWeights& L = model.layers[static_cast<size_t>(il)];
    for (int64_t t = 0; t < T; ++t) kernels::rms_norm(&x[static_cast<size_t>(t * E)], L.attn_norm.data(), E, s.norm_eps, &h[static_cast<size_t>(t * E)]);
    if (!L.wqkv.empty()) {
      qkv.resize(static_cast<size_t>(T * (Q + 2 * KV)));
      kernels::matmul(L.wqkv, h.data(), T, qkv.data(), threads);
      split_qkv(qkv, T, Q, KV, q.data(), k.data(), v.data());
    } else {
      kernels::matmul(L.wq, h.data(), T, q.data(), threads);
      kernels::matmul(L.wk, h.data(), T, k.data(), threads);
      kernels::matmul(L.wv, h.data(), T, v.data(), threads);
    }
    add_bias(q.data(), T, L.bq);
    add_bias(k.data(), T, L.bk);
    add_bias(v.data(), T, L.bv);
    // Per-head q/k norms (Qwen3, Gemma 3) come before RoPE.
    norm_rows(q.data(), T * s.n_head, D, L.q_norm, s.norm_eps);
    norm_rows(k.data(), T * s.n_head_kv, D, L.k_norm, s.norm_eps);
    const bool local = s.is_local_layer(il);
    const RopeTable& rope = local ? rope_local : rope_global;
    for (int64_t t = 0; t < T; ++t) {
      const BatchEntry& e = batch[static_cast<size_t>(t)];
      for (int64_t hh = 0; hh < s.n_head; ++hh) {
        kernels::rope(&q[static_cast<size_t>(t * Q + hh * D)], s.rope_dim, e.pos, rope.freq.data(), rope.mscale, neox);
      }
      for (int64_t hh = 0; hh < s.n_head_kv; ++hh) {
        kernels::rope(&k[static_cast<size_t>(t * KV + hh * D)], s.rope_dim, e.pos, rope.freq.data(), rope.mscale, neox);
      }
      cache.store(il, e.seq, e.pos, &k[static_cast<size_t>(t * KV)], &v[static_cast<size_t>(t * KV)]);
    }
    // Attention, one sequence at a time so its cached rows are read once.
    for (const auto& [seq, len] : seq_len) {
      cache_k.resize(static_cast<size_t>(len * KV));
      cache_v.resize(cache_k.size());
      cache.load(il, seq, len, cache_k.data(), cache_v.data());
      for (int64_t t = 0; t < T; ++t) {
        const BatchEntry& e = batch[static_cast<size_t>(t)];
        if (e.seq != seq) continue;
        // A local layer sees positions [pos - window + 1, pos]; scores and
        // the cache rows are indexed from `first` on.
        const int64_t first = local ? std::max<int64_t>(0, e.pos - s.sliding_window + 1) : 0;
        const int64_t n = e.pos + 1 - first;
        scores.resize(static_cast<size_t>(n));
        for (int64_t hh = 0; hh < s.n_head; ++hh) {
          const float* qh = &q[static_cast<size_t>(t * Q + hh * D)];
          if (f16_cache) {
            // A half-precision cache is multiplied in half precision: the
            // query and the attention weights are rounded to it first, as
            // fp16 dot-product kernels (and other engines) do.
            for (int64_t d = 0; d < D; ++d) q_rounded[static_cast<size_t>(d)] = round_f16(qh[d]);
            qh = q_rounded.data();
          }
          const int64_t kvh = hh / group;
          for (int64_t p = 0; p < n; ++p) {
            const float* kp = &cache_k[static_cast<size_t>((first + p) * KV + kvh * D)];
            double dot = 0.0;
            for (int64_t d = 0; d < D; ++d) dot += static_cast<double>(qh[d]) * kp[d];
            scores[static_cast<size_t>(p)] = softcap(static_cast<float>(dot) * scale, s.attn_logit_softcap);
          }
          float* out = &attn[static_cast<size_t>(t * Q + hh * D)];
          if (f16_cache) {
            // Half-precision cache: online softmax with the weighted sum of
            // values kept in fp16, rounded after every update, as fp16
            // flash-attention kernels (other engines' CPU default) compute it.
            float running_max = -INFINITY, sum = 0.0f;
            acc16.assign(static_cast<size_t>(D), 0.0f);
            for (int64_t p = 0; p < n; ++p) {
              const float sc = scores[static_cast<size_t>(p)];
              float old_scale = 1.0f, weight = 1.0f;
              if (sc > running_max) {
                old_scale = std::exp(running_max - sc);
                running_max = sc;
                for (float& a : acc16) a = round_f16(a * old_scale);
              } else {
                weight = std::exp(sc - running_max);
              }
              const float* vp = &cache_v[static_cast<size_t>((first + p) * KV + kvh * D)];
              for (int64_t d = 0; d < D; ++d) acc16[static_cast<size_t>(d)] = round_f16(std::fma(vp[d], weight, acc16[static_cast<size_t>(d)]));
              sum = sum * old_scale + weight;
            }
            const float inv_sum = 1.0f / sum;
            for (int64_t d = 0; d < D; ++d) out[d] = acc16[static_cast<size_t>(d)] * inv_sum;
            continue;
          }
          kernels::softmax(scores.data(), n);
          std::fill(out, out + D, 0.0f);
          for (int64_t p = 0; p < n; ++p) {
            const float w = scores[static_cast<size_t>(p)];
            const float* vp = &cache_v[static_cast<size_t>((first + p) * KV + kvh * D)];
            for (int64_t d = 0; d < D; ++d) out[d] += w * vp[d];
          }
        }
      }
    }
    kernels::matmul(L.wo, attn.data(), T, o.data(), threads);
    norm_rows(o.data(), T, E, L.post_attn_norm, s.norm_eps);  // Gemma: each branch's output is normalised too
    for (size_t i = 0; i < x.size(); ++i) x[i] += o[i];

    for (int64_t t = 0; t < T; ++t) kernels::rms_norm(&x[static_cast<size_t>(t * E)], L.ffn_norm.data(), E, s.norm_eps, &h[static_cast<size_t>(t * E)]);
    feed_forward(s, L, h.data(), T, o.data(), threads);
    norm_rows(o.data(), T, E, L.post_ffn_norm, s.norm_eps);
    for (size_t i = 0; i < x.size(); ++i) x[i] += o[i];
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
