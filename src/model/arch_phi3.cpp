// Phi-3 / Phi-3.5 / Phi-4 (mini, medium): one fused attn_qkv matrix (rows
// [q; k; v]; separate q/k/v are accepted too), one fused ffn_up holding
// [gate; up] (HF Phi3MLP splits gate_up_proj in two halves, gate first),
// SwiGLU, NeoX RoPE over the first rope.dimension_count values of each head.
// The sliding window some files declare is ignored, as llama.cpp does: the
// models were evaluated with full attention there. LongRoPE (the 128k
// variants' rope_factors_long/short) is not implemented.
#include "model/model.h"

#include "base/error.h"

namespace nomoat {

extern const Architecture kArchPhi3 = {
    "phi3",
    [](const GgufFile& file, ModelSpec& spec) {
      read_llama_like_spec(file, spec);
      spec.rope_style = RopeStyle::kNeox;
      spec.activation = FfnActivation::kSiluGlu;
    },
    [](Model& model, ModelSpec& spec) {
      if (model.has("rope_factors_long.weight") || model.has("blk.0.rope_factors_long.weight")) {
        fail(model.file().path(), ": Phi-3 LongRoPE (rope_factors_long.weight) is not supported yet");
      }
      bind_llama_like(model, spec, {.fused_gate_up = true});
    },
};

}  // namespace nomoat
