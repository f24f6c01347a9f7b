#include "engine/perplexity.h"

#include <cmath>

#include "base/error.h"
#include "model/forward.h"

namespace nomoat {

std::vector<float> perplexity_chunk_logits(const Model& model, KvCache& cache, const std::vector<TokenId>& tokens, TokenId bos,
                                           int64_t chunk, int64_t n_ctx, int64_t n_batch, int threads) {
  const int64_t start = chunk * n_ctx;
  const int64_t first = n_ctx / 2;
  if (static_cast<int64_t>(tokens.size()) < start + n_ctx) fail("chunk ", chunk, " of ", n_ctx, " tokens runs past the ", tokens.size(), " tokens of the text");
  std::vector<float> logits;
  for (int64_t b = 0; b < n_ctx; b += n_batch) {
    std::vector<BatchEntry> batch;
    for (int64_t j = b; j < std::min(n_ctx, b + n_batch); ++j) {
      TokenId t = tokens[static_cast<size_t>(start + j)];
      if (j == 0 && bos != kNoToken) t = bos;
      batch.push_back({0, j, t, j >= first && j < n_ctx - 1});
    }
    const std::vector<float> part = forward(model, cache, batch, threads);
    logits.insert(logits.end(), part.begin(), part.end());
  }
  return logits;
}

PerplexityResult perplexity(const Model& model, const std::vector<TokenId>& tokens, TokenId bos, int64_t n_ctx,
                            int64_t n_batch, int threads, const std::function<void(int64_t, double)>& on_chunk) {
  if (n_ctx < 8) fail("perplexity needs a context of at least 8 tokens");
  PerplexityResult r;
  r.n_chunks = static_cast<int64_t>(tokens.size()) / n_ctx;
  if (r.n_chunks == 0) {
    fail("the text has ", tokens.size(), " tokens; perplexity needs at least one chunk of ", n_ctx, " (lower -c)");
  }
  const int64_t n_vocab = model.spec().n_vocab;
  const int64_t first = n_ctx / 2;
  double nll = 0.0, nll2 = 0.0;
  KvCache cache(model.spec(), n_ctx, 1);
  for (int64_t c = 0; c < r.n_chunks; ++c) {
    const int64_t start = c * n_ctx;
    const std::vector<float> logits = perplexity_chunk_logits(model, cache, tokens, bos, c, n_ctx, n_batch, threads);
    for (int64_t j = first; j < n_ctx - 1; ++j) {
      const float* l = &logits[static_cast<size_t>((j - first) * n_vocab)];
      float max = l[0];
      for (int64_t v = 1; v < n_vocab; ++v) max = std::max(max, l[v]);
      double sum = 0.0;
      for (int64_t v = 0; v < n_vocab; ++v) sum += std::exp(static_cast<double>(l[v]) - max);
      const TokenId target = tokens[static_cast<size_t>(start + j + 1)];
      const double loss = -(static_cast<double>(l[target]) - max - std::log(sum));
      nll += loss;
      nll2 += loss * loss;
      ++r.n_scored;
    }
    if (on_chunk) on_chunk(c, std::exp(nll / static_cast<double>(r.n_scored)));
  }
  const double mean = nll / static_cast<double>(r.n_scored);
  const double mean2 = nll2 / static_cast<double>(r.n_scored);
  r.ppl = std::exp(mean);
  r.ppl_stderr = r.n_scored > 1 ? r.ppl * std::sqrt(std::max(0.0, mean2 - mean * mean) / static_cast<double>(r.n_scored - 1)) : 0.0;
  return r;
}

}  // namespace nomoat
