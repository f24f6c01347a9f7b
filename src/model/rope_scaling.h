// RoPE's per-pair frequencies for a layer, with every scaling scheme the
// GGUF declares folded in, so the rotation kernel stays one loop.
#pragma once

#include <cstdint>
#include <vector>

#include "model/model.h"

namespace nomoat {

struct RopeTable {
  std::vector<double> freq;  // radians per position, one per rotated pair (rope_dim / 2)
  float mscale = 1.0f;       // multiplies cos and sin
};

// The table of a local (sliding-window) or global layer when the context in
// use holds `n_ctx` positions per sequence (LongRoPE switches on it).
RopeTable rope_table(const Model& model, bool local, int64_t n_ctx);

}  // namespace nomoat
