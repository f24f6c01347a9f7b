// LlamaForCausalLM, MistralForCausalLM -> GGUF "llama"; MixtralForCausalLM
// -> "llama" with experts. GGUF llama rotates adjacent pairs where HF
// rotates halves, so q and k rows are interleaved per head (HfRows::kPermuteQ/K).
#include "model/hf_arch.h"

namespace nomoat {
namespace {

constexpr HfLayerTensor kLlamaLayer[] = {
    {"attn_norm.weight", "input_layernorm.weight", HfShape::kEmbd, HfRows::kNorm},
    {"attn_q.weight", "self_attn.q_proj.weight", HfShape::kQ, HfRows::kPermuteQ},
    {"attn_k.weight", "self_attn.k_proj.weight", HfShape::kKV, HfRows::kPermuteK},
    {"attn_v.weight", "self_attn.v_proj.weight", HfShape::kKV},
    {"attn_output.weight", "self_attn.o_proj.weight", HfShape::kAttnOut},
    {"ffn_norm.weight", "post_attention_layernorm.weight", HfShape::kEmbd, HfRows::kNorm},
    {"ffn_gate.weight", "mlp.gate_proj.weight", HfShape::kFfUp},
    {"ffn_up.weight", "mlp.up_proj.weight", HfShape::kFfUp},
    {"ffn_down.weight", "mlp.down_proj.weight", HfShape::kFfDown},
};

// Mixtral's sparse block: router "gate", experts w1 (gate), w3 (up), w2 (down).
constexpr HfLayerTensor kMixtralLayer[] = {
    {"attn_norm.weight", "input_layernorm.weight", HfShape::kEmbd, HfRows::kNorm},
    {"attn_q.weight", "self_attn.q_proj.weight", HfShape::kQ, HfRows::kPermuteQ},
    {"attn_k.weight", "self_attn.k_proj.weight", HfShape::kKV, HfRows::kPermuteK},
    {"attn_v.weight", "self_attn.v_proj.weight", HfShape::kKV},
    {"attn_output.weight", "self_attn.o_proj.weight", HfShape::kAttnOut},
    {"ffn_norm.weight", "post_attention_layernorm.weight", HfShape::kEmbd, HfRows::kNorm},
    {"ffn_gate_inp.weight", "block_sparse_moe.gate.weight", HfShape::kRouter},
    {"ffn_gate_exps.weight", "block_sparse_moe.experts.{e}.w1.weight", HfShape::kExpertUp},
    {"ffn_up_exps.weight", "block_sparse_moe.experts.{e}.w3.weight", HfShape::kExpertUp},
    {"ffn_down_exps.weight", "block_sparse_moe.experts.{e}.w2.weight", HfShape::kExpertDown},
};

void configure_llama(const HfConfig& c, HfPlan& p) {
  // GGUF llama has no slots for projection biases.
  if (c.get_bool_or("attention_bias", false)) c.bad("attention_bias", "true is not supported for llama-architecture models");
  if (c.get_bool_or("mlp_bias", false)) c.bad("mlp_bias", "true is not supported for llama-architecture models");
  // Mistral 7B v0.1 declares a 4096 window (and MistralConfig defaults to
  // it); llama.cpp's llama files drop it too.
  note_unkept_sliding_window(p);
}

void configure_mixtral(const HfConfig& c, HfPlan& p) {
  configure_llama(c, p);
  p.hp.n_expert = c.get_int("num_local_experts");
  p.hp.n_expert_used = c.get_int("num_experts_per_tok");
  p.hp.n_ff_expert = p.hp.n_ff;
  if (p.hp.n_expert <= 0 || p.hp.n_expert_used <= 0 || p.hp.n_expert_used > p.hp.n_expert) {
    c.bad("num_experts_per_tok", "must be in [1, num_local_experts]");
  }
  p.set("expert_count", GgufValue::u32(static_cast<uint32_t>(p.hp.n_expert)));
  p.set("expert_used_count", GgufValue::u32(static_cast<uint32_t>(p.hp.n_expert_used)));
}

}  // namespace

extern const HfArchitecture kHfLlama = {
    .hf_name = "LlamaForCausalLM", .gguf_arch = "llama", .layer = kLlamaLayer, .default_norm_eps = 1e-6, .configure = configure_llama};
extern const HfArchitecture kHfMistral = {.hf_name = "MistralForCausalLM",
                                          .gguf_arch = "llama",
                                          .layer = kLlamaLayer,
                                          .default_norm_eps = 1e-6,
                                          .default_sliding_window = 4096,
                                          .configure = configure_llama};
extern const HfArchitecture kHfMixtral = {.hf_name = "MixtralForCausalLM",
                                          .gguf_arch = "llama",
                                          .layer = kMixtralLayer,
                                          .default_norm_eps = 1e-5,
                                          .default_rope_theta = 1e6,
                                          .configure = configure_mixtral};

}  // namespace nomoat
