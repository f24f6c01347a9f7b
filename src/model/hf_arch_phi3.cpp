// Phi3ForCausalLM (Phi-3, Phi-3.5, Phi-4-mini) -> "phi3": the fused
// qkv_proj and gate_up_proj are stored as they are (GGUF phi3 keeps [q; k; v]
// and [gate; up] rows), both rotate halves, partial rotation and LongRoPE
// come from the shared RoPE reading (hf_hparams.cpp).
#include "model/hf_arch.h"

namespace nomoat {
namespace {

constexpr HfLayerTensor kPhi3Layer[] = {
    {"attn_norm.weight", "input_layernorm.weight", HfShape::kEmbd, HfRows::kNorm},
    {"attn_qkv.weight", "self_attn.qkv_proj.weight", HfShape::kQkv},
    {"attn_output.weight", "self_attn.o_proj.weight", HfShape::kAttnOut},
    {"ffn_norm.weight", "post_attention_layernorm.weight", HfShape::kEmbd, HfRows::kNorm},
    {"ffn_up.weight", "mlp.gate_up_proj.weight", HfShape::kFfGateUp},
    {"ffn_down.weight", "mlp.down_proj.weight", HfShape::kFfDown},
};

void configure_phi3(const HfConfig& c, HfPlan& p) {
  if (c.get_bool_or("attention_bias", false)) c.bad("attention_bias", "true is not supported for Phi-3");
  // As llama.cpp: the models were evaluated with full attention.
  note_unkept_sliding_window(p);
}

}  // namespace

extern const HfArchitecture kHfPhi3 = {
    .hf_name = "Phi3ForCausalLM", .gguf_arch = "phi3", .layer = kPhi3Layer, .default_norm_eps = 1e-5, .configure = configure_phi3};

}  // namespace nomoat
