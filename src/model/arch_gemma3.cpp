// Gemma 3 (text): Gemma 2's layout without soft-capping (a final cap only if
// the file gives one) but with per-head q/k RMSNorms; five local layers
// (sliding window `gemma3.attention.sliding_window`) to one global. Local
// layers use RoPE base 10000 without scaling (rope_local_base_freq); global
// layers use rope.freq_base (1e6) and the file's linear scaling.
#include <cmath>

#include "model/model.h"

namespace nomoat {

extern const Architecture kArchGemma3 = {
    "gemma3",
    [](const GgufFile& file, ModelSpec& spec) {
      read_llama_like_spec(file, spec);
      spec.rope_style = RopeStyle::kNeox;
      spec.activation = FfnActivation::kGeluGlu;
      spec.embedding_scale = std::sqrt(static_cast<float>(spec.n_embd));
      spec.final_logit_softcap = static_cast<float>(file.get_f64_or("gemma3.final_logit_softcapping", 0.0));
      spec.sliding_window = static_cast<int64_t>(file.get_u64_or("gemma3.attention.sliding_window", 0));
      spec.swa_pattern = 6;
      spec.rope_base_local = static_cast<float>(file.get_f64_or("gemma3.rope.freq_base_swa", 10000.0));
      spec.rope_freq_scale_local = 1.0f;
      spec.attn_scale = gemma_attention_scale(spec, 62);
    },
    [](Model& model, ModelSpec& spec) { bind_llama_like(model, spec, {.qk_norm = true, .post_norms = true}); },
};

}  // namespace nomoat
