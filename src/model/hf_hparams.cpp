// The hyperparameters every architecture shares, from config.json to the
// GGUF keys the engine reads (model.cpp: read_llama_like_spec and
// read_rope_scaling), and RoPE scaling in HF's terms (transformers'
// modeling_rope_utils) turned into GGUF's.
#include <cmath>

#include "base/error.h"
#include "model/hf_arch.h"

namespace nomoat {
namespace {

using Json = nlohmann::json;
constexpr double kPi = 3.14159265358979323846;

GgufValue u32(int64_t v) { return GgufValue::u32(static_cast<uint32_t>(v)); }

// rope_type, or the older spelling "type"; "" for plain RoPE.
std::string scaling_type(const HfConfig& c, const Json& obj, const std::string& field) {
  const Json* t = HfConfig::member(obj, "rope_type");
  if (t == nullptr) t = HfConfig::member(obj, "type");
  if (t == nullptr) return "";
  const std::string type = c.as_string(*t, field + ".rope_type");
  return type == "default" ? "" : type;
}

// Llama 3.1's scaling as per-pair divisors of the frequency (GGUF
// rope_freqs.weight): wavelengths shorter than original / high_freq_factor
// keep their frequency, longer than original / low_freq_factor are divided
// by `factor`, and a smooth blend of the two in between.
std::vector<float> llama3_divisors(double theta, int64_t rope_dim, double factor, double low, double high, double original) {
  std::vector<float> out;
  const double low_wavelen = original / low, high_wavelen = original / high;
  for (int64_t i = 0; i < rope_dim; i += 2) {
    const double freq = std::pow(theta, -static_cast<double>(i) / static_cast<double>(rope_dim));
    const double wavelen = 2.0 * kPi / freq;
    double divisor = 1.0;
    if (wavelen > low_wavelen) {
      divisor = factor;
    } else if (wavelen >= high_wavelen) {
      const double smooth = (original / wavelen - low) / (high - low);
      divisor = 1.0 / ((1.0 - smooth) / factor + smooth);
    }
    out.push_back(static_cast<float>(divisor));
  }
  return out;
}

// HF's YaRN magnitude term get_mscale(s, m) = 0.1 m ln(s) + 1 (1 for s <= 1).
double yarn_mscale(double factor, double m) { return factor <= 1.0 ? 1.0 : 0.1 * m * std::log(factor) + 1.0; }

void add_rope_scaling(const HfConfig& c, const HfRope& r, HfPlan& p) {
  if (r.type.empty()) return;
  const Json& s = *r.scaling;
  auto field = [&](const char* key) { return r.field + "." + key; };
  auto number = [&](const char* key) -> const Json* { return HfConfig::member(s, key); };
  auto required = [&](const char* key) {
    const Json* v = number(key);
    if (v == nullptr) c.bad(field(key), "is missing (needed by rope_type '" + r.type + "')");
    const double x = c.as_float(*v, field(key));
    if (!(x > 0)) c.bad(field(key), "must be positive");
    return x;
  };
  // The pre-training context: in the scaling object, else top-level (Phi-3).
  int64_t original = 0;
  if (const Json* o = number("original_max_position_embeddings")) original = c.as_int(*o, field("original_max_position_embeddings"));
  else original = c.get_int_or("original_max_position_embeddings", 0);
  if (r.type == "linear") {
    p.set("rope.scaling.type", GgufValue::string("linear"));
    p.set("rope.scaling.factor", GgufValue::f32(static_cast<float>(required("factor"))));
  } else if (r.type == "yarn") {
    const double factor = required("factor");
    if (const Json* t = number("truncate"); t != nullptr && t->is_boolean() && !t->get<bool>()) {
      c.bad(field("truncate"), "false (unrounded YaRN ramp) is not supported");
    }
    p.set("rope.scaling.type", GgufValue::string("yarn"));
    p.set("rope.scaling.factor", GgufValue::f32(static_cast<float>(factor)));
    p.set("rope.scaling.original_context_length", u32(original > 0 ? original : p.hp.n_ctx));
    if (number("beta_fast")) p.set("rope.scaling.yarn_beta_fast", GgufValue::f32(static_cast<float>(required("beta_fast"))));
    if (number("beta_slow")) p.set("rope.scaling.yarn_beta_slow", GgufValue::f32(static_cast<float>(required("beta_slow"))));
    // The engine multiplies cos and sin by attn_factor * get_mscale(s, 1)
    // [/ get_mscale(s, yarn_log_multiplier)]; HF by attention_factor when
    // given, else get_mscale(s, mscale) / get_mscale(s, mscale_all_dim)
    // when both are set, else get_mscale(s, 1).
    const Json* mscale = number("mscale");
    const Json* mscale_all = number("mscale_all_dim");
    if (number("attention_factor")) {
      p.set("rope.scaling.attn_factor", GgufValue::f32(static_cast<float>(required("attention_factor") / yarn_mscale(factor, 1.0))));
    } else if (mscale != nullptr && mscale_all != nullptr && c.as_float(*mscale, field("mscale")) != 0 &&
               c.as_float(*mscale_all, field("mscale_all_dim")) != 0) {
      const double m = c.as_float(*mscale, field("mscale"));
      p.set("rope.scaling.yarn_log_multiplier", GgufValue::f32(static_cast<float>(c.as_float(*mscale_all, field("mscale_all_dim")))));
      if (m != 1.0) p.set("rope.scaling.attn_factor", GgufValue::f32(static_cast<float>(yarn_mscale(factor, m) / yarn_mscale(factor, 1.0))));
    }
  } else if (r.type == "llama3") {
    const double factor = required("factor"), low = required("low_freq_factor"), high = required("high_freq_factor");
    if (!(high > low)) c.bad(field("high_freq_factor"), "must exceed low_freq_factor");
    if (original <= 0) c.bad(field("original_max_position_embeddings"), "is missing (needed by rope_type 'llama3')");
    p.generated.push_back({"rope_freqs.weight", llama3_divisors(r.theta, p.hp.rope_dim, factor, low, high, static_cast<double>(original))});
  } else if (r.type == "longrope" || r.type == "su") {
    if (p.arch != "phi3") c.bad(field("rope_type"), "'" + r.type + "' is supported for Phi-3 models only");
    for (const char* key : {"long_factor", "short_factor"}) {
      const Json* v = number(key);
      if (v == nullptr) c.bad(field(key), "is missing (needed by LongRoPE)");
      const std::vector<double> values = c.as_floats(*v, field(key));
      if (static_cast<int64_t>(values.size()) != p.hp.rope_dim / 2) {
        c.bad(field(key), "has " + std::to_string(values.size()) + " factors; the " + std::to_string(p.hp.rope_dim) +
                              " rotated dimensions need " + std::to_string(p.hp.rope_dim / 2));
      }
      std::vector<float> f(values.begin(), values.end());
      p.generated.push_back({key == std::string("long_factor") ? "rope_factors_long.weight" : "rope_factors_short.weight", f});
    }
    // As HF: the stretch is max_position_embeddings / original, and the
    // magnitude sqrt(1 + ln(stretch) / ln(original)) unless given.
    double attn = 1.0;
    if (number("attention_factor")) {
      attn = required("attention_factor");
    } else if (original > 0 && p.hp.n_ctx > original) {
      const double stretch = static_cast<double>(p.hp.n_ctx) / static_cast<double>(original);
      attn = std::sqrt(1.0 + std::log(stretch) / std::log(static_cast<double>(original)));
    }
    p.set("rope.scaling.type", GgufValue::string("longrope"));
    p.set("rope.scaling.original_context_length", u32(original > 0 ? original : p.hp.n_ctx));
    p.set("rope.scaling.attn_factor", GgufValue::f32(static_cast<float>(attn)));
  } else if (r.type == "dynamic") {
    c.bad(field("rope_type"), "'dynamic' (dynamic NTK scaling) is not supported");
  } else {
    c.bad(field("rope_type"), "'" + r.type + "' is not supported (supported: linear, yarn, llama3, longrope)");
  }
}

}  // namespace

HfRope hf_rope(const HfConfig& c, std::string_view layer_type, double default_theta) {
  HfRope r;
  r.theta = default_theta;
  if (const Json* params = c.find("rope_parameters")) {
    r.field = "rope_parameters";
    const Json* obj = params;
    if (const Json* per_type = HfConfig::member(*params, layer_type)) {
      obj = per_type;
      r.field = cat(r.field, ".", layer_type);
    }
    if (!obj->is_object()) c.bad(r.field, "is " + json_kind(*obj) + ", not an object");
    if (const Json* t = HfConfig::member(*obj, "rope_theta")) r.theta = c.as_float(*t, r.field + ".rope_theta");
    r.type = scaling_type(c, *obj, r.field);
    if (!r.type.empty()) r.scaling = obj;
  } else {
    r.theta = c.get_float_or("rope_theta", default_theta);
    if (const Json* s = c.find("rope_scaling")) {
      r.field = "rope_scaling";
      if (!s->is_object()) c.bad(r.field, "is " + json_kind(*s) + ", not an object");
      r.type = scaling_type(c, *s, r.field);
      if (!r.type.empty()) r.scaling = s;
    }
  }
  if (!(r.theta > 0)) c.bad(r.field.empty() ? "rope_theta" : r.field + ".rope_theta", "must be positive");
  return r;
}

void note_unkept_sliding_window(HfPlan& p) {
  const HfHparams& h = p.hp;
  if (h.sliding_window <= 0 || h.sliding_window >= h.n_ctx) return;
  p.notes.push_back("sliding_window " + std::to_string(h.sliding_window) +
                    (h.sliding_window_is_default ? " (the class's default: config.json does not set it)" : "") +
                    " is not kept: GGUF " + p.arch + " attends to the whole context");
}

void read_hf_hparams(const HfConfig& c, const HfArchitecture& a, HfPlan& p) {
  HfHparams& h = p.hp;
  h.n_embd = c.get_int("hidden_size");
  h.n_layer = c.get_int("num_hidden_layers");
  h.n_head = c.get_int("num_attention_heads");
  h.n_head_kv = c.get_int_or("num_key_value_heads", h.n_head);
  h.n_ff = c.get_int("intermediate_size");
  h.n_ctx = c.get_int("max_position_embeddings");
  h.n_vocab = c.get_int_or("vocab_size", 0);
  if (h.n_embd <= 0 || h.n_layer <= 0 || h.n_head <= 0 || h.n_head_kv <= 0 || h.n_ff <= 0 || h.n_ctx <= 0) {
    fail(c.path(), ": hidden_size, num_hidden_layers, num_attention_heads, num_key_value_heads, intermediate_size and "
         "max_position_embeddings must be positive");
  }
  if (h.n_head % h.n_head_kv != 0) {
    c.bad("num_attention_heads", "(" + std::to_string(h.n_head) + ") is not a multiple of num_key_value_heads (" +
                                     std::to_string(h.n_head_kv) + ")");
  }
  if (c.has("head_dim")) {
    h.head_dim = c.get_int("head_dim");
  } else {
    if (h.n_embd % h.n_head != 0) c.bad("hidden_size", "is not a multiple of num_attention_heads and no head_dim is given");
    h.head_dim = h.n_embd / h.n_head;
  }
  // Partial rotation (Phi-4-mini, ...): top level, or in rope_parameters.
  double partial = c.get_float_or("partial_rotary_factor", 1.0);
  if (const Json* params = c.find("rope_parameters")) {
    if (const Json* f = HfConfig::member(*params, "partial_rotary_factor")) partial = c.as_float(*f, "rope_parameters.partial_rotary_factor");
  }
  h.rope_dim = static_cast<int64_t>(std::llround(static_cast<double>(h.head_dim) * partial));
  if (h.head_dim <= 0 || h.head_dim % 2 != 0 || h.rope_dim <= 0 || h.rope_dim > h.head_dim || h.rope_dim % 2 != 0) {
    c.bad("head_dim", cat("(", h.head_dim, ", rotating ", h.rope_dim, ") must be even, with an even number of rotated dimensions"));
  }
  h.tied = c.get_bool_or("tie_word_embeddings", a.tied_by_default);
  if (a.hidden_act != nullptr) {
    const std::string act = c.get_string_or("hidden_act", a.hidden_act);
    if (act != a.hidden_act) {
      c.bad("hidden_act", "is '" + act + "', but GGUF " + a.gguf_arch + "'s feed-forward computes '" + a.hidden_act +
                              "' (GGUF has no key for another activation)");
    }
  }
  if (c.has("sliding_window")) {
    h.sliding_window = c.get_int("sliding_window");
  } else if (!c.is_null("sliding_window")) {
    h.sliding_window = a.default_sliding_window;
    h.sliding_window_is_default = true;
  }
  const double eps = c.get_float_or("rms_norm_eps", a.default_norm_eps);
  if (!(eps > 0)) c.bad("rms_norm_eps", "must be positive");

  p.set("context_length", u32(h.n_ctx));
  p.set("embedding_length", u32(h.n_embd));
  p.set("block_count", u32(h.n_layer));
  p.set("feed_forward_length", u32(h.n_ff));
  p.set("attention.head_count", u32(h.n_head));
  p.set("attention.head_count_kv", u32(h.n_head_kv));
  p.set("attention.key_length", u32(h.head_dim));
  p.set("attention.value_length", u32(h.head_dim));
  p.set("attention.layer_norm_rms_epsilon", GgufValue::f32(static_cast<float>(eps)));
  const HfRope rope = hf_rope(c, "full_attention", a.default_rope_theta);
  p.set("rope.freq_base", GgufValue::f32(static_cast<float>(rope.theta)));
  p.set("rope.dimension_count", u32(h.rope_dim));
  add_rope_scaling(c, rope, p);
}

}  // namespace nomoat
