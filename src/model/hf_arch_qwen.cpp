// Qwen2ForCausalLM -> "qwen2" (biases on q, k, v), Qwen3ForCausalLM ->
// "qwen3" (per-head q/k RMSNorms, head_dim from config), Qwen3MoeForCausalLM
// -> "qwen3moe" (Qwen3 attention, experts of moe_intermediate_size). HF and
// GGUF both rotate halves here: no permutation.
#include "model/hf_arch.h"

namespace nomoat {
namespace {

constexpr HfLayerTensor kQwen2Layer[] = {
    {"attn_norm.weight", "input_layernorm.weight", HfShape::kEmbd, HfRows::kNorm},
    {"attn_q.weight", "self_attn.q_proj.weight", HfShape::kQ},
    {"attn_k.weight", "self_attn.k_proj.weight", HfShape::kKV},
    {"attn_v.weight", "self_attn.v_proj.weight", HfShape::kKV},
    {"attn_q.bias", "self_attn.q_proj.bias", HfShape::kQBias},
    {"attn_k.bias", "self_attn.k_proj.bias", HfShape::kKVBias},
    {"attn_v.bias", "self_attn.v_proj.bias", HfShape::kKVBias},
    {"attn_output.weight", "self_attn.o_proj.weight", HfShape::kAttnOut},
    {"ffn_norm.weight", "post_attention_layernorm.weight", HfShape::kEmbd, HfRows::kNorm},
    {"ffn_gate.weight", "mlp.gate_proj.weight", HfShape::kFfUp},
    {"ffn_up.weight", "mlp.up_proj.weight", HfShape::kFfUp},
    {"ffn_down.weight", "mlp.down_proj.weight", HfShape::kFfDown},
};

constexpr HfLayerTensor kQwen3Layer[] = {
    {"attn_norm.weight", "input_layernorm.weight", HfShape::kEmbd, HfRows::kNorm},
    {"attn_q.weight", "self_attn.q_proj.weight", HfShape::kQ},
    {"attn_k.weight", "self_attn.k_proj.weight", HfShape::kKV},
    {"attn_v.weight", "self_attn.v_proj.weight", HfShape::kKV},
    {"attn_q_norm.weight", "self_attn.q_norm.weight", HfShape::kHeadDim, HfRows::kNorm},
    {"attn_k_norm.weight", "self_attn.k_norm.weight", HfShape::kHeadDim, HfRows::kNorm},
    {"attn_output.weight", "self_attn.o_proj.weight", HfShape::kAttnOut},
    {"ffn_norm.weight", "post_attention_layernorm.weight", HfShape::kEmbd, HfRows::kNorm},
    {"ffn_gate.weight", "mlp.gate_proj.weight", HfShape::kFfUp},
    {"ffn_up.weight", "mlp.up_proj.weight", HfShape::kFfUp},
    {"ffn_down.weight", "mlp.down_proj.weight", HfShape::kFfDown},
};

constexpr HfLayerTensor kQwen3MoeLayer[] = {
    {"attn_norm.weight", "input_layernorm.weight", HfShape::kEmbd, HfRows::kNorm},
    {"attn_q.weight", "self_attn.q_proj.weight", HfShape::kQ},
    {"attn_k.weight", "self_attn.k_proj.weight", HfShape::kKV},
    {"attn_v.weight", "self_attn.v_proj.weight", HfShape::kKV},
    {"attn_q_norm.weight", "self_attn.q_norm.weight", HfShape::kHeadDim, HfRows::kNorm},
    {"attn_k_norm.weight", "self_attn.k_norm.weight", HfShape::kHeadDim, HfRows::kNorm},
    {"attn_output.weight", "self_attn.o_proj.weight", HfShape::kAttnOut},
    {"ffn_norm.weight", "post_attention_layernorm.weight", HfShape::kEmbd, HfRows::kNorm},
    {"ffn_gate_inp.weight", "mlp.gate.weight", HfShape::kRouter},
    {"ffn_gate_exps.weight", "mlp.experts.{e}.gate_proj.weight", HfShape::kExpertUp},
    {"ffn_up_exps.weight", "mlp.experts.{e}.up_proj.weight", HfShape::kExpertUp},
    {"ffn_down_exps.weight", "mlp.experts.{e}.down_proj.weight", HfShape::kExpertDown},
};

void no_sliding_window(const HfConfig& c) {
  // Qwen2's window applies only when use_sliding_window is set, which no
  // released checkpoint does; GGUF has no key for it.
  if (c.get_bool_or("use_sliding_window", false)) c.bad("use_sliding_window", "true is not supported");
}

void configure_qwen3(const HfConfig& c, HfPlan&) {
  no_sliding_window(c);
  if (c.get_bool_or("attention_bias", false)) c.bad("attention_bias", "true is not supported for Qwen3");
}

void configure_qwen3moe(const HfConfig& c, HfPlan& p) {
  configure_qwen3(c, p);
  p.hp.n_expert = c.get_int("num_experts");
  p.hp.n_expert_used = c.get_int("num_experts_per_tok");
  p.hp.n_ff_expert = c.get_int("moe_intermediate_size");
  if (p.hp.n_expert <= 0 || p.hp.n_expert_used <= 0 || p.hp.n_expert_used > p.hp.n_expert || p.hp.n_ff_expert <= 0) {
    c.bad("num_experts_per_tok", "must be in [1, num_experts], with a positive moe_intermediate_size");
  }
  // Dense layers between sparse ones have no GGUF qwen3moe form.
  if (c.get_int_or("decoder_sparse_step", 1) != 1) c.bad("decoder_sparse_step", "other than 1 is not supported");
  if (const auto* dense = c.find("mlp_only_layers"); dense != nullptr && !(dense->is_array() && dense->empty())) {
    c.bad("mlp_only_layers", "must be empty: dense layers in a qwen3moe model are not supported");
  }
  p.set("expert_count", GgufValue::u32(static_cast<uint32_t>(p.hp.n_expert)));
  p.set("expert_used_count", GgufValue::u32(static_cast<uint32_t>(p.hp.n_expert_used)));
  p.set("expert_feed_forward_length", GgufValue::u32(static_cast<uint32_t>(p.hp.n_ff_expert)));
  p.set("expert_weights_norm", GgufValue::boolean(c.get_bool_or("norm_topk_prob", false)));
}

}  // namespace

extern const HfArchitecture kHfQwen2 = {.hf_name = "Qwen2ForCausalLM",
                                        .gguf_arch = "qwen2",
                                        .layer = kQwen2Layer,
                                        .default_norm_eps = 1e-6,
                                        .configure = [](const HfConfig& c, HfPlan&) { no_sliding_window(c); }};
extern const HfArchitecture kHfQwen3 = {
    .hf_name = "Qwen3ForCausalLM", .gguf_arch = "qwen3", .layer = kQwen3Layer, .default_norm_eps = 1e-6, .configure = configure_qwen3};
extern const HfArchitecture kHfQwen3Moe = {.hf_name = "Qwen3MoeForCausalLM",
                                           .gguf_arch = "qwen3moe",
                                           .layer = kQwen3MoeLayer,
                                           .default_norm_eps = 1e-6,
                                           .configure = configure_qwen3moe};

}  // namespace nomoat
