// Picking the next token from logits: penalties, then top-k, typical-p,
// top-p, min-p and temperature, then a seeded draw (or argmax when greedy).
#pragma once

#include <cstdint>
#include <deque>
#include <random>
#include <vector>

#include "tokenizer/vocab.h"

namespace nomoat {

struct SamplerParams {
  float temperature = 0.8f;  // <= 0: greedy (argmax)
  int top_k = 40;            // <= 0: off
  float top_p = 0.95f;       // >= 1: off
  float min_p = 0.05f;       // <= 0: off
  float typical_p = 1.0f;    // >= 1: off
  float repeat_penalty = 1.0f;  // 1: off
  int repeat_last_n = 64;       // how many recent tokens the penalties look at
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  uint64_t seed = 0;

  // Throws Error naming the first parameter outside its range.
  void validate() const;
};

class Sampler {
 public:
  explicit Sampler(const SamplerParams& params);

  // Chooses a token from `n_vocab` logits (not modified) and remembers it.
  TokenId sample(const float* logits, int64_t n_vocab);
  // Records a token that was not sampled here (the prompt) for the penalties.
  void accept(TokenId token);

 private:
  struct Candidate {
    TokenId id;
    float logit;
    float p;
  };
  void apply_penalties(std::vector<Candidate>& c) const;
  double uniform();

  SamplerParams params_;
  std::mt19937_64 rng_;
  std::deque<TokenId> recent_;
  std::vector<Candidate> candidates_;
};

}  // namespace nomoat
