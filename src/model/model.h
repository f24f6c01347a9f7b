// A loaded model: its spec and views of its weights inside the mapped GGUF.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "model/model_spec.h"
#include "tensor/view.h"

namespace nomoat {

struct LayerWeights {
  std::vector<float> attn_norm;
  MatrixView wq, wk, wv, wo;
  std::vector<float> bq, bk, bv;  // empty when the architecture has none
  std::vector<float> ffn_norm;
  MatrixView w_gate, w_up, w_down;
};

class Model {
 public:
  // Maps `path` and binds every tensor the architecture needs. Throws Error
  // naming the file and the missing or misshapen tensor.
  static std::unique_ptr<Model> load(const std::string& path);

  const ModelSpec& spec() const { return spec_; }
  const GgufFile& file() const { return file_; }

  MatrixView token_embd;
  std::vector<float> output_norm;
  MatrixView output;  // token_embd when tied
  std::vector<float> rope_freq_factors;  // empty unless the file has rope_freqs.weight
  std::vector<LayerWeights> layers;

  // Binding helpers for architecture files: a matrix of exactly
  // cols x rows, or a float vector of n elements (any float type).
  MatrixView matrix(const std::string& name, int64_t cols, int64_t rows) const;
  std::vector<float> vector(const std::string& name, int64_t n) const;
  bool has(const std::string& name) const { return file_.find_tensor(name) != nullptr; }

 private:
  explicit Model(GgufFile file) : file_(std::move(file)) {}
  GgufFile file_;
  ModelSpec spec_;
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
// the standard GGUF tensor names (blk.N.attn_q.weight, ...).
void read_llama_like_spec(const GgufFile& file, ModelSpec& spec);
void bind_llama_like(Model& model, ModelSpec& spec, bool qkv_bias);

}  // namespace nomoat
