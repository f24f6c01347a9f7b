#include "model/random_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <vector>

#include "base/error.h"
#include "base/threads.h"
#include "formats/gguf.h"
#include "formats/gguf_writer.h"
#include "model/quant_mix.h"

namespace nomoat {
namespace {

// SplitMix64: seeds per tensor and per chunk so output does not depend on thread count.
uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

uint64_t hash_name(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

// xoshiro256+ generating standard normals with the Box-Muller transform.
class NormalRng {
 public:
  explicit NormalRng(uint64_t seed) {
    for (auto& s : state_) s = seed = mix64(seed);
  }
  void fill(float* out, int64_t n, float stddev) {
    int64_t i = 0;
    for (; i + 1 < n; i += 2) {
      const float u1 = uniform_open();
      const float u2 = uniform_open();
      const float r = stddev * std::sqrt(-2.0f * std::log(u1));
      const float a = 6.28318530717958647692f * u2;
      out[i] = r * std::cos(a);
      out[i + 1] = r * std::sin(a);
    }
    if (i < n) out[i] = stddev * std::sqrt(-2.0f * std::log(uniform_open())) * std::cos(6.2831853f * uniform_open());
  }

 private:
  // Uniform in (0, 1]: never 0, so the logarithm is finite.
  float uniform_open() { return (static_cast<float>(next() >> 40) + 1.0f) * (1.0f / 16777216.0f); }
  uint64_t next() {
    const uint64_t result = state_[0] + state_[3];
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = (state_[3] << 45) | (state_[3] >> 19);
    return result;
  }
  uint64_t state_[4];
};

// kNearOne: norm weights of 1 + N(0, stddev), so a misapplied norm shows.
// kDivisor: RoPE frequency divisors 1 + |N(0, stddev)|: at least 1 like real
// ones (they only slow pairs down), spread enough to matter at short positions.
enum class Init { kOnes, kNormal, kNearOne, kDivisor };

struct PlannedTensor {
  std::string name;
  std::vector<int64_t> dims;
  DType type;
  Init init;
  float stddev;
};

bool is_gemma(const std::string& arch) { return arch == "gemma2" || arch == "gemma3"; }
bool has_qk_norm(const std::string& arch) { return arch == "qwen3" || arch == "qwen3moe" || arch == "gemma3"; }

// The tensors llama.cpp's converters write for each architecture, named and
// shaped as they are (GGUF dims, innermost first).
std::vector<PlannedTensor> plan_tensors(const RandomModelOptions& o, const QuantMix& mix) {
  const std::string& arch = o.arch;
  const QuantModelFacts facts{o.arch, o.n_layer, o.n_head, o.n_head_kv, o.n_expert, !o.tied};
  auto type_of = [&](const std::string& name, const std::vector<int64_t>& dims) {
    return quant_mix_type(mix, name, dims, facts);
  };
  const int64_t q_dim = o.head_dim * o.n_head;
  const int64_t kv_dim = o.head_dim * o.n_head_kv;
  const float embd_std = 1.0f / std::sqrt(static_cast<float>(o.n_embd));
  // Llama keeps all-ones norms (its files stay byte-identical to earlier ones).
  const Init norm_init = arch == "llama" ? Init::kOnes : Init::kNearOne;
  std::vector<PlannedTensor> plan;
  auto matrix = [&](std::string name, int64_t in, int64_t out) {
    const DType t = type_of(name, {in, out});
    plan.push_back({std::move(name), {in, out}, t, Init::kNormal, 1.0f / std::sqrt(static_cast<float>(in))});
  };
  auto experts = [&](std::string name, int64_t in, int64_t out) {
    const DType t = type_of(name, {in, out, o.n_expert});
    plan.push_back({std::move(name), {in, out, o.n_expert}, t, Init::kNormal, 1.0f / std::sqrt(static_cast<float>(in))});
  };
  auto norm = [&](std::string name, int64_t n) { plan.push_back({std::move(name), {n}, DType::F32, norm_init, 0.1f}); };
  auto bias = [&](std::string name, int64_t n) { plan.push_back({std::move(name), {n}, DType::F32, Init::kNormal, 0.5f}); };
  plan.push_back({"token_embd.weight", {o.n_embd, o.n_vocab}, type_of("token_embd.weight", {o.n_embd, o.n_vocab}), Init::kNormal, embd_std});
  auto divisors = [&](std::string name) { plan.push_back({std::move(name), {o.rope_dim / 2}, DType::F32, Init::kDivisor, 2.0f}); };
  if (o.rope_freqs) divisors("rope_freqs.weight");
  if (o.rope_scaling == "longrope") {
    divisors("rope_factors_long.weight");
    divisors("rope_factors_short.weight");
  }
  for (int64_t i = 0; i < o.n_layer; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    norm(p + "attn_norm.weight", o.n_embd);
    if (arch == "phi3") {
      matrix(p + "attn_qkv.weight", o.n_embd, q_dim + 2 * kv_dim);
    } else {
      matrix(p + "attn_q.weight", o.n_embd, q_dim);
      matrix(p + "attn_k.weight", o.n_embd, kv_dim);
      matrix(p + "attn_v.weight", o.n_embd, kv_dim);
    }
    if (arch == "qwen2") {
      bias(p + "attn_q.bias", q_dim);
      bias(p + "attn_k.bias", kv_dim);
      bias(p + "attn_v.bias", kv_dim);
    }
    if (has_qk_norm(arch)) {
      norm(p + "attn_q_norm.weight", o.head_dim);
      norm(p + "attn_k_norm.weight", o.head_dim);
    }
    matrix(p + "attn_output.weight", q_dim, o.n_embd);
    if (is_gemma(arch)) norm(p + "post_attention_norm.weight", o.n_embd);
    norm(p + "ffn_norm.weight", o.n_embd);
    if (o.n_expert > 0) {
      matrix(p + "ffn_gate_inp.weight", o.n_embd, o.n_expert);
      experts(p + "ffn_gate_exps.weight", o.n_embd, o.n_ff);
      experts(p + "ffn_up_exps.weight", o.n_embd, o.n_ff);
      experts(p + "ffn_down_exps.weight", o.n_ff, o.n_embd);
    } else if (arch == "phi3") {
      matrix(p + "ffn_up.weight", o.n_embd, 2 * o.n_ff);  // [gate; up]
      matrix(p + "ffn_down.weight", o.n_ff, o.n_embd);
    } else {
      matrix(p + "ffn_gate.weight", o.n_embd, o.n_ff);
      matrix(p + "ffn_up.weight", o.n_embd, o.n_ff);
      matrix(p + "ffn_down.weight", o.n_ff, o.n_embd);
    }
    if (is_gemma(arch)) norm(p + "post_ffw_norm.weight", o.n_embd);
  }
  norm("output_norm.weight", o.n_embd);
  if (!o.tied) matrix("output.weight", o.n_embd, o.n_vocab);
  return plan;
}

// Tokenizer metadata: copied from a vocab file, or a byte-fallback vocabulary
// (every byte is a token) so the model can encode any text.
void add_tokenizer(GgufWriter& w, const RandomModelOptions& o) {
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  bool has_scores = true;
  bool has_types = true;
  if (!o.vocab_from.empty()) {
    const GgufFile vocab = GgufFile::open(o.vocab_from);
    for (const auto& [key, value] : vocab.metadata()) {
      if (key.rfind("tokenizer.", 0) == 0) w.set(key, value);
    }
    const GgufValue& tv = vocab.get("tokenizer.ggml.tokens");
    tokens = tv.strings();
    if (const GgufValue* sv = vocab.find("tokenizer.ggml.scores")) {
      for (double d : sv->to_f64_vector("tokenizer.ggml.scores")) scores.push_back(static_cast<float>(d));
    } else {
      has_scores = false;
    }
    if (const GgufValue* ty = vocab.find("tokenizer.ggml.token_type")) {
      for (int64_t t : ty->to_i64_vector("tokenizer.ggml.token_type")) types.push_back(static_cast<int32_t>(t));
    } else {
      has_types = false;
    }
    if (o.n_vocab < static_cast<int64_t>(tokens.size())) {
      fail("--n-vocab ", o.n_vocab, " is smaller than the ", tokens.size(), " tokens of ", o.vocab_from);
    }
  } else {
    if (o.n_vocab < 259) fail("--n-vocab must be at least 259 (3 specials + 256 bytes) without --vocab-from");
    tokens = {"<unk>", "<s>", "</s>"};
    scores = {0, 0, 0};
    types = {2, 3, 3};  // UNKNOWN, CONTROL, CONTROL
    for (int b = 0; b < 256; ++b) {
      char piece[8];
      std::snprintf(piece, sizeof piece, "<0x%02X>", b);
      tokens.emplace_back(piece);
      scores.push_back(0);
      types.push_back(6);  // BYTE
    }
    w.set("tokenizer.ggml.model", GgufValue::string("llama"));
    w.set("tokenizer.ggml.bos_token_id", GgufValue::u32(1));
    w.set("tokenizer.ggml.eos_token_id", GgufValue::u32(2));
    w.set("tokenizer.ggml.unknown_token_id", GgufValue::u32(0));
    w.set("tokenizer.ggml.add_bos_token", GgufValue::boolean(true));
  }
  // Pad with control tokens that never appear in text.
  for (int64_t i = static_cast<int64_t>(tokens.size()); i < o.n_vocab; ++i) {
    tokens.push_back("[PAD" + std::to_string(i) + "]");
    scores.push_back(0);
    types.push_back(3);
  }
  w.set("tokenizer.ggml.tokens", GgufValue::string_array(std::move(tokens)));
  if (has_scores) w.set("tokenizer.ggml.scores", GgufValue::f32_array(scores));
  if (has_types) w.set("tokenizer.ggml.token_type", GgufValue::i32_array(types));
}

void fill_tensor(const PlannedTensor& t, uint64_t seed, int threads, uint8_t* dst) {
  const DTypeTraits& traits = dtype_traits(t.type);
  const int64_t row = t.dims[0];
  int64_t rows = 1;
  for (size_t i = 1; i < t.dims.size(); ++i) rows *= t.dims[i];
  const size_t row_bytes = dtype_row_bytes(t.type, row);
  // Fixed-size chunks of rows, each with its own seed: the bytes do not depend on threads.
  const int64_t rows_per_chunk = std::max<int64_t>(1, 65536 / row);
  const int64_t chunks = (rows + rows_per_chunk - 1) / rows_per_chunk;
  const uint64_t tensor_seed = mix64(seed ^ hash_name(t.name));
  parallel_for(chunks, [&](int64_t c0, int64_t c1) {
    std::vector<float> buf(static_cast<size_t>(rows_per_chunk * row));
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t r0 = c * rows_per_chunk;
      const int64_t nr = std::min(rows_per_chunk, rows - r0);
      const int64_t n = nr * row;
      if (t.init == Init::kOnes) {
        std::fill_n(buf.data(), n, 1.0f);
      } else {
        NormalRng rng(mix64(tensor_seed + static_cast<uint64_t>(c)));
        rng.fill(buf.data(), n, t.stddev);
        if (t.init == Init::kNearOne) {
          for (int64_t k = 0; k < n; ++k) buf[static_cast<size_t>(k)] += 1.0f;
        }
        if (t.init == Init::kDivisor) {
          for (int64_t k = 0; k < n; ++k) buf[static_cast<size_t>(k)] = 1.0f + std::abs(buf[static_cast<size_t>(k)]);
        }
      }
      traits.quantize(buf.data(), dst + static_cast<size_t>(r0) * row_bytes, n);
    }
  }, threads);
}

}  // namespace

uint32_t file_type_for(DType type) { return pure_quant_mix(type).file_type; }

const char* random_model_architectures() { return "llama, qwen2, qwen3, qwen3moe, phi3, gemma2, gemma3"; }

void write_random_model(const RandomModelOptions& opt, const std::string& path,
                        const std::function<void(uint64_t, uint64_t)>& progress) {
  RandomModelOptions o = opt;
  const std::string& arch = o.arch;
  const std::string known = std::string(", ") + random_model_architectures() + ",";
  if (known.find(", " + arch + ",") == std::string::npos) {
    fail("gen-model: unsupported architecture '", arch, "' (supported: ", random_model_architectures(), ")");
  }
  if (o.n_embd <= 0 || o.n_layer <= 0 || o.n_head <= 0 || o.n_head_kv <= 0 || o.n_ctx <= 0 || o.head_dim < 0 || o.rope_dim < 0) {
    fail("gen-model: sizes must be positive");
  }
  if (o.head_dim == 0) {
    if (o.n_embd % o.n_head != 0) fail("gen-model: --n-embd ", o.n_embd, " is not divisible by --n-head ", o.n_head);
    o.head_dim = o.n_embd / o.n_head;
  }
  if (o.n_head % o.n_head_kv != 0) {
    fail("gen-model: --n-head ", o.n_head, " is not a multiple of --n-head-kv ", o.n_head_kv);
  }
  if (o.head_dim % 2 != 0) fail("gen-model: head size ", o.head_dim, " must be even (RoPE)");
  if (o.rope_dim == 0) o.rope_dim = o.head_dim;
  if (o.rope_dim % 2 != 0 || o.rope_dim > o.head_dim) fail("gen-model: the rotated size ", o.rope_dim, " must be even and at most the head size");
  const bool moe_arch = arch == "llama" || arch == "qwen3moe";
  if (o.n_expert > 0 && !moe_arch) fail("gen-model: --n-expert needs --arch llama or qwen3moe");
  if (arch == "qwen3moe" && o.n_expert == 0) fail("gen-model: --arch qwen3moe needs --n-expert");
  if (o.n_expert < 0 || o.n_expert_used < 0 || o.n_expert_used > o.n_expert) fail("gen-model: --n-expert-used must be in [1, --n-expert]");
  if (o.n_expert > 0 && o.n_expert_used == 0) o.n_expert_used = std::min<int64_t>(2, o.n_expert);
  if (is_gemma(arch)) o.tied = true;  // Gemma files have no output.weight
  if (o.rope_freq_base <= 0) o.rope_freq_base = arch.rfind("qwen", 0) == 0 || arch == "gemma3" ? 1e6f : 10000.0f;
  if (o.sliding_window <= 0) o.sliding_window = arch == "gemma2" ? 4096 : 512;
  if (o.attn_softcap <= 0) o.attn_softcap = 50.0f;
  const std::string& scaling = o.rope_scaling;
  if (!scaling.empty() && scaling != "linear" && scaling != "yarn" && scaling != "longrope") {
    fail("gen-model: RoPE scaling '", scaling, "' is not one of linear, yarn, longrope");
  }
  if (scaling == "longrope" && arch != "phi3") fail("gen-model: LongRoPE needs --arch phi3");
  if (o.rope_scaling_factor <= 0) o.rope_scaling_factor = 4.0f;
  if (o.rope_orig_ctx < 0 || o.yarn_beta_fast < 0 || o.yarn_beta_slow < 0 || o.rope_attn_factor < 0 || o.yarn_log_mul < 0) {
    fail("gen-model: RoPE scaling parameters must not be negative");
  }
  if (o.final_softcap <= 0) o.final_softcap = 30.0f;
  QuantMix mix = pure_quant_mix(o.type);
  if (!o.quant_mix.empty()) {
    const auto found = find_quant_mix(o.quant_mix);
    if (!found) fail("gen-model: unknown weight type or preset '", o.quant_mix, "' (known: ", quant_mix_names(), ")");
    mix = *found;
  }
  const DTypeTraits& traits = dtype_traits(mix.base);
  if (traits.quantize == nullptr) fail("gen-model: cannot write ", traits.name, " weights");
  if (o.n_ff <= 0) o.n_ff = (o.n_embd * 8 / 3 + 31) / 32 * 32;
  if (o.n_vocab <= 0) {
    o.n_vocab = o.vocab_from.empty()
                    ? 512
                    : static_cast<int64_t>(GgufFile::open(o.vocab_from).get("tokenizer.ggml.tokens").array_size());
  }

  GgufWriter w;
  const std::string a = o.arch + ".";
  w.set("general.architecture", GgufValue::string(o.arch));
  w.set("general.name", GgufValue::string("nomoat random " + o.arch));
  w.set("general.file_type", GgufValue::u32(mix.file_type));
  if (traits.is_quantized) w.set("general.quantization_version", GgufValue::u32(2));
  w.set(a + "context_length", GgufValue::u32(static_cast<uint32_t>(o.n_ctx)));
  w.set(a + "embedding_length", GgufValue::u32(static_cast<uint32_t>(o.n_embd)));
  w.set(a + "block_count", GgufValue::u32(static_cast<uint32_t>(o.n_layer)));
  auto u32 = [](int64_t v) { return GgufValue::u32(static_cast<uint32_t>(v)); };
  // qwen3moe files also carry the (unused) dense width; a different number
  // here shows which one a reader takes.
  w.set(a + "feed_forward_length", u32(arch == "qwen3moe" ? 3 * o.n_ff : o.n_ff));
  w.set(a + "rope.dimension_count", u32(o.rope_dim));
  w.set(a + "attention.head_count", GgufValue::u32(static_cast<uint32_t>(o.n_head)));
  w.set(a + "attention.head_count_kv", GgufValue::u32(static_cast<uint32_t>(o.n_head_kv)));
  w.set(a + "attention.layer_norm_rms_epsilon", GgufValue::f32(o.norm_eps));
  w.set(a + "rope.freq_base", GgufValue::f32(o.rope_freq_base));
  w.set(a + "vocab_size", GgufValue::u32(static_cast<uint32_t>(o.n_vocab)));
  if (arch != "llama" || o.head_dim != o.n_embd / o.n_head) {
    w.set(a + "attention.key_length", u32(o.head_dim));
    w.set(a + "attention.value_length", u32(o.head_dim));
  }
  if (o.n_expert > 0) {
    w.set(a + "expert_count", u32(o.n_expert));
    w.set(a + "expert_used_count", u32(o.n_expert_used));
    if (arch == "qwen3moe") w.set(a + "expert_feed_forward_length", u32(o.n_ff));
  }
  if (!scaling.empty()) {
    // The keys llama.cpp's converters write (gguf-py Keys.Rope).
    w.set(a + "rope.scaling.type", GgufValue::string(scaling));
    if (scaling != "longrope") w.set(a + "rope.scaling.factor", GgufValue::f32(o.rope_scaling_factor));
    if (o.rope_orig_ctx > 0) w.set(a + "rope.scaling.original_context_length", u32(o.rope_orig_ctx));
    if (o.yarn_beta_fast > 0) w.set(a + "rope.scaling.yarn_beta_fast", GgufValue::f32(o.yarn_beta_fast));
    if (o.yarn_beta_slow > 0) w.set(a + "rope.scaling.yarn_beta_slow", GgufValue::f32(o.yarn_beta_slow));
    if (o.rope_attn_factor > 0) w.set(a + "rope.scaling.attn_factor", GgufValue::f32(o.rope_attn_factor));
    if (o.yarn_log_mul > 0) w.set(a + "rope.scaling.yarn_log_multiplier", GgufValue::f32(o.yarn_log_mul));
  }
  if (is_gemma(arch)) w.set(a + "attention.sliding_window", u32(o.sliding_window));
  if (arch == "gemma2") {
    w.set(a + "attn_logit_softcapping", GgufValue::f32(o.attn_softcap));
    w.set(a + "final_logit_softcapping", GgufValue::f32(o.final_softcap));
  }
  add_tokenizer(w, o);

  for (const PlannedTensor& t : plan_tensors(o, mix)) {
    w.add_tensor(t.name, t.type, t.dims, [t, &o](uint8_t* dst, size_t) { fill_tensor(t, o.seed, o.threads, dst); });
  }
  const uint64_t total = w.data_size();
  w.write(path, [&](size_t, size_t, uint64_t done, uint64_t) {
    if (progress) progress(done, total);
  });
}

}  // namespace nomoat
