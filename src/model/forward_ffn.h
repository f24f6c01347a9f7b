// The feed-forward half of a layer (dense, fused gate/up, or mixture of
// experts), split from forward.cpp to keep each piece small.
#pragma once

#include <cstdint>

#include "model/model.h"

namespace nomoat {

// out (T x n_embd) = the layer's feed-forward of the normalised rows h (T x n_embd).
void feed_forward(const ModelSpec& spec, const LayerWeights& layer, const float* h, int64_t T, float* out, int threads);

}  // namespace nomoat
