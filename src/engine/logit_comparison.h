// How far a model's predictions are from a base model's on the same text:
// the numbers llama.cpp's perplexity tool reports for a quantized model
// against its F16 original (mean KL divergence, how often the most likely
// token is the same, both perplexities), over the positions perplexity()
// scores, so the three are directly comparable.
#pragma once

#include <cstdint>
#include <vector>

#include "model/model.h"
#include "tokenizer/vocab.h"

namespace nomoat {

struct LogitComparison {
  int64_t n_chunks = 0;
  int64_t n_scored = 0;      // positions compared
  double base_ppl = 0;       // perplexity of the base model
  double ppl = 0;            // perplexity of the other model
  double mean_kld = 0;       // mean KL(base || other) per position, in nats
  double max_kld = 0;        // the worst position's
  double top1_agreement = 0; // fraction of positions whose argmax token is the same
};

// The base model's side of a comparison, computed once for several
// comparisons: its scored logits, chunk by chunk. Holds n_chunks *
// (n_ctx / 2 - 1) * n_vocab floats.
struct BaseLogits {
  std::vector<TokenId> tokens;
  TokenId bos = kNoToken;
  int64_t n_ctx = 0;
  int64_t n_vocab = 0;
  std::vector<std::vector<float>> chunks;  // perplexity_chunk_logits of each chunk
};

// Chunks as perplexity(): n_ctx tokens, the first set to `bos`, the second half scored.
BaseLogits base_logits(const Model& base, const std::vector<TokenId>& tokens, TokenId bos, int64_t n_ctx, int64_t n_batch, int threads);

// `other` must share the base model's vocabulary.
LogitComparison compare_logits(const BaseLogits& base, const Model& other, int64_t n_batch, int threads);

// base_logits + compare_logits.
LogitComparison compare_logits(const Model& base, const Model& other, const std::vector<TokenId>& tokens, TokenId bos, int64_t n_ctx,
                               int64_t n_batch, int threads);

}  // namespace nomoat
