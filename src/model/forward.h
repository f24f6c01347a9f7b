// The forward pass: a batch of (sequence, position, token) entries in, the
// logits of the entries that ask for them out. Several sequences, each at its
// own position, advance in one pass (continuous batching relies on it).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "model/kv_cache.h"
#include "model/model.h"
#include "tokenizer/vocab.h"

namespace nomoat {

struct BatchEntry {
  int seq = 0;
  int64_t pos = 0;
  TokenId token = 0;
  bool want_logits = false;
};

// Runs the batch, storing every entry's keys/values in `cache`. Each entry
// attends to positions [0, pos] of its sequence, which must all be in the
// cache after this batch. Returns n_vocab logits per entry that wants them,
// in batch order.
std::vector<float> forward(const Model& model, KvCache& cache, std::span<const BatchEntry> batch, int threads = 1);

}  // namespace nomoat
