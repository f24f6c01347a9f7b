// Hugging Face -> GGUF architecture mappings, as data: which HF model class
// becomes which GGUF architecture, which HF tensor each GGUF tensor is made
// of (and how its rows change on the way), and the hyperparameters beyond
// the shared ones. Each family is one small file (hf_arch_*.cpp) with a
// per-layer table and an optional `configure` hook; hf_convert.cpp runs
// them. Adding an architecture: a table, a hook if it has extra keys, and
// one line in the registry (hf_arch.cpp).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "formats/gguf_value.h"
#include "model/hf_config.h"

namespace nomoat {

// The shape of a tensor in terms of the hyperparameters (GGUF dims below).
enum class HfShape {
  kEmbd,       // [n_embd]            norms
  kHeadDim,    // [head_dim]          per-head q/k norms
  kQ,          // [n_embd, q_dim]     q projection (HF [q_dim, n_embd])
  kKV,         // [n_embd, kv_dim]
  kQkv,        // [n_embd, q_dim + 2 kv_dim]  fused q, k, v rows (Phi-3)
  kAttnOut,    // [q_dim, n_embd]
  kQBias,      // [q_dim]
  kKVBias,     // [kv_dim]
  kFfUp,       // [n_embd, n_ff]      gate and up
  kFfGateUp,   // [n_embd, 2 n_ff]    fused [gate; up] rows (Phi-3)
  kFfDown,     // [n_ff, n_embd]
  kRouter,     // [n_embd, n_expert]
  kExpertUp,   // [n_embd, n_ff_expert, n_expert]  stacked experts' gate or up
  kExpertDown, // [n_ff_expert, n_embd, n_expert]
};

// How a GGUF tensor's rows come from the HF rows.
enum class HfRows {
  kCopy,      // unchanged
  // Rotate-half pairs (x[i], x[i + d/2]) -> adjacent pairs (x[2i], x[2i+1]):
  // GGUF "llama" rotates adjacent pairs, HF rotates halves, so each head's
  // rows are interleaved (row 2i <- i, row 2i+1 <- i + d/2), over n_head
  // heads for q and n_head_kv heads for k.
  kPermuteQ,
  kPermuteK,
  kNorm,      // an RMSNorm weight: kAddOne where the architecture stores HF's (1 + w)
  kAddOne,    // w + 1 (what kNorm becomes for Gemma)
};

struct HfLayerTensor {
  const char* gguf;  // under "blk.N.", e.g. "attn_q.weight"
  const char* hf;    // under "model.layers.N.", e.g. "self_attn.q_proj.weight"; "{e}" is the expert index
  HfShape shape;
  HfRows rows = HfRows::kCopy;
};

// The numbers every architecture has, read from config.json.
struct HfHparams {
  int64_t n_embd = 0, n_layer = 0, n_head = 0, n_head_kv = 0, head_dim = 0, n_ff = 0;
  int64_t n_vocab = 0;  // 0 until known (config.json's vocab_size, else the embedding's rows)
  int64_t n_ctx = 0;
  int64_t rope_dim = 0;
  int64_t n_expert = 0, n_expert_used = 0, n_ff_expert = 0;
  bool tied = false;  // no lm_head: the output matrix is the embedding
  // config.json's sliding_window: the class default when the key is absent
  // (sliding_window_is_default), 0 when null (no window). Whether a window
  // applies at all is the architecture hook's business (Qwen: only with
  // use_sliding_window).
  int64_t sliding_window = 0;
  bool sliding_window_is_default = false;

  int64_t q_dim() const { return n_head * head_dim; }
  int64_t kv_dim() const { return n_head_kv * head_dim; }
};

// One GGUF tensor made of HF tensors: their rows stacked in order (several
// only for experts), each transformed by `rows`.
struct HfTensorMap {
  std::string gguf;
  std::vector<std::string> hf;
  std::vector<int64_t> dims;  // GGUF dims, innermost first
  HfRows rows = HfRows::kCopy;
};

// A GGUF tensor computed from config.json (RoPE factors), stored as F32.
struct HfGeneratedTensor {
  std::string gguf;
  std::vector<float> values;
};

// Everything the conversion writes besides the tokenizer: filled by
// read_hf_hparams, the architecture's hook and plan_hf_tensors.
struct HfPlan {
  std::string arch;  // GGUF architecture name
  HfHparams hp;
  std::vector<std::pair<std::string, GgufValue>> keys;  // GGUF metadata, in order
  std::vector<HfTensorMap> tensors;
  std::vector<HfGeneratedTensor> generated;
  std::vector<std::string> notes;  // what was ignored on the way, for the user

  // Adds or replaces "<arch>.<key>".
  void set(const std::string& key, GgufValue value);
};

// The defaults are those of the class's transformers config (LlamaConfig,
// MixtralConfig, Gemma3TextConfig, ...), used when config.json leaves a
// field out.
struct HfArchitecture {
  const char* hf_name;    // config.json "architectures"[0]
  const char* gguf_arch;  // general.architecture
  std::span<const HfLayerTensor> layer;
  bool norm_plus_one = false;     // HF norms compute x * (1 + w); GGUF stores w + 1 (Gemma)
  bool tied_by_default = false;   // tie_word_embeddings when config.json does not say
  double default_norm_eps = 1e-6; // rms_norm_eps when config.json does not say
  double default_rope_theta = 10000.0;  // rope_theta (transformers 5: default_theta) when config.json does not say
  int64_t default_sliding_window = 0;   // sliding_window when config.json has no such key (0: none)
  // The MLP activation hidden_act must name (its default when absent); any
  // other is refused naming the field. nullptr: the hook checks it (Gemma).
  const char* hidden_act = "silu";
  // Architecture-specific checks, hyperparameters and keys (may be null).
  void (*configure)(const HfConfig& config, HfPlan& plan) = nullptr;
};

// nullptr when `hf_name` has no mapping.
const HfArchitecture* find_hf_architecture(std::string_view hf_name);
// "LlamaForCausalLM, MistralForCausalLM, ..." for error messages and help.
std::string hf_architecture_names();

// The shared hyperparameters and GGUF keys (sizes, norm epsilon, RoPE base,
// rotated dimensions and scaling: linear, yarn, llama3 -> rope_freqs,
// longrope -> rope_factors_long/short) into `plan`.
void read_hf_hparams(const HfConfig& config, const HfArchitecture& arch, HfPlan& plan);

// RoPE parameters of one kind of layer: transformers 4's "rope_theta" +
// "rope_scaling", or transformers 5's "rope_parameters" (Gemma 3: one
// object per layer type, "full_attention" / "sliding_attention"); the base
// is `default_theta` when neither gives it.
struct HfRope {
  double theta = 10000.0;
  const nlohmann::json* scaling = nullptr;  // the object naming rope_type (or type); null for plain RoPE
  std::string field;              // where it was read, for errors
  std::string type;               // "" (plain), "linear", "yarn", "llama3", "longrope", ...
};
HfRope hf_rope(const HfConfig& config, std::string_view layer_type, double default_theta);

// GGUF llama and phi3 have no key for a sliding window (the engine attends
// to the whole context): a window shorter than the context is dropped with
// a note naming where it came from, as llama.cpp does.
void note_unkept_sliding_window(HfPlan& plan);

// The GGUF tensors of every layer and the embedding, final norm and output.
void plan_hf_tensors(const HfArchitecture& arch, HfPlan& plan);

// The GGUF dims of a shape.
std::vector<int64_t> hf_gguf_dims(HfShape shape, const HfHparams& hp);

}  // namespace nomoat
