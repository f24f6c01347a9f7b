// Phi-3 / Phi-3.5 / Phi-4 (mini, medium): one fused attn_qkv matrix (rows
// [q; k; v]; separate q/k/v are accepted too), one fused ffn_up holding
// [gate; up] (HF Phi3MLP splits gate_up_proj in two halves, gate first),
// SwiGLU, NeoX RoPE over the first rope.dimension_count values of each head.
// The sliding window some files declare is ignored, as llama.cpp does: the
// models were evaluated with full attention there.
//
// LongRoPE (the 128k variants, Phi-3.5, Phi-4-mini): rope_factors_long and
// rope_factors_short divide the per-pair frequencies, the long ones when the
// context in use exceeds rope.scaling.original_context_length; cos and sin
// are multiplied by rope.scaling.attn_factor, which converters compute as
// sqrt(1 + ln(s) / ln(original)) with s = context_length / original (HF
// Phi3's attention_factor); files without the key get that formula here.
#include <cmath>

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
      if (model.has("blk.0.rope_factors_long.weight")) {
        fail(model.file().path(), ": per-layer LongRoPE factors (blk.N.rope_factors_long) are not supported yet");
      }
      bind_llama_like(model, spec, {.fused_gate_up = true});
      if (model.has("rope_factors_long.weight")) {
        model.rope_factors_long = model.vector("rope_factors_long.weight", spec.rope_dim / 2);
        model.rope_factors_short = model.vector("rope_factors_short.weight", spec.rope_dim / 2);
        spec.rope_scaling = RopeScaling::kLongRope;
        const std::string key = "phi3.rope.scaling.attn_factor";
        const double s = static_cast<double>(spec.n_ctx_train) / static_cast<double>(spec.rope_orig_ctx);
        if (model.file().find(key) == nullptr && s > 1.0) {
          spec.rope_attn_factor = static_cast<float>(std::sqrt(1.0 + std::log(s) / std::log(static_cast<double>(spec.rope_orig_ctx))));
        }
      } else if (spec.rope_scaling == RopeScaling::kLongRope) {
        fail(model.file().path(), ": rope.scaling.type is longrope but the file has no rope_factors_long.weight");
      }
    },
};

}  // namespace nomoat
