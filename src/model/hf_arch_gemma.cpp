// Gemma2ForCausalLM -> "gemma2", Gemma3ForCausalLM (text) -> "gemma3".
// HF's Gemma RMSNorm multiplies by (1 + w); GGUF stores w + 1 (every norm,
// q/k norms included). Four norms a layer: input (attn_norm), after
// attention (post_attention_norm), before the MLP (ffn_norm), after it
// (post_ffw_norm). Embeddings are tied. What GGUF cannot say is checked:
// the attention scale (query_pre_attn_scalar), the GELU flavour, the
// layer pattern of sliding windows.
#include <cmath>

#include "model/hf_arch.h"

namespace nomoat {
namespace {

constexpr HfLayerTensor kGemma2Layer[] = {
    {"attn_norm.weight", "input_layernorm.weight", HfShape::kEmbd, HfRows::kNorm},
    {"attn_q.weight", "self_attn.q_proj.weight", HfShape::kQ},
    {"attn_k.weight", "self_attn.k_proj.weight", HfShape::kKV},
    {"attn_v.weight", "self_attn.v_proj.weight", HfShape::kKV},
    {"attn_output.weight", "self_attn.o_proj.weight", HfShape::kAttnOut},
    {"post_attention_norm.weight", "post_attention_layernorm.weight", HfShape::kEmbd, HfRows::kNorm},
    {"ffn_norm.weight", "pre_feedforward_layernorm.weight", HfShape::kEmbd, HfRows::kNorm},
    {"ffn_gate.weight", "mlp.gate_proj.weight", HfShape::kFfUp},
    {"ffn_up.weight", "mlp.up_proj.weight", HfShape::kFfUp},
    {"ffn_down.weight", "mlp.down_proj.weight", HfShape::kFfDown},
    {"post_ffw_norm.weight", "post_feedforward_layernorm.weight", HfShape::kEmbd, HfRows::kNorm},
};

constexpr HfLayerTensor kGemma3Layer[] = {
    {"attn_norm.weight", "input_layernorm.weight", HfShape::kEmbd, HfRows::kNorm},
    {"attn_q.weight", "self_attn.q_proj.weight", HfShape::kQ},
    {"attn_k.weight", "self_attn.k_proj.weight", HfShape::kKV},
    {"attn_v.weight", "self_attn.v_proj.weight", HfShape::kKV},
    {"attn_q_norm.weight", "self_attn.q_norm.weight", HfShape::kHeadDim, HfRows::kNorm},
    {"attn_k_norm.weight", "self_attn.k_norm.weight", HfShape::kHeadDim, HfRows::kNorm},
    {"attn_output.weight", "self_attn.o_proj.weight", HfShape::kAttnOut},
    {"post_attention_norm.weight", "post_attention_layernorm.weight", HfShape::kEmbd, HfRows::kNorm},
    {"ffn_norm.weight", "pre_feedforward_layernorm.weight", HfShape::kEmbd, HfRows::kNorm},
    {"ffn_gate.weight", "mlp.gate_proj.weight", HfShape::kFfUp},
    {"ffn_up.weight", "mlp.up_proj.weight", HfShape::kFfUp},
    {"ffn_down.weight", "mlp.down_proj.weight", HfShape::kFfDown},
    {"post_ffw_norm.weight", "post_feedforward_layernorm.weight", HfShape::kEmbd, HfRows::kNorm},
};

// GGUF has no key for the attention scale: the engine takes head_dim, or
// hidden_size / num_attention_heads for the 27B models (the layer count
// tells them apart), as llama.cpp does. Another value cannot be carried.
void check_attention_scale(const HfConfig& c, const HfPlan& p, int64_t n_layer_27b) {
  const HfHparams& h = p.hp;
  const int64_t implied = h.n_layer == n_layer_27b ? h.n_embd / h.n_head : h.head_dim;
  const double given = c.get_float_or("query_pre_attn_scalar", static_cast<double>(implied));
  if (given != static_cast<double>(implied)) {
    c.bad("query_pre_attn_scalar", "is " + std::to_string(given) + "; GGUF " + p.arch + " implies " + std::to_string(implied) +
                                       " for this shape, so the attention scale cannot be carried");
  }
}

void check_gelu_tanh(const HfConfig& c) {
  const char* key = c.has("hidden_activation") ? "hidden_activation" : "hidden_act";
  const std::string act = c.get_string_or(key, "gelu_pytorch_tanh");
  if (act != "gelu_pytorch_tanh") c.bad(key, "is '" + act + "'; the engine's Gemma MLP is the tanh GELU ('gelu_pytorch_tanh')");
}

// layer_types (transformers 5), when given, must be the pattern the engine
// derives: sliding unless il % n == n - 1.
void check_layer_types(const HfConfig& c, const HfPlan& p, int64_t n) {
  const auto* types = c.find("layer_types");
  if (types == nullptr) return;
  if (!types->is_array() || static_cast<int64_t>(types->size()) != p.hp.n_layer) {
    c.bad("layer_types", "must list one type per layer");
  }
  for (int64_t il = 0; il < p.hp.n_layer; ++il) {
    const std::string want = il % n == n - 1 ? "full_attention" : "sliding_attention";
    const std::string field = "layer_types[" + std::to_string(il) + "]";
    if (c.as_string((*types)[static_cast<size_t>(il)], field) != want) {
      c.bad(field, "is not '" + want + "': only the pattern of one global layer in " + std::to_string(n) + " is supported");
    }
  }
}

// The local layers' window (the class default 4096 when absent); null
// would leave them no window, which the engine's pattern cannot say.
int64_t local_window(const HfConfig& c, const HfPlan& p) {
  if (p.hp.sliding_window <= 0) c.bad("sliding_window", "must be a positive window for Gemma's local layers");
  return p.hp.sliding_window;
}

void configure_gemma2(const HfConfig& c, HfPlan& p) {
  check_gelu_tanh(c);
  check_attention_scale(c, p, 46);
  check_layer_types(c, p, 2);
  if (c.get_bool_or("attention_bias", false)) c.bad("attention_bias", "true is not supported for Gemma");
  // null means no cap; the engine's defaults (50, 30) apply only when the key is absent.
  p.set("attn_logit_softcapping", GgufValue::f32(static_cast<float>(c.get_float_or("attn_logit_softcapping", 0.0))));
  p.set("final_logit_softcapping", GgufValue::f32(static_cast<float>(c.get_float_or("final_logit_softcapping", 0.0))));
  p.set("attention.sliding_window", GgufValue::u32(static_cast<uint32_t>(local_window(c, p))));
}

void configure_gemma3(const HfConfig& c, HfPlan& p) {
  check_gelu_tanh(c);
  check_attention_scale(c, p, 62);
  if (c.get_bool_or("attention_bias", false)) c.bad("attention_bias", "true is not supported for Gemma");
  if (c.has("attn_logit_softcapping")) c.bad("attn_logit_softcapping", "is set; GGUF gemma3 has no attention soft-cap");
  const char* pattern_key = c.has("sliding_window_pattern") ? "sliding_window_pattern" : "_sliding_window_pattern";
  if (c.get_int_or(pattern_key, 6) != 6) c.bad(pattern_key, "must be 6 (five local layers to one global) for GGUF gemma3");
  check_layer_types(c, p, 6);
  if (c.has("final_logit_softcapping")) {
    p.set("final_logit_softcapping", GgufValue::f32(static_cast<float>(c.get_float("final_logit_softcapping"))));
  }
  p.set("attention.sliding_window", GgufValue::u32(static_cast<uint32_t>(local_window(c, p))));
  // Local layers: their own base and no scaling (rope_local_base_freq in
  // transformers 4, rope_parameters.sliding_attention in 5).
  double local_base = c.get_float_or("rope_local_base_freq", 10000.0);
  if (const auto* params = c.find("rope_parameters"); params != nullptr && HfConfig::member(*params, "sliding_attention")) {
    const HfRope local = hf_rope(c, "sliding_attention", local_base);
    if (!local.type.empty()) c.bad(local.field, "scales the local layers' RoPE, which GGUF gemma3 cannot say");
    local_base = local.theta;
  }
  p.set("rope.freq_base_swa", GgufValue::f32(static_cast<float>(local_base)));
}

}  // namespace

extern const HfArchitecture kHfGemma2 = {.hf_name = "Gemma2ForCausalLM",
                                         .gguf_arch = "gemma2",
                                         .layer = kGemma2Layer,
                                         .norm_plus_one = true,
                                         .tied_by_default = true,
                                         .default_norm_eps = 1e-6,
                                         .default_sliding_window = 4096,
                                         .hidden_act = nullptr,  // hidden_activation: check_gelu_tanh
                                         .configure = configure_gemma2};
extern const HfArchitecture kHfGemma3 = {.hf_name = "Gemma3ForCausalLM",
                                         .gguf_arch = "gemma3",
                                         .layer = kGemma3Layer,
                                         .norm_plus_one = true,
                                         .tied_by_default = true,
                                         .default_norm_eps = 1e-6,
                                         .default_rope_theta = 1e6,  // the global layers'; local ones below
                                         .default_sliding_window = 4096,
                                         .hidden_act = nullptr,
                                         .configure = configure_gemma3};

}  // namespace nomoat
