// A loaded model: its spec and views of its weights inside the mapped GGUF.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/huge_pages.h"
#include "formats/gguf.h"
#include "model/model_spec.h"
#include "tensor/view.h"

namespace nomoat {

// n_expert matrices of the same shape stored as one 3-D GGUF tensor
// [cols, rows, n_expert]: expert e is rows [e * rows, (e + 1) * rows).
struct ExpertMatrices {
  MatrixView all;
  int64_t rows_per_expert = 0;

  bool empty() const { return all.empty(); }
  MatrixView expert(int64_t e) const {
    MatrixView m = all;
    m.data = all.row(e * rows_per_expert);
    m.rows = rows_per_expert;
    return m;
  }
};

struct LayerWeights {
  std::vector<float> attn_norm;
  MatrixView wq, wk, wv, wo;
  MatrixView wqkv;                // fused [q; k; v] rows (Phi-3); wq/wk/wv are then empty
  std::vector<float> bq, bk, bv;  // empty when the architecture has none
  std::vector<float> q_norm, k_norm;  // per-head RMSNorm weights (head_dim), or empty
  std::vector<float> post_attn_norm;  // norm of the attention output before the residual add (Gemma 2/3)
  std::vector<float> ffn_norm;
  MatrixView w_gate, w_up, w_down;  // w_gate empty: w_up holds [gate; up] (2 * n_ff rows, Phi-3)
  std::vector<float> post_ffn_norm;
  MatrixView router;                // n_embd -> n_expert logits (MoE only)
  ExpertMatrices gate_exps, up_exps, down_exps;
};

struct PackedMatrix;

struct LoadOptions {
  // Copy quantized matrices into the kernels' row-interleaved layout
  // (tensor/packed.h) when the CPU has kernels for it, and the other weight
  // matrices as they are, all into one buffer on huge pages; the mapped
  // source pages are then dropped, so memory stays about one model's size.
  bool repack = true;
  int threads = 0;  // for repacking; 0: all of the pool
  // A Hugging Face folder is converted once to a cached GGUF (model/hf_cache.h);
  // this gets its progress lines (null: they go to stderr).
  std::function<void(const std::string&)> note;
};

class Model {
 public:
  // Maps `path` and binds every tensor the architecture needs. Throws Error
  // naming the file and the missing or misshapen tensor. `path` may be a
  // Hugging Face folder: its cached conversion is loaded (see LoadOptions::note).
  static std::unique_ptr<Model> load(const std::string& path, const LoadOptions& options = {});
  ~Model();

  const ModelSpec& spec() const { return spec_; }
  const GgufFile& file() const { return file_; }

  MatrixView token_embd;
  std::vector<float> output_norm;
  MatrixView output;  // token_embd when tied
  std::vector<float> rope_freq_factors;  // empty unless the file has rope_freqs.weight
  // Phi-3 LongRoPE per-pair frequency divisors (spec.rope_scaling == kLongRope).
  std::vector<float> rope_factors_long, rope_factors_short;
  std::vector<LayerWeights> layers;

  // Binding helpers for architecture files: a matrix of exactly
  // cols x rows, or a float vector of n elements (any float type).
  MatrixView matrix(const std::string& name, int64_t cols, int64_t rows) const;
  std::vector<float> vector(const std::string& name, int64_t n) const;
  // A 3-D tensor of exactly [cols, rows, n_expert].
  ExpertMatrices experts(const std::string& name, int64_t cols, int64_t rows, int64_t n_expert) const;
  bool has(const std::string& name) const { return file_.find_tensor(name) != nullptr; }

  // Bytes of repacked weights held by the model (0 without repacking).
  size_t packed_bytes() const;

 private:
  explicit Model(GgufFile file);
  void repack(int threads);

  GgufFile file_;
  ModelSpec spec_;
  // The repacked and the copied weight matrices (repack): packed_ and the
  // views point into it.
  HugeBuffer weight_memory_{nullptr, nullptr};
  std::vector<std::unique_ptr<PackedMatrix>> packed_;
};

// One architecture: reads its hyperparameters and binds its tensors.
struct Architecture {
  const char* name;
  void (*read_spec)(const GgufFile& file, ModelSpec& spec);
  void (*bind)(Model& model, ModelSpec& spec);
};

// Registered architectures (arch_*.cpp); nullptr if `name` is not supported.
const Architecture* find_architecture(const std::string& name);
std::string supported_architectures();

// Shared by the Llama-like architectures: the common hyperparameter keys and
// the standard GGUF tensor names (blk.N.attn_q.weight, ...). A fused
// attn_qkv is used when the file has one; expert tensors replace the dense
// feed-forward when spec.n_expert > 0; the rest is declared per architecture.
struct LlamaLikeTensors {
  bool qkv_bias = false;    // attn_q.bias, attn_k.bias, attn_v.bias
  bool qk_norm = false;     // attn_q_norm.weight, attn_k_norm.weight
  bool post_norms = false;  // post_attention_norm.weight, post_ffw_norm.weight
  bool fused_gate_up = false;  // ffn_up.weight holds [gate; up], no ffn_gate.weight
};
void read_llama_like_spec(const GgufFile& file, ModelSpec& spec);
void bind_llama_like(Model& model, ModelSpec& spec, const LlamaLikeTensors& tensors);

// Gemma 2/3's attention scale, 1/sqrt(query_pre_attn_scalar) (arch_gemma2.cpp).
float gemma_attention_scale(const ModelSpec& spec, int64_t n_layer_27b);

}  // namespace nomoat
