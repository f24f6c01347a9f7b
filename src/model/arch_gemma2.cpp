// Gemma 2: embeddings scaled by sqrt(n_embd), GeGLU (tanh GELU), an extra
// RMSNorm on each branch's output (post_attention_norm, post_ffw_norm), NeoX
// RoPE, tied output. Attention scores and final logits are soft-capped
// (cap * tanh(x / cap); 50 and 30 when the file does not say). Even layers
// attend to a sliding window (4096 unless `gemma2.attention.sliding_window`).
// The GGUF converter stores HF's (1 + w) norm weights already added up.
#include <cmath>

#include "model/model.h"

namespace nomoat {

// HF's query_pre_attn_scalar is not in GGUF. It is head_dim except for the
// 27B models (Gemma 2: 46 layers; Gemma 3: 62 layers), where it is
// n_embd / n_head; llama.cpp decides it the same way.
float gemma_attention_scale(const ModelSpec& s, int64_t n_layer_27b) {
  const int64_t scalar = s.n_layer == n_layer_27b ? s.n_embd / s.n_head : s.head_dim;
  return 1.0f / std::sqrt(static_cast<float>(scalar));
}

extern const Architecture kArchGemma2 = {
    "gemma2",
    [](const GgufFile& file, ModelSpec& spec) {
      read_llama_like_spec(file, spec);
      spec.rope_style = RopeStyle::kNeox;
      spec.activation = FfnActivation::kGeluGlu;
      spec.embedding_scale = std::sqrt(static_cast<float>(spec.n_embd));
      spec.attn_logit_softcap = static_cast<float>(file.get_f64_or("gemma2.attn_logit_softcapping", 50.0));
      spec.final_logit_softcap = static_cast<float>(file.get_f64_or("gemma2.final_logit_softcapping", 30.0));
      spec.sliding_window = static_cast<int64_t>(file.get_u64_or("gemma2.attention.sliding_window", 4096));
      spec.swa_pattern = 2;
      spec.rope_base_local = spec.rope_base;  // one RoPE for all layers
      spec.rope_freq_scale_local = spec.rope_freq_scale;
      spec.attn_scale = gemma_attention_scale(spec, 46);
    },
    [](Model& model, ModelSpec& spec) { bind_llama_like(model, spec, {.post_norms = true}); },
};

}  // namespace nomoat
