// Qwen2 / Qwen2.5 dense models: Llama's layout plus biases on the q, k and v
// projections, NeoX-style RoPE (rotate halves; base usually 1e6), often a
// tied output for the small sizes.
#include "model/model.h"

namespace nomoat {

extern const Architecture kArchQwen2 = {
    "qwen2",
    [](const GgufFile& file, ModelSpec& spec) {
      read_llama_like_spec(file, spec);
      spec.rope_style = RopeStyle::kNeox;
      spec.activation = FfnActivation::kSiluGlu;
    },
    [](Model& model, ModelSpec& spec) { bind_llama_like(model, spec, {.qkv_bias = true}); },
};

}  // namespace nomoat
