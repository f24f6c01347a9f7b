// Text generation for one sequence: the prompt in batches, then one token at
// a time, streamed as complete UTF-8 text, until a stop condition.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/sampler.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace nomoat {

struct GenerateOptions {
  int64_t n_predict = 128;  // < 0: until a stop condition or the context is full
  int64_t n_ctx = 0;        // 0: the model's training context
  bool allow_long_context = false;  // permit n_ctx beyond the trained length
  int64_t n_batch = 512;    // prompt tokens per forward pass
  DType kv_type = DType::F16;
  int threads = 1;
  SamplerParams sampling;
  std::vector<std::string> stop;  // generation ends before any of these strings
};

enum class StopReason { kLength, kEndOfGeneration, kStopString, kContextFull, kCancelled };

struct GenerateResult {
  std::vector<TokenId> tokens;  // generated tokens (prompt excluded)
  std::string text;             // their text, a stop string removed
  StopReason reason = StopReason::kLength;
  int64_t n_prompt = 0;
  int64_t n_prompt_reused = 0;  // prompt tokens whose cache entries were already there (Session)
  double prompt_seconds = 0, generate_seconds = 0;
  uint64_t kv_bytes = 0;
};

// `on_text` receives the text as it becomes final (never a partial UTF-8
// character, never a piece of a stop string).
GenerateResult generate(const Model& model, const Tokenizer& tokenizer, const std::vector<TokenId>& prompt,
                        const GenerateOptions& options, const std::function<void(const std::string&)>& on_text = nullptr);

const char* stop_reason_name(StopReason r);

// The context size generate() uses for `options` after checking it against
// the model (0: the training context); throws Error naming the limit.
int64_t checked_context_size(const Model& model, const GenerateOptions& options);

}  // namespace nomoat
