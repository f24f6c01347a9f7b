#include "model/forward_ffn.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "kernels/activation.h"
#include "kernels/ops.h"

namespace nomoat {
namespace {

kernels::GluActivation glu_activation(FfnActivation a) {
  return a == FfnActivation::kGeluGlu ? kernels::GluActivation::kGeluTanh : kernels::GluActivation::kSilu;
}

// out = down(act(gate(x)) * up(x)) for n rows of x, the GLU of every family here.
void gated_ffn(FfnActivation act, const MatrixView& gate, const MatrixView& up, const MatrixView& down, const float* x, int64_t n,
               float* out, int threads) {
  const int64_t F = up.rows;
  // Reused across calls: a 512-token prompt's g and u are 16 MiB each at
  // n_ff 8192, and fresh allocations cost a page fault per 4 KiB every layer.
  thread_local std::vector<float> g, u;
  g.resize(static_cast<size_t>(n * F));
  u.resize(g.size());
  const MatrixView* w[] = {&gate, &up};
  float* y[] = {g.data(), u.data()};
  kernels::matmul_shared_input(w, x, n, y, threads);
  kernels::glu(glu_activation(act), g.data(), u.data(), static_cast<int64_t>(g.size()), threads);
  kernels::matmul(down, g.data(), n, out, threads);
}

// Phi-3's ffn_up computes [gate; up] in one matrix: each output row holds
// the n_ff gate values, then the n_ff up values.
void fused_gate_up_ffn(const ModelSpec& s, const LayerWeights& L, const float* x, int64_t n, float* out, int threads) {
  const int64_t F = s.n_ff;
  thread_local std::vector<float> both, g;  // reused, as in gated_ffn
  both.resize(static_cast<size_t>(n * 2 * F));
  g.resize(static_cast<size_t>(n * F));
  kernels::matmul(L.w_up, x, n, both.data(), threads);
  for (int64_t t = 0; t < n; ++t) {
    const float* row = &both[static_cast<size_t>(t * 2 * F)];
    float* gt = &g[static_cast<size_t>(t * F)];
    std::copy(row, row + F, gt);
    kernels::glu(glu_activation(s.activation), gt, row + F, F);
  }
  kernels::matmul(L.w_down, g.data(), n, out, threads);
}

// Mixture of experts: per token, softmax over the router logits, the
// n_expert_used most probable experts (ties: lower index), their
// probabilities renormalised when the spec says so; the output is the
// probability-weighted sum of those experts' GLUs. Tokens are grouped by
// expert so each expert's matrices are read once per batch.
void moe_ffn(const ModelSpec& s, const LayerWeights& L, const float* x, int64_t T, float* out, int threads) {
  const int64_t E = s.n_embd, N = s.n_expert, K = s.n_expert_used;
  std::vector<float> probs(static_cast<size_t>(T * N));
  kernels::matmul(L.router, x, T, probs.data(), threads);
  std::vector<std::vector<std::pair<int64_t, float>>> routed(static_cast<size_t>(N));  // expert -> (token, weight)
  std::vector<int64_t> order(static_cast<size_t>(N));
  for (int64_t t = 0; t < T; ++t) {
    float* p = &probs[static_cast<size_t>(t * N)];
    kernels::softmax(p, N);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [p](int64_t a, int64_t b) { return p[a] > p[b]; });
    double chosen = 0;
    for (int64_t j = 0; j < K; ++j) chosen += p[order[static_cast<size_t>(j)]];
    const float norm = s.expert_weights_norm ? static_cast<float>(1.0 / chosen) : 1.0f;
    for (int64_t j = 0; j < K; ++j) {
      const int64_t e = order[static_cast<size_t>(j)];
      routed[static_cast<size_t>(e)].push_back({t, p[e] * norm});
    }
  }
  std::fill(out, out + T * E, 0.0f);
  std::vector<float> xe, ye;
  for (int64_t e = 0; e < N; ++e) {
    const auto& tokens = routed[static_cast<size_t>(e)];
    if (tokens.empty()) continue;
    const auto n = static_cast<int64_t>(tokens.size());
    xe.resize(static_cast<size_t>(n * E));
    ye.resize(xe.size());
    for (int64_t i = 0; i < n; ++i) std::copy_n(x + tokens[static_cast<size_t>(i)].first * E, E, &xe[static_cast<size_t>(i * E)]);
    gated_ffn(s.activation, L.gate_exps.expert(e), L.up_exps.expert(e), L.down_exps.expert(e), xe.data(), n, ye.data(), threads);
    for (int64_t i = 0; i < n; ++i) {
      const auto [t, w] = tokens[static_cast<size_t>(i)];
      for (int64_t d = 0; d < E; ++d) out[t * E + d] += w * ye[static_cast<size_t>(i * E + d)];
    }
  }
}

}  // namespace

void feed_forward(const ModelSpec& s, const LayerWeights& L, const float* h, int64_t T, float* out, int threads) {
  if (!L.router.empty()) {
    moe_ffn(s, L, h, T, out, threads);
  } else if (L.w_gate.empty()) {
    fused_gate_up_ffn(s, L, h, T, out, threads);
  } else {
    gated_ffn(s.activation, L.w_gate, L.w_up, L.w_down, h, T, out, threads);
  }
}

}  // namespace nomoat
