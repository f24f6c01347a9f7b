#include "model/hf_arch.h"

#include "base/error.h"

namespace nomoat {

extern const HfArchitecture kHfLlama, kHfMistral, kHfMixtral;
extern const HfArchitecture kHfQwen2, kHfQwen3, kHfQwen3Moe;
extern const HfArchitecture kHfPhi3;
extern const HfArchitecture kHfGemma2, kHfGemma3;

namespace {
// Every mapped HF class: one file per family, one line here.
const HfArchitecture* const kHfArchitectures[] = {&kHfLlama, &kHfMistral, &kHfMixtral, &kHfQwen2,  &kHfQwen3,
                                                  &kHfQwen3Moe, &kHfPhi3, &kHfGemma2,  &kHfGemma3};

std::string layer_name(const char* pattern, int64_t layer, int64_t expert) {
  std::string s = pattern;
  const size_t at = s.find("{e}");
  if (at != std::string::npos) s.replace(at, 3, std::to_string(expert));
  return "model.layers." + std::to_string(layer) + "." + s;
}

bool is_expert_shape(HfShape s) { return s == HfShape::kExpertUp || s == HfShape::kExpertDown; }

}  // namespace

const HfArchitecture* find_hf_architecture(std::string_view hf_name) {
  for (const HfArchitecture* a : kHfArchitectures) {
    if (hf_name == a->hf_name) return a;
  }
  return nullptr;
}

std::string hf_architecture_names() {
  std::string s;
  for (const HfArchitecture* a : kHfArchitectures) s += (s.empty() ? "" : ", ") + std::string(a->hf_name);
  return s;
}

void HfPlan::set(const std::string& key, GgufValue value) {
  const std::string full = arch + "." + key;
  for (auto& [k, v] : keys) {
    if (k == full) {
      v = std::move(value);
      return;
    }
  }
  keys.emplace_back(full, std::move(value));
}

std::vector<int64_t> hf_gguf_dims(HfShape shape, const HfHparams& h) {
  switch (shape) {
    case HfShape::kEmbd: return {h.n_embd};
    case HfShape::kHeadDim: return {h.head_dim};
    case HfShape::kQ: return {h.n_embd, h.q_dim()};
    case HfShape::kKV: return {h.n_embd, h.kv_dim()};
    case HfShape::kQkv: return {h.n_embd, h.q_dim() + 2 * h.kv_dim()};
    case HfShape::kAttnOut: return {h.q_dim(), h.n_embd};
    case HfShape::kQBias: return {h.q_dim()};
    case HfShape::kKVBias: return {h.kv_dim()};
    case HfShape::kFfUp: return {h.n_embd, h.n_ff};
    case HfShape::kFfGateUp: return {h.n_embd, 2 * h.n_ff};
    case HfShape::kFfDown: return {h.n_ff, h.n_embd};
    case HfShape::kRouter: return {h.n_embd, h.n_expert};
    case HfShape::kExpertUp: return {h.n_embd, h.n_ff_expert, h.n_expert};
    case HfShape::kExpertDown: return {h.n_ff_expert, h.n_embd, h.n_expert};
  }
  return {};
}

void plan_hf_tensors(const HfArchitecture& a, HfPlan& p) {
  const HfHparams& h = p.hp;
  const HfRows norm = a.norm_plus_one ? HfRows::kAddOne : HfRows::kCopy;
  auto resolve = [&](HfRows rows) { return rows == HfRows::kNorm ? norm : rows; };
  p.tensors.push_back({"token_embd.weight", {"model.embed_tokens.weight"}, {h.n_embd, h.n_vocab}, HfRows::kCopy});
  for (int64_t il = 0; il < h.n_layer; ++il) {
    for (const HfLayerTensor& t : a.layer) {
      HfTensorMap m{"blk." + std::to_string(il) + "." + t.gguf, {}, hf_gguf_dims(t.shape, h), resolve(t.rows)};
      if (is_expert_shape(t.shape)) {
        if (h.n_expert <= 0) fail(a.hf_name, ": the expert tensor '", t.hf, "' needs an expert count");
        for (int64_t e = 0; e < h.n_expert; ++e) m.hf.push_back(layer_name(t.hf, il, e));
      } else {
        m.hf.push_back(layer_name(t.hf, il, 0));
      }
      p.tensors.push_back(std::move(m));
    }
  }
  p.tensors.push_back({"output_norm.weight", {"model.norm.weight"}, {h.n_embd}, norm});
  if (!h.tied) p.tensors.push_back({"output.weight", {"lm_head.weight"}, {h.n_embd, h.n_vocab}, HfRows::kCopy});
}

}  // namespace nomoat
