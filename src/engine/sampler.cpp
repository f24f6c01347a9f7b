#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "base/error.h"

namespace nomoat {
namespace {

// Softmax over the candidates' logits into p (candidates sorted or not).
template <typename C>
void normalize(std::vector<C>& c) {
  float max = c[0].logit;
  for (const auto& x : c) max = std::max(max, x.logit);
  double sum = 0.0;
  for (auto& x : c) {
    x.p = std::exp(x.logit - max);
    sum += x.p;
  }
  for (auto& x : c) x.p = static_cast<float>(x.p / sum);
}

template <typename C>
void sort_by_logit(std::vector<C>& c) {
  std::sort(c.begin(), c.end(), [](const auto& a, const auto& b) { return a.logit > b.logit || (a.logit == b.logit && a.id < b.id); });
}

}  // namespace

void SamplerParams::validate() const {
  auto check = [](bool ok, const char* what) {
    if (!ok) fail(what);
  };
  check(std::isfinite(temperature) && temperature >= 0, "temperature must be >= 0 (0 is greedy)");
  check(top_k >= 0, "top-k must be >= 0 (0 turns it off)");
  check(top_p > 0 && top_p <= 1, "top-p must be in (0, 1] (1 turns it off)");
  check(min_p >= 0 && min_p <= 1, "min-p must be in [0, 1] (0 turns it off)");
  check(typical_p > 0 && typical_p <= 1, "typical-p must be in (0, 1] (1 turns it off)");
  check(std::isfinite(repeat_penalty) && repeat_penalty > 0, "repeat penalty must be > 0 (1 turns it off)");
  check(repeat_last_n >= 0, "repeat-last-n must be >= 0");
  check(std::isfinite(presence_penalty) && std::isfinite(frequency_penalty), "presence and frequency penalties must be finite");
}

Sampler::Sampler(const SamplerParams& params) : params_(params), rng_(params.seed) { params_.validate(); }

double Sampler::uniform() { return static_cast<double>(rng_() >> 11) * (1.0 / 9007199254740992.0); }

void Sampler::accept(TokenId token) {
  recent_.push_back(token);
  while (static_cast<int>(recent_.size()) > std::max(0, params_.repeat_last_n)) recent_.pop_front();
}

void Sampler::apply_penalties(std::vector<Candidate>& c) const {
  if (recent_.empty()) return;
  if (params_.repeat_penalty == 1.0f && params_.presence_penalty == 0.0f && params_.frequency_penalty == 0.0f) return;
  std::unordered_map<TokenId, int> counts;
  for (TokenId t : recent_) ++counts[t];
  for (auto& [id, count] : counts) {
    if (id < 0 || static_cast<size_t>(id) >= c.size()) continue;
    float& l = c[static_cast<size_t>(id)].logit;  // candidates are still in id order here
    // Repetition penalty as in the CTRL paper: shrink toward "less likely".
    l = l > 0 ? l / params_.repeat_penalty : l * params_.repeat_penalty;
    l -= static_cast<float>(count) * params_.frequency_penalty + params_.presence_penalty;
  }
}

TokenId Sampler::sample(const float* logits, int64_t n_vocab) {
  auto& c = candidates_;
  c.resize(static_cast<size_t>(n_vocab));
  for (int64_t i = 0; i < n_vocab; ++i) c[static_cast<size_t>(i)] = {static_cast<TokenId>(i), logits[i], 0.0f};
  apply_penalties(c);

  TokenId chosen;
  if (params_.temperature <= 0.0f) {
    chosen = std::max_element(c.begin(), c.end(), [](const Candidate& a, const Candidate& b) { return a.logit < b.logit; })->id;
  } else {
    if (params_.top_k > 0 && params_.top_k < n_vocab) {
      std::partial_sort(c.begin(), c.begin() + params_.top_k, c.end(),
                        [](const Candidate& a, const Candidate& b) { return a.logit > b.logit || (a.logit == b.logit && a.id < b.id); });
      c.resize(static_cast<size_t>(params_.top_k));
    } else {
      sort_by_logit(c);
    }
    normalize(c);
    if (params_.typical_p < 1.0f) {
      // Keep the tokens whose surprise is closest to the distribution's entropy.
      double entropy = 0.0;
      for (const auto& x : c) entropy -= x.p > 0 ? x.p * std::log(x.p) : 0.0;
      std::vector<size_t> order(c.size());
      for (size_t i = 0; i < order.size(); ++i) order[i] = i;
      auto shift = [&](size_t i) { return std::abs(-std::log(std::max(c[i].p, 1e-30f)) - entropy); };
      std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return shift(a) < shift(b); });
      std::vector<Candidate> kept;
      double mass = 0.0;
      for (size_t i : order) {
        kept.push_back(c[i]);
        mass += c[i].p;
        if (mass >= params_.typical_p) break;
      }
      c = std::move(kept);
      sort_by_logit(c);
      normalize(c);
    }
    if (params_.top_p < 1.0f) {
      double mass = 0.0;
      size_t keep = c.size();
      for (size_t i = 0; i < c.size(); ++i) {
        mass += c[i].p;
        if (mass >= params_.top_p) {
          keep = i + 1;
          break;
        }
      }
      c.resize(keep);
      normalize(c);
    }
    if (params_.min_p > 0.0f) {
      const float threshold = c[0].p * params_.min_p;
      size_t keep = 1;
      while (keep < c.size() && c[keep].p >= threshold) ++keep;
      c.resize(keep);
    }
    for (auto& x : c) x.logit /= params_.temperature;
    normalize(c);
    const double r = uniform();
    double acc = 0.0;
    chosen = c.back().id;
    for (const auto& x : c) {
      acc += x.p;
      if (r < acc) {
        chosen = x.id;
        break;
      }
    }
  }
  accept(chosen);
  return chosen;
}

}  // namespace nomoat
