// Qwen3 mixture-of-experts models (Qwen3-30B-A3B, ...): Qwen3 attention
// (per-head q/k norms, NeoX RoPE) and an expert feed-forward of
// `expert_feed_forward_length` per expert. Routing: softmax over all router
// logits, the top k; the k weights are renormalised (norm_topk_prob is true in
// the released checkpoints and llama.cpp always renormalises; a file may turn
// it off with `qwen3moe.expert_weights_norm`).
#include "model/model.h"

#include "base/error.h"

namespace nomoat {

extern const Architecture kArchQwen3Moe = {
    "qwen3moe",
    [](const GgufFile& file, ModelSpec& spec) {
      read_llama_like_spec(file, spec);
      if (spec.n_expert == 0) fail(file.path(), ": 'qwen3moe.expert_count' is missing or zero");
      spec.rope_style = RopeStyle::kNeox;
      spec.activation = FfnActivation::kSiluGlu;
    },
    [](Model& model, ModelSpec& spec) { bind_llama_like(model, spec, {.qk_norm = true}); },
};

}  // namespace nomoat
