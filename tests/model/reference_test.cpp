// nomoat's forward pass against an independent NumPy implementation
// (tests/reference/llama_ref.py) on random-weight models nomoat writes, and
// its dequantizers against the NumPy ones (tests/reference/dequant_check.py).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "model/forward.h"
#include "model/random_model.h"
#include "support/test_data.h"

namespace nomoat {
namespace {

namespace fs = std::filesystem;
using testing::have_numpy;

std::vector<float> read_f32(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<char> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::vector<float> out(bytes.size() / 4);
  std::memcpy(out.data(), bytes.data(), out.size() * 4);
  return out;
}

std::string reference_script(const std::string& name) { return std::string(NOMOAT_SOURCE_DIR) + "/tests/reference/" + name; }

void gen_model(const fs::path& out, const std::string& args) {
  std::string log;
  ASSERT_EQ(testing::run_command(testing::nomoat_binary() + " gen-model -q " + args + " -o " + out.string(), &log), 0) << log;
}

// The context nomoat runs with (KV cache positions); the reference is told
// it too, as LongRoPE chooses its factors by it.
constexpr int64_t kContext = 64;

// nomoat's logits for every position of `tokens`, in one batch.
std::vector<float> nomoat_logits(const std::string& path, const std::vector<TokenId>& tokens, DType kv_type) {
  const auto model = Model::load(path);
  KvCache cache(model->spec(), kContext, 1, kv_type);
  std::vector<BatchEntry> batch;
  for (size_t i = 0; i < tokens.size(); ++i) batch.push_back({0, static_cast<int64_t>(i), tokens[i], true});
  return forward(*model, cache, batch, 2);
}

struct Case {
  const char* name;
  const char* args;
  DType kv;
  double tolerance;  // max |diff| / max |logit|
};

// Q8_0, Q4_0 and Q4_K weights run the fast kernels (kernels/fast_matmul.h),
// which round every activation vector to int8 per 32-block (d = amax / 127,
// about 0.5% relative rms error per matmul for Gaussian-like blocks) before
// an exact integer dot; the NumPy reference keeps float activations.
// Compounded over the layers of these small untrained models that measured
// 1.3% to 2.2% (max |diff| / max |logit|) over the Q8_0 and Q4_K cases; 4e-2
// keeps a margin over it, while a kernel bug (wrong block, nibble or scale)
// gives errors of order 1. The kernels themselves are checked element-wise
// against the scalar reference in tests/kernels/fast_matmul_test.cpp.
constexpr double kInt8ActivationTolerance = 4e-2;

const std::vector<TokenId> kTokens = {1, 300, 17, 45, 280, 3, 3, 511, 100, 42, 7, 260};

// Runs the NumPy reference on `model` and compares its logits with nomoat's
// at every position: max |diff| <= tolerance * max |logit|.
void expect_matches_reference(const std::string& name, const fs::path& model, DType kv, double tolerance) {
  std::string ids;
  for (TokenId t : kTokens) ids += (ids.empty() ? "" : ",") + std::to_string(t);
  std::string log;
  const fs::path ref_out = model.parent_path() / (name + ".f32");
  ASSERT_EQ(testing::run_command("/usr/bin/python3 " + reference_script("llama_ref.py") + " " + model.string() + " --tokens " + ids +
                                     " --n-ctx " + std::to_string(kContext) + " --out " + ref_out.string(),
                                 &log),
            0)
      << log;
  const std::vector<float> ref = read_f32(ref_out);
  const std::vector<float> ours = nomoat_logits(model.string(), kTokens, kv);
  ASSERT_EQ(ref.size(), ours.size());
  double max_abs = 0, max_diff = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    max_abs = std::max(max_abs, std::abs(static_cast<double>(ref[i])));
    max_diff = std::max(max_diff, std::abs(static_cast<double>(ref[i]) - ours[i]));
  }
  std::printf("%-22s max |logit| %.4f, max |diff| %.3g (%.3g relative, bound %.0e)\n", name.c_str(), max_abs, max_diff, max_diff / max_abs,
              tolerance);
  EXPECT_LE(max_diff, tolerance * max_abs);
}

TEST(ModelReference, LogitsMatchNumpyAtEveryPosition) {
  if (!have_numpy()) GTEST_SKIP() << "/usr/bin/python3 with numpy not installed (scripts/setup.sh installs python3-numpy)";
  const fs::path dir = testing::scratch_dir("model_reference");
  // F32 and F16 weights against the reference; quantized weights against the
  // reference run on the same dequantized weights (it reads the same file).
  const Case cases[] = {
      {"f32_gqa", "--type f32 --n-embd 64 --n-head 8 --n-head-kv 2 --n-ff 96 --n-layer 3 --n-vocab 512", DType::F32, 1e-3},
      {"f16_tied", "--type f16 --tied --n-embd 64 --n-head 4 --n-layer 2 --n-vocab 512", DType::F32, 1e-3},
      {"q8_0", "--type q8_0 --n-embd 128 --n-head 4 --n-head-kv 1 --n-ff 256 --n-vocab 512", DType::F32, kInt8ActivationTolerance},
      {"q4_k", "--type q4_k --n-embd 256 --n-head 4 --n-ff 512 --n-layer 1 --n-vocab 512", DType::F32, kInt8ActivationTolerance},
      // A half-precision KV cache rounds keys, values, queries and weights to
      // fp16 (relative error 2^-11 each): allow 3e-3.
      {"f32_f16cache", "--type f32 --n-embd 64 --n-head 8 --n-head-kv 4 --n-layer 2 --n-vocab 512", DType::F16, 3e-3},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const fs::path model = dir / (std::string(c.name) + ".gguf");
    gen_model(model, c.args);
    expect_matches_reference(c.name, model, c.kv, c.tolerance);
  }
}

// Small random models of each architecture family; options beyond the CLI's
// (head size, window, caps) are set here directly.
struct ArchCase {
  const char* name;
  RandomModelOptions options;
  DType kv;
  double tolerance;
};

RandomModelOptions small(const char* arch, DType type, int64_t n_layer = 2) {
  RandomModelOptions o;
  o.arch = arch;
  o.type = type;
  o.n_embd = 64;
  o.n_head = 4;
  o.n_head_kv = 2;
  o.n_ff = 96;
  o.n_layer = n_layer;
  o.n_vocab = 512;
  o.threads = 1;
  return o;
}

template <typename F>
RandomModelOptions with(RandomModelOptions o, F change) {
  change(o);
  return o;
}

std::vector<ArchCase> arch_cases() {
  return {
      {"qwen2_f32", small("qwen2", DType::F32), DType::F32, 1e-3},
      {"qwen2_q8_0_tied", with(small("qwen2", DType::Q8_0), [](auto& o) { o.tied = true; }), DType::F32, kInt8ActivationTolerance},
      // Qwen3's head size is key_length, not n_embd / n_head.
      {"qwen3_f32", with(small("qwen3", DType::F32), [](auto& o) { o.head_dim = 32; }), DType::F32, 1e-3},
      {"qwen3_f16", with(small("qwen3", DType::F16), [](auto& o) { o.head_dim = 24; }), DType::F32, 1e-3},
      {"phi3_f32", small("phi3", DType::F32), DType::F32, 1e-3},
      {"phi3_q8_0_partial_rope", with(small("phi3", DType::Q8_0), [](auto& o) { o.rope_dim = 8; }), DType::F32, kInt8ActivationTolerance},
      // Caps and windows small enough to change the result on 12 tokens.
      {"gemma2_f32", with(small("gemma2", DType::F32, 3), [](auto& o) {
         o.head_dim = 32;
         o.sliding_window = 4;
         o.attn_softcap = 0.5f;
         o.final_softcap = 2.0f;
       }), DType::F32, 1e-3},
      {"gemma2_f16", with(small("gemma2", DType::F16), [](auto& o) { o.sliding_window = 5; }), DType::F32, 1e-3},
      {"gemma3_f32", with(small("gemma3", DType::F32, 7), [](auto& o) {
         o.head_dim = 32;
         o.sliding_window = 4;
       }), DType::F32, 1e-3},
      {"gemma3_q8_0", with(small("gemma3", DType::Q8_0, 6), [](auto& o) { o.sliding_window = 3; }), DType::F32, kInt8ActivationTolerance},
      {"mixtral_f32", with(small("llama", DType::F32), [](auto& o) {
         o.n_expert = 4;
         o.n_expert_used = 2;
       }), DType::F32, 1e-3},
      {"mixtral_q8_0", with(small("llama", DType::Q8_0), [](auto& o) {
         o.n_expert = 8;
         o.n_expert_used = 2;
       }), DType::F32, kInt8ActivationTolerance},
      {"qwen3moe_f32", with(small("qwen3moe", DType::F32), [](auto& o) {
         o.n_expert = 6;
         o.n_expert_used = 3;
         o.n_ff = 32;
       }), DType::F32, 1e-3},
      {"qwen3moe_f16", with(small("qwen3moe", DType::F16), [](auto& o) {
         o.n_expert = 4;
         o.n_expert_used = 2;
         o.head_dim = 32;
       }), DType::F32, 1e-3},
      // fp16 attention (the default cache) with windows, caps and q/k norms.
      {"gemma2_f16cache", with(small("gemma2", DType::F32, 2), [](auto& o) {
         o.sliding_window = 4;
         o.attn_softcap = 0.5f;
       }), DType::F16, 3e-3},
      {"gemma3_f16cache", with(small("gemma3", DType::F32, 6), [](auto& o) { o.sliding_window = 4; }), DType::F16, 3e-3},
      {"qwen3moe_f16cache", with(small("qwen3moe", DType::F32), [](auto& o) { o.n_expert = 4; }), DType::F16, 3e-3},
  };
}

TEST(ModelReference, ArchitecturesMatchNumpyAtEveryPosition) {
  if (!have_numpy()) GTEST_SKIP() << "/usr/bin/python3 with numpy not installed (scripts/setup.sh installs python3-numpy)";
  const fs::path dir = testing::scratch_dir("arch_reference");
  for (const ArchCase& c : arch_cases()) {
    SCOPED_TRACE(c.name);
    const fs::path model = dir / (std::string(c.name) + ".gguf");
    write_random_model(c.options, model.string());
    expect_matches_reference(c.name, model, c.kv, c.tolerance);
  }
}

// RoPE scaling schemes, F32 weights and cache. Original contexts and sizes are
// chosen so that 12 positions already tell a wrong ramp, factor or
// magnitude apart (see tests/reference/llama_ref.py for the definitions).
std::vector<ArchCase> rope_scaling_cases() {
  return {
      // YaRN with the default betas: head size 32, base 1e6, original context
      // 256: pairs 0..5 of 16 ramp from kept to stretched frequencies.
      {"yarn_qwen3_f32", with(small("qwen3", DType::F32), [](auto& o) {
         o.head_dim = 32;
         o.rope_scaling = "yarn";
         o.rope_scaling_factor = 4;
         o.rope_orig_ctx = 256;
       }), DType::F32, 1e-3},
      // Adjacent pairs, explicit betas (ramp over pairs 1..4 of 8) and an
      // attention factor from the file on top of YaRN's own.
      {"yarn_llama_betas_f32", with(small("llama", DType::F32), [](auto& o) {
         o.rope_scaling = "yarn";
         o.rope_scaling_factor = 8;
         o.rope_orig_ctx = 512;
         o.yarn_beta_fast = 16;
         o.yarn_beta_slow = 2;
         o.rope_attn_factor = 0.9f;
       }), DType::F32, 1e-3},
      // NeoX pairs with mscale_all_dim: magnitude (1 + 0.1 ln 16) / (1 + 0.05 ln 16).
      {"yarn_qwen2_log_mul_f32", with(small("qwen2", DType::F32), [](auto& o) {
         o.rope_freq_base = 10000;
         o.rope_scaling = "yarn";
         o.rope_scaling_factor = 16;
         o.rope_orig_ctx = 128;
         o.yarn_log_mul = 0.5f;
       }), DType::F32, 1e-3},
      // LongRoPE, long factors: the 64-position context exceeds the original
      // 32; no attn_factor key, so sqrt(1 + ln(2048 / 32) / ln 32) applies.
      {"longrope_long_f32", with(small("phi3", DType::F32), [](auto& o) {
         o.rope_scaling = "longrope";
         o.rope_orig_ctx = 32;
       }), DType::F32, 1e-3},
      // LongRoPE, short factors (original context 128 > 64), partial
      // rotation and the file's attention factor.
      {"longrope_short_partial_f32", with(small("phi3", DType::F32), [](auto& o) {
         o.rope_scaling = "longrope";
         o.rope_orig_ctx = 128;
         o.n_ctx = 4096;
         o.rope_dim = 12;
         o.rope_attn_factor = 1.19f;
       }), DType::F32, 1e-3},
      // Llama 3.1: rope_freqs.weight divides each pair's frequency.
      {"rope_freqs_llama_f32", with(small("llama", DType::F32), [](auto& o) { o.rope_freqs = true; }), DType::F32, 1e-3},
  };
}

TEST(ModelReference, RopeScalingMatchesNumpyAtEveryPosition) {
  if (!have_numpy()) GTEST_SKIP() << "/usr/bin/python3 with numpy not installed (scripts/setup.sh installs python3-numpy)";
  const fs::path dir = testing::scratch_dir("rope_scaling_reference");
  for (const ArchCase& c : rope_scaling_cases()) {
    SCOPED_TRACE(c.name);
    const fs::path model = dir / (std::string(c.name) + ".gguf");
    write_random_model(c.options, model.string());
    expect_matches_reference(c.name, model, c.kv, c.tolerance);
  }
}

TEST(ModelReference, DequantizationMatchesNumpy) {
  if (!have_numpy()) GTEST_SKIP() << "/usr/bin/python3 with numpy not installed";
  const fs::path dir = testing::scratch_dir("dequant_reference");
  for (const char* type : {"f16", "bf16", "q4_0", "q4_1", "q5_0", "q5_1", "q8_0", "q2_k", "q3_k", "q4_k", "q5_k", "q6_k"}) {
    SCOPED_TRACE(type);
    const fs::path model = dir / (std::string(type) + ".gguf");
    gen_model(model, std::string("--type ") + type + " --n-embd 256 --n-ff 512 --n-layer 1 --n-head 2 --n-vocab 300");
    const fs::path out = dir / type;
    fs::create_directories(out);
    std::string log;
    ASSERT_EQ(testing::run_command("/usr/bin/python3 " + reference_script("dequant_check.py") + " " + model.string() + " " + out.string(), &log), 0)
        << log;
    const GgufFile f = GgufFile::open(model.string());
    for (const auto& t : f.tensors()) {
      const std::vector<float> ref = read_f32(out / (t.name + ".f32"));
      ASSERT_EQ(ref.size(), static_cast<size_t>(t.n_elements)) << t.name;
      std::vector<float> ours(ref.size());
      dtype_traits(t.type).dequantize(t.data, ours.data(), t.n_elements);
      size_t bad = 0;
      for (size_t i = 0; i < ref.size(); ++i) {
        // One ulp of slack: the reference may round a multiply-add differently.
        if (std::abs(ref[i] - ours[i]) > 2e-7f * std::max(1.0f, std::abs(ref[i]))) ++bad;
      }
      EXPECT_EQ(bad, 0u) << t.name << " (" << dtype_traits(t.type).name << ")";
    }
  }
}

}  // namespace
}  // namespace nomoat
