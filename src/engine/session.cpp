#include "engine/session.h"

#include <algorithm>
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

bool cancelled(const std::atomic<bool>* cancel) { return cancel != nullptr && cancel->load(std::memory_order_relaxed); }

}  // namespace

Session::Session(const Model& model, const Tokenizer& tokenizer, const GenerateOptions& options)
    : model_(model),
      tokenizer_(tokenizer),
      n_ctx_(checked_context_size(model, options)),
      cache_(model.spec(), n_ctx_, 1, options.kv_type) {}

std::vector<float> Session::evaluate(const std::vector<TokenId>& prompt, size_t from, const GenerateOptions& o,
                                     const std::atomic<bool>* cancel) {
  const size_t n_batch = static_cast<size_t>(std::max<int64_t>(1, o.n_batch));
  std::vector<float> logits;
  for (size_t start = from; start < prompt.size(); start += n_batch) {
    if (cancelled(cancel)) return {};
    const size_t end = std::min(prompt.size(), start + n_batch);
    std::vector<BatchEntry> batch;
    for (size_t i = start; i < end; ++i) {
      batch.push_back({0, static_cast<int64_t>(i), prompt[i], i + 1 == prompt.size()});
    }
    logits = forward(model_, cache_, batch, o.threads);
    // What the cache holds is valid up to here even if a later batch is cancelled.
    cached_.assign(prompt.begin(), prompt.begin() + static_cast<std::ptrdiff_t>(end));
  }
  return logits;
}

GenerateResult Session::generate(const std::vector<TokenId>& prompt, const GenerateOptions& o,
                                 const std::function<void(const std::string&)>& on_text,
                                 const std::atomic<bool>* cancel) {
  if (prompt.empty()) fail("the prompt is empty (no tokens to start from)");
  if (o.n_batch <= 0) fail("the batch size must be positive");
  if (o.n_predict < -1) fail("the number of tokens to predict must be >= -1 (-1: until end of text)");
  if (static_cast<int64_t>(prompt.size()) >= n_ctx_) {
    fail("the prompt has ", prompt.size(), " tokens, which does not fit the context of ", n_ctx_, " (raise -c)");
  }
  for (const std::string& s : o.stop) {
    if (s.empty()) fail("a stop string is empty");
  }
  GenerateResult r;
  r.kv_bytes = cache_.bytes();
  r.n_prompt = static_cast<int64_t>(prompt.size());

  // Reuse the longest shared prefix, but always evaluate at least the last
  // prompt token: its logits start the sampling.
  size_t shared = 0;
  while (shared < cached_.size() && shared < prompt.size() && cached_[shared] == prompt[shared]) ++shared;
  shared = std::min(shared, prompt.size() - 1);
  cached_.resize(shared);
  r.n_prompt_reused = static_cast<int64_t>(shared);

  Sampler sampler(o.sampling);
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<float> logits = evaluate(prompt, shared, o, cancel);
  for (TokenId t : prompt) sampler.accept(t);
  r.prompt_seconds = seconds_since(t0);
  if (logits.empty()) {
    r.reason = StopReason::kCancelled;
    return r;
  }

  const auto t1 = std::chrono::steady_clock::now();
  Tokenizer::StreamDecoder decoder(tokenizer_, /*keep_special=*/false, /*at_start=*/false);
  std::string pending;  // decoded text not yet handed to on_text
  auto emit = [&](size_t n) {
    if (n == 0) return;
    const std::string out = pending.substr(0, n);
    r.text += out;
    if (on_text) on_text(out);
    pending.erase(0, n);
  };
  const std::vector<TokenId>& eog = tokenizer_.vocab().eog;
  while (true) {
    if (o.n_predict >= 0 && static_cast<int64_t>(r.tokens.size()) >= o.n_predict) {
      r.reason = StopReason::kLength;
      break;
    }
    if (cancelled(cancel)) {
      r.reason = StopReason::kCancelled;
      break;
    }
    const TokenId token = sampler.sample(logits.data(), model_.spec().n_vocab);
    if (std::find(eog.begin(), eog.end(), token) != eog.end()) {
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
    const int64_t pos = static_cast<int64_t>(cached_.size());
    if (pos >= n_ctx_) {
      r.reason = StopReason::kContextFull;
      break;
    }
    const BatchEntry next{0, pos, token, true};
    logits = forward(model_, cache_, std::span<const BatchEntry>(&next, 1), o.threads);
    cached_.push_back(token);
  }
  if (r.reason != StopReason::kStopString) {
    pending += decoder.flush();
    emit(pending.size());
  }
  r.generate_seconds = seconds_since(t1);
  return r;
}

}  // namespace nomoat
