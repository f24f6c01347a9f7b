// Seeded random-weight models written as GGUF: the test and benchmark
// fixtures of every later layer. Same options, same bytes.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "tensor/dtype.h"

namespace nomoat {

struct RandomModelOptions {
  std::string arch = "llama";
  int64_t n_embd = 256;
  int64_t n_layer = 2;
  int64_t n_head = 4;
  int64_t n_head_kv = 4;
  int64_t n_ff = 0;      // 0: derived from n_embd like Llama (8/3 * n_embd, rounded to 32)
  int64_t n_vocab = 0;   // 0: the vocab file's size, or 512
  int64_t n_ctx = 2048;
  DType type = DType::F16;  // for 2-D weight matrices; norms are always F32
  // A quantization preset or type name ("q4_k_m", "q8_0"; model/quant_mix.h)
  // choosing each matrix's type; empty: every matrix `type`.
  std::string quant_mix;
  bool tied = false;        // no output.weight: the embedding is reused
  std::string vocab_from;   // GGUF whose tokenizer.* metadata is copied
  uint64_t seed = 42;
  int threads = 0;          // 0: all cores
  float rope_freq_base = 0;  // 0: the architecture's usual base (1e6 for qwen*, gemma3; else 10000)
  float norm_eps = 1e-5f;
  // Shapes and features of the other architectures (0: the usual value).
  int64_t head_dim = 0;        // 0: n_embd / n_head; written as attention.key_length
  int64_t rope_dim = 0;        // 0: head_dim (phi3 may rotate fewer)
  int64_t sliding_window = 0;  // gemma2/gemma3; 0: 4096 (gemma2), 512 (gemma3)
  float attn_softcap = 0;      // gemma2; 0: 50
  float final_softcap = 0;     // gemma2; 0: 30
  int64_t n_expert = 0;        // llama (Mixtral-style) and qwen3moe; n_ff is then each expert's width
  int64_t n_expert_used = 0;
  // RoPE scaling metadata (rope.scaling.*): "" (none), "linear", "yarn" or
  // "longrope" (phi3 only; also writes random rope_factors_long/short).
  std::string rope_scaling;
  float rope_scaling_factor = 0;  // linear / yarn; 0: 4
  int64_t rope_orig_ctx = 0;      // original_context_length; 0: not written
  float yarn_beta_fast = 0;       // 0: not written (readers use 32)
  float yarn_beta_slow = 0;       // 0: not written (readers use 1)
  float rope_attn_factor = 0;     // rope.scaling.attn_factor; 0: not written
  float yarn_log_mul = 0;         // rope.scaling.yarn_log_multiplier (mscale_all_dim); 0: not written
  bool rope_freqs = false;        // Llama 3.1's rope_freqs.weight (random per-pair divisors)
};

// Architectures write_random_model can write.
const char* random_model_architectures();

// Writes the model to `path`. `progress(done_bytes, total_bytes)` is called as tensors finish.
void write_random_model(const RandomModelOptions& options, const std::string& path,
                        const std::function<void(uint64_t, uint64_t)>& progress = nullptr);

// Llama's "general.file_type" number for a file whose matrices are all
// `type` (e.g. Q4_K -> 14, MOSTLY_Q4_K_S).
uint32_t file_type_for(DType type);

}  // namespace nomoat
