// One conversation's running state: a KV cache kept across calls, so each
// call evaluates only the prompt tokens after the longest prefix it shares
// with what the cache already holds (a chat turn re-renders the whole
// history; only the new turn is computed). Generation can be cancelled from
// another thread or a signal handler through an atomic flag.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "engine/generate.h"
#include "model/kv_cache.h"

namespace nomoat {

class Session {
 public:
  // `options` fixes the context size, KV type and the checks generate() does;
  // n_predict, sampling and stop strings are given per call.
  Session(const Model& model, const Tokenizer& tokenizer, const GenerateOptions& options);

  int64_t n_ctx() const { return n_ctx_; }
  // The tokens whose keys and values the cache holds, in order.
  const std::vector<TokenId>& cached_tokens() const { return cached_; }
  void reset() { cached_.clear(); }

  // Makes the cache hold `prompt` (reusing the shared prefix), then samples
  // until a stop condition. The generated tokens stay in the cache, so a
  // following prompt that continues them reuses them too. `cancel` (may be
  // null) is polled between tokens; setting it ends with StopReason::kCancelled.
  GenerateResult generate(const std::vector<TokenId>& prompt, const GenerateOptions& options,
                          const std::function<void(const std::string&)>& on_text = nullptr,
                          const std::atomic<bool>* cancel = nullptr);

 private:
  // Evaluates prompt[from, end) at their positions; returns the last token's logits.
  std::vector<float> evaluate(const std::vector<TokenId>& prompt, size_t from, const GenerateOptions& o,
                              const std::atomic<bool>* cancel);

  const Model& model_;
  const Tokenizer& tokenizer_;
  int64_t n_ctx_;
  KvCache cache_;
  std::vector<TokenId> cached_;
};

}  // namespace nomoat
