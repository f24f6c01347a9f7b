#include "engine/generate.h"

#include "base/error.h"
#include "engine/session.h"

namespace nomoat {

const char* stop_reason_name(StopReason r) {
  switch (r) {
    case StopReason::kLength: return "limit";
    case StopReason::kEndOfGeneration: return "eos";
    case StopReason::kStopString: return "word";
    case StopReason::kContextFull: return "context";
    case StopReason::kCancelled: return "cancelled";
  }
  return "?";
}

int64_t checked_context_size(const Model& model, const GenerateOptions& o) {
  if (o.n_ctx < 0) fail("the context size must be positive (0: the model's ", model.spec().n_ctx_train, ")");
  const int64_t n_ctx = o.n_ctx > 0 ? o.n_ctx : model.spec().n_ctx_train;
  if (n_ctx > model.spec().n_ctx_train && !o.allow_long_context) {
    fail("context ", n_ctx, " is longer than the ", model.spec().n_ctx_train,
         " tokens the model was trained on; quality degrades past it (allow with --allow-long-context)");
  }
  return n_ctx;
}

GenerateResult generate(const Model& model, const Tokenizer& tokenizer, const std::vector<TokenId>& prompt,
                        const GenerateOptions& options, const std::function<void(const std::string&)>& on_text) {
  if (prompt.empty()) fail("the prompt is empty (no tokens to start from)");
  if (options.n_batch <= 0) fail("the batch size must be positive");
  if (options.n_predict < -1) fail("the number of tokens to predict must be >= -1 (-1: until end of text)");
  Session session(model, tokenizer, options);
  return session.generate(prompt, options, on_text);
}

}  // namespace nomoat
