#include "engine/logit_comparison.h"

#include <algorithm>
#include <cmath>

#include "base/error.h"
#include "engine/perplexity.h"

namespace nomoat {
namespace {

// log-softmax of n logits, in double.
void log_softmax(const float* logits, int64_t n, std::vector<double>& out) {
  out.resize(static_cast<size_t>(n));
  const double max = *std::max_element(logits, logits + n);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(logits[i]) - max);
  const double log_sum = std::log(sum) + max;
  for (int64_t i = 0; i < n; ++i) out[static_cast<size_t>(i)] = static_cast<double>(logits[i]) - log_sum;
}

}  // namespace

BaseLogits base_logits(const Model& base, const std::vector<TokenId>& tokens, TokenId bos, int64_t n_ctx, int64_t n_batch, int threads) {
  if (n_ctx < 8) fail("comparing logits needs a context of at least 8 tokens");
  const int64_t n_chunks = static_cast<int64_t>(tokens.size()) / n_ctx;
  if (n_chunks == 0) fail("the text has ", tokens.size(), " tokens; comparing logits needs at least one chunk of ", n_ctx);
  BaseLogits b;
  b.tokens = tokens;
  b.bos = bos;
  b.n_ctx = n_ctx;
  b.n_vocab = base.spec().n_vocab;
  KvCache cache(base.spec(), n_ctx, 1);
  for (int64_t c = 0; c < n_chunks; ++c) b.chunks.push_back(perplexity_chunk_logits(base, cache, tokens, bos, c, n_ctx, n_batch, threads));
  return b;
}

LogitComparison compare_logits(const BaseLogits& base, const Model& other, int64_t n_batch, int threads) {
  const int64_t n_vocab = base.n_vocab, n_ctx = base.n_ctx;
  if (other.spec().n_vocab != n_vocab) fail("cannot compare models with ", n_vocab, " and ", other.spec().n_vocab, " vocabulary entries");
  LogitComparison r;
  r.n_chunks = static_cast<int64_t>(base.chunks.size());
  KvCache cache(other.spec(), n_ctx, 1);
  const int64_t first = n_ctx / 2;
  double base_nll = 0.0, nll = 0.0, kld = 0.0;
  int64_t same_top = 0;
  std::vector<double> lp, lq;
  for (int64_t c = 0; c < r.n_chunks; ++c) {
    const std::vector<float>& a = base.chunks[static_cast<size_t>(c)];
    const std::vector<float> b = perplexity_chunk_logits(other, cache, base.tokens, base.bos, c, n_ctx, n_batch, threads);
    for (int64_t j = first; j < n_ctx - 1; ++j) {
      const size_t at = static_cast<size_t>((j - first) * n_vocab);
      log_softmax(&a[at], n_vocab, lp);
      log_softmax(&b[at], n_vocab, lq);
      double d = 0.0;
      for (size_t v = 0; v < lp.size(); ++v) d += std::exp(lp[v]) * (lp[v] - lq[v]);
      d = std::max(0.0, d);  // rounding can make a zero divergence slightly negative
      kld += d;
      r.max_kld = std::max(r.max_kld, d);
      const size_t target = static_cast<size_t>(base.tokens[static_cast<size_t>(c * n_ctx + j + 1)]);
      base_nll -= lp[target];
      nll -= lq[target];
      same_top += std::max_element(lp.begin(), lp.end()) - lp.begin() == std::max_element(lq.begin(), lq.end()) - lq.begin();
      ++r.n_scored;
    }
  }
  const double n = static_cast<double>(r.n_scored);
  r.base_ppl = std::exp(base_nll / n);
  r.ppl = std::exp(nll / n);
  r.mean_kld = kld / n;
  r.top1_agreement = static_cast<double>(same_top) / n;
  return r;
}

LogitComparison compare_logits(const Model& base, const Model& other, const std::vector<TokenId>& tokens, TokenId bos, int64_t n_ctx,
                               int64_t n_batch, int threads) {
  return compare_logits(base_logits(base, tokens, bos, n_ctx, n_batch, threads), other, n_batch, threads);
}

}  // namespace nomoat
