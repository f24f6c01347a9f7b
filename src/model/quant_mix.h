// Quantization mixes: which GGUF type each tensor of a model is stored in
// for a named preset ("q4_k_m", "q8_0", ...). The rules are the well-known
// ones of llama.cpp's quantizer, so a file written with a preset has the
// same per-tensor types (and size) as llama.cpp's file of that name: more
// bits for attn_v and ffn_down in the first and last eighth of the layers
// and every third layer between, Q6_K for the output matrix, and fallbacks
// for rows that do not split into 256-element super-blocks.
// docs/quantize.md has the table. Used by `gen-model --type`,
// `convert --type` (model/weight_writer.h) and `nomoat quantize`
// (model/quantize.h).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "tensor/dtype.h"

namespace nomoat {

struct QuantMix {
  std::string name;        // "q4_k_m"; for a single type its lower-case name ("q4_k")
  DType base = DType::F16;  // the type of most matrices
  uint32_t file_type = 1;   // general.file_type (llama.cpp's LLAMA_FTYPE numbering)
  // true: the preset's per-tensor rules; false: every matrix `base` (a row
  // that does not fit falls back to Q8_0, or F16), like llama.cpp's --pure.
  bool mixed = true;
};

// Facts about the model the rules depend on.
struct QuantModelFacts {
  std::string arch = "llama";
  int64_t n_layer = 1;
  int64_t n_head = 1;
  int64_t n_head_kv = 1;
  int64_t n_expert = 0;
  bool has_output = true;  // false: the output matrix is tied to token_embd
};

// A preset ("q4_k_m", "q8_0", "f16", ...; case-insensitive) or a single
// type's name ("q4_k", "q8_k": every matrix that type). nullopt when
// unknown, or the type cannot be written.
std::optional<QuantMix> find_quant_mix(std::string_view name);

// Every matrix `type`, with the old gen-model fallback (Q8_0 or F16).
QuantMix pure_quant_mix(DType type);

// "q8_0, q6_k, ..." for help texts: the presets, then the single types.
std::string quant_mix_names();

// Why a tensor is not one of the weight matrices a mix re-encodes. One rule
// for every path (`nomoat quantize`, `convert --type`, `gen-model --type`),
// presets, single types and --pure alike, as llama.cpp's quantizer has it.
enum class KeptTensor {
  kNo,         // a weight matrix: the mix decides its type
  kVector,     // one dimension that counts (norms, biases, RoPE factors; trailing 1s do not count)
  kNorm,       // a norm weight (*_norm.weight) of any shape
  kRouter,     // the MoE router ffn_gate_inp: small, and routing decisions are sensitive
  kNotWeight,  // not named *weight
  kNotFloat,   // integer or other data no mix encodes (decided by the tensor's type, not here)
};

// kNo, or why tensor `name` of GGUF shape `dims` is kept out of the mix.
// Never returns kNotFloat.
KeptTensor quant_mix_kept(std::string_view name, std::span<const int64_t> dims);

// The type to store tensor `name` (GGUF name, e.g. "blk.3.attn_v.weight")
// of GGUF shape `dims` (innermost first) in. 1-D tensors (norms, biases)
// are always F32; the other kept tensors (quant_mix_kept: norms, the MoE
// router) are F32 when the mix quantizes, else the mix's float type; a
// K-quant whose 256-element blocks do not fit the row falls back to a
// 32-element block type (Q5_0, Q5_1, Q8_0, Q4_0) or F16.
DType quant_mix_type(const QuantMix& mix, std::string_view name, std::span<const int64_t> dims, const QuantModelFacts& model);

}  // namespace nomoat
