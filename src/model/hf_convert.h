// Hugging Face model folder (config.json, safetensors, tokenizer.json) ->
// GGUF, with no Python: the architecture's mapping (hf_arch.h) names and
// shapes every tensor, weights stream row by row through the quantization
// mix (weight_writer.h), and the tokenizer comes from load_vocab_hf.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/weight_writer.h"

namespace nomoat {

struct HfConvertOptions {
  // A quantization preset or type (model/quant_mix.h); "": keep 16-bit
  // weights as they are (F16 or BF16) and store F32 ones as F16.
  std::string type;
  int threads = 0;  // 0: all cores
  // After each tensor: (tensors done, total, bytes done, total bytes).
  std::function<void(size_t, size_t, uint64_t, uint64_t)> progress;
  // Things the conversion leaves out or changes, one line each.
  std::function<void(const std::string&)> note;
};

struct HfConvertResult {
  std::string hf_arch;    // "LlamaForCausalLM"
  std::string gguf_arch;  // "llama"
  std::string mix;        // the quantization mix's name ("f16", "q4_k_m")
  size_t n_tensors = 0;
  uint64_t bytes = 0;     // tensor data written
  std::vector<WeightPlan> plan;
};

// True when `path` is a directory holding config.json.
bool is_hf_folder(const std::string& path);

// The files a conversion of `dir` reads (config, generation config,
// tokenizer, weights): what decides whether a converted copy is current.
std::vector<std::string> hf_input_files(const std::string& dir);

// Converts `dir` to the GGUF file `out` (through a temporary file renamed
// into place). Throws Error naming the file and field, the unsupported
// architecture, the missing tensor or the misshapen one.
HfConvertResult convert_hf_folder(const std::string& dir, const std::string& out, const HfConvertOptions& options = {});

}  // namespace nomoat
