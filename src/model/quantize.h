// Quantizing a GGUF model into another GGUF file: every metadata key copied,
// each weight matrix re-encoded in the type its preset picks (model/quant_mix.h),
// norms and other tensors the engine reads as floats kept as they are.
// `plan_quantize` decides and checks everything up front (cheap: no data is
// read); `quantize_model` then writes the file through the shared weight
// writer (model/weight_writer.h), tensor by tensor, in parallel over rows.
// Used by `nomoat quantize`; kept out of the CLI so tools and the server can
// quantize too.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "model/quant_mix.h"
#include "tensor/dtype.h"

namespace nomoat {

struct QuantizeOptions {
  std::string type = "q4_k_m";  // a preset or single type (find_quant_mix)
  bool pure = false;            // every matrix the preset's base type (no per-tensor mix)
  bool allow_requantize = false;  // re-encode tensors that are already quantized
  std::string output_type;      // "" : the mix decides the output matrix's type
  std::string embedding_type;   // "" : the mix decides token_embd's type (tied models: one of the two, not both)
  int threads = 0;              // 0: all cores
};

struct QuantizeTensor {
  std::string name;
  std::vector<int64_t> dims;  // GGUF dims, innermost first
  int64_t n_elements = 0;
  DType from = DType::F32;
  DType to = DType::F32;
  uint64_t from_bytes = 0;
  uint64_t to_bytes = 0;
  bool kept = false;  // not a quantizable matrix (norm, bias, router...): copied as it is
  KeptTensor kept_as = KeptTensor::kNo;  // why it is kept
};

struct QuantizePlan {
  QuantMix mix;
  QuantModelFacts facts;
  std::vector<QuantizeTensor> tensors;  // in the input's order
  int64_t n_requantized = 0;  // already-quantized tensors that are re-encoded
  int64_t n_elements = 0;
  uint64_t from_bytes = 0;  // tensor data, input
  uint64_t to_bytes = 0;    // tensor data, output

  double from_bits_per_weight() const { return n_elements > 0 ? 8.0 * static_cast<double>(from_bytes) / static_cast<double>(n_elements) : 0.0; }
  double to_bits_per_weight() const { return n_elements > 0 ? 8.0 * static_cast<double>(to_bytes) / static_cast<double>(n_elements) : 0.0; }
};

// The model facts the mix rules need, read from `file`'s metadata and tensor table.
QuantModelFacts quant_model_facts(const GgufFile& file);

// Decides every tensor's type and checks that it can be done: the type names
// are known, forced types fit their rows, quantized inputs are only
// re-encoded with allow_requantize, every re-encoded input can be decoded.
// Throws Error with one line naming the file, tensor or option.
QuantizePlan plan_quantize(const GgufFile& in, const QuantizeOptions& options);

struct QuantizeProgress {
  size_t index = 0;      // the tensor being written (0-based, input order)
  size_t n_tensors = 0;
  const QuantizeTensor* tensor = nullptr;
  uint64_t done_bytes = 0;   // output tensor bytes written so far (within the current tensor too)
  uint64_t total_bytes = 0;  // output tensor bytes in all
};

struct QuantizeResult {
  QuantizePlan plan;
  uint64_t in_file_size = 0;
  uint64_t out_file_size = 0;
  double seconds = 0;
};

// Writes `plan` (made by plan_quantize from `in`) to `out_path`, through a
// temporary file renamed into place (an interrupted run leaves no half
// file), on `threads` threads (0: all cores). Refuses an output that is the
// input (same path, hard link or symlink). `progress` is called, one call at
// a time, as tensors start and rows are encoded.
QuantizeResult write_quantized(const GgufFile& in, const QuantizePlan& plan, const std::string& out_path, int threads = 0,
                               const std::function<void(const QuantizeProgress&)>& progress = nullptr);

// Opens `in_path`, plans and writes: plan_quantize + write_quantized.
QuantizeResult quantize_model(const std::string& in_path, const std::string& out_path, const QuantizeOptions& options,
                              const std::function<void(const QuantizeProgress&)>& progress = nullptr);

}  // namespace nomoat
