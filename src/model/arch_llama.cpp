// Llama 1/2/3.x, Mistral 7B, TinyLlama, Mixtral and other "llama" GGUF
// files: RMSNorm, adjacent-pair RoPE (GGUF converters permute Q/K for it),
// GQA, SwiGLU, optional tied output and Llama 3.1 rope_freqs factors. With
// `llama.expert_count` the feed-forward is a mixture of experts (Mixtral):
// softmax over the router logits, the top k, renormalised to sum to 1.
#include "model/model.h"

namespace nomoat {

extern const Architecture kArchLlama = {
    "llama",
    [](const GgufFile& file, ModelSpec& spec) {
      read_llama_like_spec(file, spec);
      spec.rope_style = RopeStyle::kNorm;
      spec.activation = FfnActivation::kSiluGlu;
    },
    [](Model& model, ModelSpec& spec) { bind_llama_like(model, spec, {}); },
};

}  // namespace nomoat
