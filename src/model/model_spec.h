// What distinguishes one decoder-only transformer family from another, as
// data. Architectures (arch_*.cpp) fill it from GGUF metadata; the forward
// pass reads only this.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nomoat {

enum class RopeStyle { kNorm, kNeox };  // adjacent pairs (Llama GGUF) or split halves (NeoX/Qwen/Gemma)
enum class FfnActivation { kSiluGlu, kGeluGlu };
// How RoPE was stretched past the pre-training context (GGUF rope.scaling.type).
// Llama 3.1's "llama3" scaling arrives as rope_freqs.weight and needs no type.
enum class RopeScaling { kNone, kLinear, kYarn, kLongRope };

struct ModelSpec {
  std::string arch;
  int64_t n_vocab = 0;
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim = 0;
  int64_t n_ff = 0;
  int64_t n_ctx_train = 0;
  float norm_eps = 1e-5f;

  RopeStyle rope_style = RopeStyle::kNorm;
  int64_t rope_dim = 0;          // dimensions rotated per head (<= head_dim)
  float rope_base = 10000.0f;
  float rope_freq_scale = 1.0f;  // 1 / scaling factor (linear; YaRN's interpolated frequencies)
  RopeScaling rope_scaling = RopeScaling::kNone;
  // The pre-training context (rope.scaling.original_context_length): YaRN's
  // ramp is placed by it, and LongRoPE uses its long factors past it.
  int64_t rope_orig_ctx = 0;
  // YaRN: pairs that turn more than beta_fast times over the original
  // context keep their frequency, fewer than beta_slow times are
  // interpolated, a linear ramp in between (the paper's alpha / beta).
  float yarn_beta_fast = 32.0f;
  float yarn_beta_slow = 1.0f;
  // YaRN's magnitude is (0.1 ln(factor) + 1) / (0.1 m ln(factor) + 1) with
  // m = rope.scaling.yarn_log_multiplier (HF mscale_all_dim); 0: no divisor.
  float yarn_log_mul = 0.0f;
  // Multiplies RoPE's cos and sin (rope.scaling.attn_factor; LongRoPE's
  // attention factor). YaRN multiplies in 0.1 ln(factor) + 1 on top.
  float rope_attn_factor = 1.0f;

  FfnActivation activation = FfnActivation::kSiluGlu;
  bool tied_output = false;      // output matrix is the token embedding
  float embedding_scale = 1.0f;  // multiplies embeddings (Gemma: sqrt(n_embd))
  float attn_logit_softcap = 0;  // 0 = none
  float final_logit_softcap = 0;
  float attn_scale = 0;          // 0 = 1/sqrt(head_dim)

  // Sliding-window attention (Gemma 2/3): a local layer's query sees only
  // the last `sliding_window` positions, itself included. With a pattern of
  // n, layer il is local unless il % n == n - 1 (n = 2: even layers local;
  // n = 6: five local, one global; 0: every layer local). Local layers use
  // their own RoPE base and scale.
  int64_t sliding_window = 0;    // 0 = every layer attends to the whole past
  int64_t swa_pattern = 0;
  float rope_base_local = 10000.0f;
  float rope_freq_scale_local = 1.0f;

  // Mixture of experts (Mixtral-style "llama", qwen3moe): n_expert_used of
  // n_expert feed-forward blocks per token, each n_ff_expert wide.
  int64_t n_expert = 0;          // 0 = dense feed-forward
  int64_t n_expert_used = 0;
  int64_t n_ff_expert = 0;
  bool expert_weights_norm = true;  // renormalise the chosen k probabilities to sum to 1

  int64_t q_dim() const { return n_head * head_dim; }
  int64_t kv_dim() const { return n_head_kv * head_dim; }
  bool is_local_layer(int64_t il) const {
    return sliding_window > 0 && (swa_pattern == 0 || il % swa_pattern != swa_pattern - 1);
  }
};

}  // namespace nomoat
