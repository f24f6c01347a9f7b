#include "model/quant_mix.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace nomoat {
namespace {

// Presets, named and numbered (general.file_type) as llama.cpp's quantizer
// names them.
struct Preset {
  const char* name;
  DType base;
  uint32_t file_type;
};
constexpr Preset kPresets[] = {
    {"q8_0", DType::Q8_0, 7},    {"q6_k", DType::Q6_K, 18},   {"q5_k_m", DType::Q5_K, 17}, {"q5_k_s", DType::Q5_K, 16},
    {"q5_1", DType::Q5_1, 9},    {"q5_0", DType::Q5_0, 8},    {"q4_k_m", DType::Q4_K, 15}, {"q4_k_s", DType::Q4_K, 14},
    {"q4_1", DType::Q4_1, 3},    {"q4_0", DType::Q4_0, 2},    {"q3_k_l", DType::Q3_K, 13}, {"q3_k_m", DType::Q3_K, 12},
    {"q3_k_s", DType::Q3_K, 11}, {"q2_k", DType::Q2_K, 10},   {"bf16", DType::BF16, 32},   {"f16", DType::F16, 1},
    {"f32", DType::F32, 0},
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool has(std::string_view name, std::string_view part) { return name.find(part) != std::string_view::npos; }

int64_t block_of(DType t) { return dtype_traits(t).block_size; }

// The layer of a "blk.N." tensor; -1 for tensors outside the layers.
int64_t layer_of(std::string_view name) {
  if (name.substr(0, 4) != "blk.") return -1;
  int64_t layer = -1;
  const char* begin = name.data() + 4;
  std::from_chars(begin, name.data() + name.size(), layer);
  return layer;
}

// The layers that get more bits in the _M mixes: the first and last eighth,
// and every third layer between.
bool use_more_bits(int64_t layer, int64_t n_layer) {
  return layer < n_layer / 8 || layer >= 7 * n_layer / 8 || (layer - n_layer / 8) % 3 == 2;
}

// gen-model's rule before presets existed: Q8_0 for K-quants whose
// super-blocks do not fit, F16 otherwise. Kept for single types so their
// files stay byte-identical.
DType pure_fit(DType wanted, int64_t row) {
  if (row % block_of(wanted) == 0) return wanted;
  if (block_of(wanted) == 256 && row % 32 == 0) return DType::Q8_0;
  return DType::F16;
}

// A row that does not split into the chosen type's blocks: the nearest
// 32-element type. (llama.cpp takes IQ4_NL for Q2_K/Q3_K, which nomoat
// cannot write; Q4_0 has the same 4.5 bits per weight.)
DType mixed_fit(DType t, int64_t row) {
  if (row % block_of(t) == 0) return t;
  DType fallback = DType::F16;
  switch (t) {
    case DType::Q2_K:
    case DType::Q3_K: fallback = DType::Q4_0; break;
    case DType::Q4_K: fallback = DType::Q5_0; break;
    case DType::Q5_K: fallback = DType::Q5_1; break;
    case DType::Q6_K: fallback = DType::Q8_0; break;
    default: break;
  }
  return row % block_of(fallback) == 0 ? fallback : DType::F16;
}

}  // namespace

QuantMix pure_quant_mix(DType type) {
  QuantMix m;
  m.name = lower(dtype_traits(type).name);
  m.base = type;
  m.mixed = false;
  switch (type) {
    case DType::F32: m.file_type = 0; break;
    case DType::F16: m.file_type = 1; break;
    case DType::Q4_0: m.file_type = 2; break;
    case DType::Q4_1: m.file_type = 3; break;
    case DType::Q8_0: m.file_type = 7; break;
    case DType::Q5_0: m.file_type = 8; break;
    case DType::Q5_1: m.file_type = 9; break;
    case DType::Q2_K: m.file_type = 10; break;
    case DType::Q3_K: m.file_type = 11; break;  // Q3_K_S: every matrix Q3_K
    case DType::Q4_K: m.file_type = 14; break;  // Q4_K_S
    case DType::Q5_K: m.file_type = 16; break;  // Q5_K_S
    case DType::Q6_K: m.file_type = 18; break;
    case DType::BF16: m.file_type = 32; break;
    default: m.file_type = 1024; break;  // no standard number (e.g. Q8_K weights)
  }
  return m;
}

std::optional<QuantMix> find_quant_mix(std::string_view name) {
  const std::string n = lower(name);
  for (const Preset& p : kPresets) {
    if (n == p.name) return QuantMix{p.name, p.base, p.file_type, true};
  }
  const auto type = dtype_from_name(n);
  if (!type || dtype_traits(*type).quantize == nullptr) return std::nullopt;
  return pure_quant_mix(*type);
}

std::string quant_mix_names() {
  std::string out;
  for (const Preset& p : kPresets) out += std::string(out.empty() ? "" : " ") + p.name;
  out += "; single types:";
  size_t n = 0;
  const DType* types = convertible_dtypes(&n);
  for (size_t i = 0; i < n; ++i) {
    const std::string t = lower(dtype_traits(types[i]).name);
    if (std::none_of(std::begin(kPresets), std::end(kPresets), [&](const Preset& p) { return t == p.name; })) out += " " + t;
  }
  return out;
}

KeptTensor quant_mix_kept(std::string_view name, std::span<const int64_t> dims) {
  size_t n_dims = dims.size();
  while (n_dims > 1 && dims[n_dims - 1] == 1) --n_dims;
  if (n_dims < 2) return KeptTensor::kVector;
  if (!name.ends_with("weight")) return KeptTensor::kNotWeight;
  if (has(name, "_norm.weight")) return KeptTensor::kNorm;
  if (has(name, "ffn_gate_inp.weight")) return KeptTensor::kRouter;
  return KeptTensor::kNo;
}

DType quant_mix_type(const QuantMix& mix, std::string_view name, std::span<const int64_t> dims, const QuantModelFacts& m) {
  if (dims.size() < 2) return DType::F32;
  const bool quantizes = dtype_traits(mix.base).is_quantized;
  if (quant_mix_kept(name, dims) != KeptTensor::kNo) return quantizes ? DType::F32 : mix.base;
  const int64_t row = dims[0];
  if (!mix.mixed) return pure_fit(mix.base, row);
  if (!quantizes) return mix.base;  // f16, bf16, f32: every matrix

  const std::string& p = mix.name;
  const bool q2_k = p == "q2_k", q3_k_s = p == "q3_k_s", q3_k_m = p == "q3_k_m", q3_k_l = p == "q3_k_l";
  const bool q4_k_s = p == "q4_k_s", q4_k_m = p == "q4_k_m", q5_k_m = p == "q5_k_m";
  const int64_t layer = layer_of(name);
  const int64_t n_layer = std::max<int64_t>(m.n_layer, 1);
  const int64_t gqa = m.n_head_kv > 0 ? m.n_head / m.n_head_kv : 1;
  DType t = mix.base;

  if (name == "output.weight" || (!m.has_output && name == "token_embd.weight")) {
    // The output matrix (or the embedding standing in for it) decides
    // every logit: Q6_K, unless the preset is already 8-bit.
    if (row % block_of(mix.base) != 0) {
      t = DType::Q8_0;
    } else if (t != DType::Q8_0) {
      t = DType::Q6_K;
    }
  } else if (name == "token_embd.weight") {
    // Only gathered from: the preset's type.
  } else if (has(name, "attn_v.weight")) {
    if (q2_k) t = gqa >= 4 ? DType::Q4_K : DType::Q3_K;
    else if (q3_k_m) t = layer < 2 ? DType::Q5_K : DType::Q4_K;
    else if (q3_k_l) t = DType::Q5_K;
    else if ((q4_k_m || q5_k_m) && use_more_bits(layer, n_layer)) t = DType::Q6_K;
    else if (q4_k_s && layer < 4) t = DType::Q5_K;
    // Llama 2 70B shares each V row among 8 query heads: cheap to keep better.
    if (m.arch == "llama" && m.n_layer == 80 && (t == DType::Q3_K || t == DType::Q4_K)) t = DType::Q5_K;
    if (m.n_expert == 8) t = DType::Q8_0;  // Mixtral: small next to the experts
  } else if (has(name, "attn_k.weight")) {
    if (m.n_expert == 8) t = DType::Q8_0;
  } else if (has(name, "ffn_down")) {
    if (q2_k) t = DType::Q3_K;
    else if (q3_k_m) t = layer < n_layer / 16 ? DType::Q5_K : DType::Q4_K;
    else if (q3_k_l) t = DType::Q5_K;
    else if ((q4_k_m || q5_k_m) && use_more_bits(layer, n_layer)) t = DType::Q6_K;
    else if (q4_k_s && layer < n_layer / 8) t = DType::Q5_K;
  } else if (has(name, "attn_output.weight")) {
    if (m.n_expert == 8) {
      if (q2_k || q3_k_s || q3_k_m || q4_k_s || q4_k_m) t = DType::Q5_K;
    } else if (q2_k) {
      t = DType::Q3_K;
    } else if (q3_k_m) {
      t = DType::Q4_K;
    } else if (q3_k_l) {
      t = DType::Q5_K;
    }
  } else if (has(name, "attn_qkv.weight")) {
    if (q3_k_m || q3_k_l) t = DType::Q4_K;
    else if (q4_k_m) t = DType::Q5_K;
    else if (q5_k_m) t = DType::Q6_K;
  }
  return mixed_fit(t, row);
}

}  // namespace nomoat
