// Perplexity by the chunked method other engines' perplexity tools use, so
// numbers are comparable: the text is tokenized once (with BOS), cut into
// chunks of n_ctx tokens whose first token is set to BOS, and each chunk
// scores the tokens of its second half, each predicted from all earlier
// positions of the chunk.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "model/kv_cache.h"
#include "model/model.h"
#include "tokenizer/vocab.h"

namespace nomoat {

struct PerplexityResult {
  int64_t n_chunks = 0;
  int64_t n_scored = 0;  // tokens scored
  double ppl = 0;
  double ppl_stderr = 0;  // standard error of the mean NLL, carried through exp
};

// The logits that chunk `chunk` of `tokens` is scored with: positions
// [n_ctx / 2, n_ctx - 1) of the chunk, n_vocab floats each; the logits at
// position j predict token j + 1. `cache` must hold n_ctx positions.
std::vector<float> perplexity_chunk_logits(const Model& model, KvCache& cache, const std::vector<TokenId>& tokens, TokenId bos,
                                           int64_t chunk, int64_t n_ctx, int64_t n_batch, int threads);

// `on_chunk(chunk_index, running_ppl)` reports progress.
PerplexityResult perplexity(const Model& model, const std::vector<TokenId>& tokens, TokenId bos, int64_t n_ctx,
                            int64_t n_batch, int threads, const std::function<void(int64_t, double)>& on_chunk = nullptr);

}  // namespace nomoat
