#include "engine/generate.h"

#include <chrono>

#include "base/error.h"
#include "model/forward.h"

namespace nomoat {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Length of the longest suffix of `text` that is a proper prefix of a stop
// string: that much must be held back until the next token decides it.
size_t partial_stop_suffix(const std::string& text, const std::vector<std::string>& stops) {
  size_t hold = 0;
  for (const std::string& stop : stops) {
    for (size_t n = std::min(stop.size() - 1, text.size()); n > hold; --n) {
      if (text.compare(text.size() - n, n, stop, 0, n) == 0) {
        hold = n;
        break;
      }
    }
  }
  return hold;
}

}  // namespace

const char* stop_reason_name(StopReason r) {
  switch (r) {
    case StopReason::kLength: return "limit";
    case StopReason::kEndOfGeneration: return "eos";
    case StopReason::kStopString: return "word";
    case StopReason::kContextFull: return "context";
  }
  return "?";
}

GenerateResult generate(const Model& model, const Tokenizer& tokenizer, const std::vector<TokenId>& prompt,
                        const GenerateOptions& o, const std::function<void(const std::string&)>& on_text) {
  if (prompt.empty()) fail("the prompt is empty (no tokens to start from)");
  if (o.n_ctx < 0) fail("the context size must be positive (0: the model's ", model.spec().n_ctx_train, ")");
  if (o.n_batch <= 0) fail("the batch size must be positive");
  if (o.n_predict < -1) fail("the number of tokens to predict must be >= -1 (-1: until end of text)");
  const int64_t n_ctx = o.n_ctx > 0 ? o.n_ctx : model.spec().n_ctx_train;
  if (n_ctx > model.spec().n_ctx_train && !o.allow_long_context) {
    fail("context ", n_ctx, " is longer than the ", model.spec().n_ctx_train,
         " tokens the model was trained on; quality degrades past it (allow with --allow-long-context)");
  }
  if (static_cast<int64_t>(prompt.size()) >= n_ctx) {
    fail("the prompt has ", prompt.size(), " tokens, which does not fit the context of ", n_ctx, " (raise -c)");
  }
  for (const std::string& s : o.stop) {
    if (s.empty()) fail("a stop string is empty");
  }
  KvCache cache(model.spec(), n_ctx, 1, o.kv_type);
  Sampler sampler(o.sampling);
  GenerateResult r;
  r.kv_bytes = cache.bytes();
  r.n_prompt = static_cast<int64_t>(prompt.size());

  const auto t0 = std::chrono::steady_clock::now();
  std::vector<float> logits;
  const int64_t n_batch = std::max<int64_t>(1, o.n_batch);
  for (int64_t start = 0; start < r.n_prompt; start += n_batch) {
    const int64_t end = std::min(r.n_prompt, start + n_batch);
    std::vector<BatchEntry> batch;
    for (int64_t i = start; i < end; ++i) {
      batch.push_back({0, i, prompt[static_cast<size_t>(i)], i == r.n_prompt - 1});
    }
    logits = forward(model, cache, batch, o.threads);
  }
  for (TokenId t : prompt) sampler.accept(t);
  r.prompt_seconds = seconds_since(t0);

  const auto t1 = std::chrono::steady_clock::now();
  Tokenizer::StreamDecoder decoder(tokenizer, /*keep_special=*/false, /*at_start=*/false);
  std::string pending;  // decoded text not yet handed to on_text
  int64_t pos = r.n_prompt;
  auto emit = [&](size_t n) {
    if (n == 0) return;
    const std::string out = pending.substr(0, n);
    r.text += out;
    if (on_text) on_text(out);
    pending.erase(0, n);
  };
  while (true) {
    if (o.n_predict >= 0 && static_cast<int64_t>(r.tokens.size()) >= o.n_predict) {
      r.reason = StopReason::kLength;
      break;
    }
    const TokenId token = sampler.sample(logits.data(), model.spec().n_vocab);
    if (std::find(tokenizer.vocab().eog.begin(), tokenizer.vocab().eog.end(), token) != tokenizer.vocab().eog.end()) {
      r.reason = StopReason::kEndOfGeneration;
      break;
    }
    r.tokens.push_back(token);
    pending += decoder.push(token);
    bool stopped = false;
    for (const std::string& s : o.stop) {
      const size_t at = pending.find(s);
      if (at != std::string::npos) {
        pending.resize(at);
        stopped = true;
      }
    }
    if (stopped) {
      emit(pending.size());
      r.reason = StopReason::kStopString;
      break;
    }
    emit(pending.size() - partial_stop_suffix(pending, o.stop));
    if (pos >= n_ctx) {
      r.reason = StopReason::kContextFull;
      break;
    }
    const BatchEntry next{0, pos, token, true};
    logits = forward(model, cache, std::span<const BatchEntry>(&next, 1), o.threads);
    ++pos;
  }
  if (r.reason != StopReason::kStopString) {
    pending += decoder.flush();
    emit(pending.size());
  }
  r.generate_seconds = seconds_since(t1);
  return r;
}

}  // namespace nomoat
