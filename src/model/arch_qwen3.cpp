// Qwen3 dense models: no q/k/v biases but an RMSNorm over each head of q and
// k (attn_q_norm / attn_k_norm, head_dim weights) before NeoX RoPE; the head
// size comes from `qwen3.attention.key_length` and need not be n_embd / n_head.
#include "model/model.h"

namespace nomoat {

extern const Architecture kArchQwen3 = {
    "qwen3",
    [](const GgufFile& file, ModelSpec& spec) {
      read_llama_like_spec(file, spec);
      spec.rope_style = RopeStyle::kNeox;
      spec.activation = FfnActivation::kSiluGlu;
    },
    [](Model& model, ModelSpec& spec) { bind_llama_like(model, spec, {.qk_norm = true}); },
};

}  // namespace nomoat
