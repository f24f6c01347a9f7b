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
  float rope_freq_scale = 1.0f;  // 1 / linear scaling factor

  FfnActivation activation = FfnActivation::kSiluGlu;
  bool tied_output = false;      // output matrix is the token embedding
  float embedding_scale = 1.0f;  // multiplies embeddings (Gemma: sqrt(n_embd))
  float attn_logit_softcap = 0;  // 0 = none
  float final_logit_softcap = 0;
  float attn_scale = 0;          // 0 = 1/sqrt(head_dim)

  int64_t q_dim() const { return n_head * head_dim; }
  int64_t kv_dim() const { return n_head_kv * head_dim; }
};

}  // namespace nomoat
