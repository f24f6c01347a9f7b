// The architecture families beyond llama: what their files declare becomes
// the right ModelSpec, batching does not change their results (windows and
// experts included), and a missing or misshapen family-specific tensor is one
// Error naming the file and the tensor. Their logits against the NumPy
// reference are in reference_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "base/error.h"
#include "formats/gguf_writer.h"
#include "model/forward.h"
#include "model/random_model.h"
#include "support/test_data.h"

namespace nomoat {
namespace {

namespace fs = std::filesystem;

RandomModelOptions small(const char* arch, int64_t n_layer = 2) {
  RandomModelOptions o;
  o.arch = arch;
  o.type = DType::F32;
  o.n_embd = 64;
  o.n_head = 4;
  o.n_head_kv = 2;
  o.n_ff = 96;
  o.n_layer = n_layer;
  o.n_vocab = 300;
  o.threads = 1;
  return o;
}

std::string write(const RandomModelOptions& o, const std::string& name) {
  const fs::path p = testing::scratch_dir("arch_" + name) / (name + ".gguf");
  write_random_model(o, p.string());
  return p.string();
}

TEST(Architectures, SpecsFollowTheirFiles) {
  {
    RandomModelOptions o = small("qwen3");
    o.head_dim = 24;  // != n_embd / n_head
    const auto m = Model::load(write(o, "qwen3"));
    EXPECT_EQ(m->spec().head_dim, 24);
    EXPECT_EQ(m->spec().q_dim(), 96);
    EXPECT_EQ(m->spec().rope_style, RopeStyle::kNeox);
    EXPECT_EQ(m->spec().rope_base, 1e6f);
    EXPECT_EQ(m->layers[0].q_norm.size(), 24u);
  }
  {
    RandomModelOptions o = small("gemma2", 3);
    o.sliding_window = 7;
    const auto m = Model::load(write(o, "gemma2"));
    const ModelSpec& s = m->spec();
    EXPECT_TRUE(s.tied_output);
    EXPECT_EQ(s.activation, FfnActivation::kGeluGlu);
    EXPECT_FLOAT_EQ(s.embedding_scale, 8.0f);
    EXPECT_FLOAT_EQ(s.attn_logit_softcap, 50.0f);
    EXPECT_FLOAT_EQ(s.final_logit_softcap, 30.0f);
    EXPECT_FLOAT_EQ(s.attn_scale, 1.0f / 4.0f);  // head_dim 16
    EXPECT_EQ(s.sliding_window, 7);
    EXPECT_TRUE(s.is_local_layer(0));  // even layers slide
    EXPECT_FALSE(s.is_local_layer(1));
    EXPECT_TRUE(s.is_local_layer(2));
  }
  {
    const auto m = Model::load(write(small("gemma3", 7), "gemma3"));
    const ModelSpec& s = m->spec();
    for (int64_t il = 0; il < 7; ++il) EXPECT_EQ(s.is_local_layer(il), il != 5) << il;  // 5 local : 1 global
    EXPECT_EQ(s.rope_base, 1e6f);
    EXPECT_EQ(s.rope_base_local, 10000.0f);
    EXPECT_EQ(s.attn_logit_softcap, 0.0f);
    EXPECT_FALSE(m->layers[0].k_norm.empty());
    EXPECT_FALSE(m->layers[0].post_ffn_norm.empty());
  }
  {
    RandomModelOptions o = small("qwen3moe");
    o.n_expert = 6;
    o.n_expert_used = 3;
    o.n_ff = 32;
    const auto m = Model::load(write(o, "qwen3moe"));
    EXPECT_EQ(m->spec().n_expert, 6);
    EXPECT_EQ(m->spec().n_expert_used, 3);
    EXPECT_EQ(m->spec().n_ff_expert, 32);  // not the dense feed_forward_length (96)
    EXPECT_EQ(m->layers[1].down_exps.expert(5).rows, 64);
  }
  {
    RandomModelOptions o = small("phi3");
    o.rope_dim = 8;
    const auto m = Model::load(write(o, "phi3"));
    EXPECT_EQ(m->spec().rope_dim, 8);
    EXPECT_FALSE(m->layers[0].wqkv.empty());
    EXPECT_TRUE(m->layers[0].w_gate.empty());
  }
}

// Token by token (each attending through the cache) equals one batch.
void expect_batch_equals_steps(const std::string& path, DType kv) {
  const auto model = Model::load(path);
  const std::vector<TokenId> tokens = {1, 200, 17, 45, 280, 3, 3, 299, 100, 42};
  const auto V = static_cast<size_t>(model->spec().n_vocab);
  KvCache whole(model->spec(), 16, 1, kv);
  std::vector<BatchEntry> batch;
  for (size_t i = 0; i < tokens.size(); ++i) batch.push_back({0, static_cast<int64_t>(i), tokens[i], true});
  const auto all = forward(*model, whole, batch, 2);
  KvCache steps(model->spec(), 16, 1, kv);
  for (size_t i = 0; i < tokens.size(); ++i) {
    const auto one = forward(*model, steps, std::span<const BatchEntry>(&batch[i], 1));
    float diff = 0;
    for (size_t j = 0; j < V; ++j) diff = std::max(diff, std::abs(one[j] - all[i * V + j]));
    EXPECT_LT(diff, 1e-4f) << path << " position " << i;
  }
}

TEST(Architectures, BatchingDoesNotChangeResults) {
  RandomModelOptions gemma2 = small("gemma2", 2);
  gemma2.sliding_window = 3;
  RandomModelOptions gemma3 = small("gemma3", 6);
  gemma3.sliding_window = 4;
  RandomModelOptions mixtral = small("llama");
  mixtral.n_expert = 4;
  RandomModelOptions qwen3moe = small("qwen3moe");
  qwen3moe.n_expert = 5;
  qwen3moe.n_expert_used = 3;
  RandomModelOptions yarn = small("qwen3");
  yarn.rope_scaling = "yarn";
  yarn.rope_orig_ctx = 128;
  RandomModelOptions longrope = small("phi3");
  longrope.rope_scaling = "longrope";
  longrope.rope_orig_ctx = 8;  // the 16-position cache: long factors
  for (const auto& [name, o] : {std::pair{"qwen2", small("qwen2")}, {"phi3", small("phi3")}, {"gemma2", gemma2}, {"gemma3", gemma3},
                                {"mixtral", mixtral}, {"qwen3moe", qwen3moe}, {"yarn", yarn}, {"longrope", longrope}}) {
    const std::string path = write(o, std::string("batch_") + name);
    expect_batch_equals_steps(path, DType::F32);
    expect_batch_equals_steps(path, DType::F16);
  }
}

// Rewrites `src` with tensor `name` dropped (new_dims empty) or re-declared
// with `new_dims` over a prefix of its bytes.
std::string tampered(const std::string& src, const std::string& name, const std::vector<int64_t>& new_dims) {
  const GgufFile f = GgufFile::open(src);
  GgufWriter w;
  for (const auto& [key, value] : f.metadata()) w.set(key, value);
  for (const auto& t : f.tensors()) {
    if (t.name != name) {
      w.add_tensor_bytes(t.name, t.type, t.dims, t.data);
    } else if (!new_dims.empty()) {
      w.add_tensor_bytes(t.name, t.type, new_dims, t.data);
    }
  }
  const std::string out = src + ".bad.gguf";
  w.write(out);
  return out;
}

void expect_load_error(const std::string& path, const std::string& tensor) {
  try {
    Model::load(path);
    ADD_FAILURE() << "loaded " << path << " without " << tensor;
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << what;
    EXPECT_NE(what.find("'" + tensor + "'"), std::string::npos) << what;
  }
}

TEST(Architectures, MissingOrMisshapenTensorsNameFileAndTensor) {
  RandomModelOptions moe = small("qwen3moe");
  moe.n_expert = 4;
  const std::string qwen3moe = write(moe, "bad_qwen3moe");
  expect_load_error(tampered(qwen3moe, "blk.1.attn_k_norm.weight", {}), "blk.1.attn_k_norm.weight");
  expect_load_error(tampered(qwen3moe, "blk.0.ffn_up_exps.weight", {64, 96 * 4}), "blk.0.ffn_up_exps.weight");
  expect_load_error(tampered(qwen3moe, "blk.0.ffn_gate_inp.weight", {}), "blk.0.ffn_gate_inp.weight");
  const std::string qwen2 = write(small("qwen2"), "bad_qwen2");
  expect_load_error(tampered(qwen2, "blk.0.attn_v.bias", {}), "blk.0.attn_v.bias");
  const std::string phi3 = write(small("phi3"), "bad_phi3");
  expect_load_error(tampered(phi3, "blk.0.ffn_up.weight", {64, 96}), "blk.0.ffn_up.weight");
  expect_load_error(tampered(phi3, "blk.1.attn_qkv.weight", {}), "blk.1.attn_q.weight");  // falls back to separate q/k/v
  const std::string gemma3 = write(small("gemma3"), "bad_gemma3");
  expect_load_error(tampered(gemma3, "blk.0.post_ffw_norm.weight", {}), "blk.0.post_ffw_norm.weight");
  expect_load_error(tampered(gemma3, "blk.0.attn_q_norm.weight", {8}), "blk.0.attn_q_norm.weight");
}

TEST(Architectures, RopeScalingSpecsFollowTheirFiles) {
  {
    RandomModelOptions o = small("qwen2");
    o.rope_scaling = "yarn";
    o.rope_scaling_factor = 4;
    o.rope_orig_ctx = 256;
    const auto m = Model::load(write(o, "yarn"));
    const ModelSpec& s = m->spec();
    EXPECT_EQ(s.rope_scaling, RopeScaling::kYarn);
    EXPECT_FLOAT_EQ(s.rope_freq_scale, 0.25f);
    EXPECT_EQ(s.rope_orig_ctx, 256);
    EXPECT_EQ(s.yarn_beta_fast, 32.0f);  // defaults when the file has none
    EXPECT_EQ(s.yarn_beta_slow, 1.0f);
    EXPECT_EQ(s.rope_attn_factor, 1.0f);
  }
  {
    RandomModelOptions o = small("phi3");
    o.rope_scaling = "longrope";
    o.rope_orig_ctx = 32;  // context_length 2048: factor 64
    const auto m = Model::load(write(o, "longrope"));
    const ModelSpec& s = m->spec();
    EXPECT_EQ(s.rope_scaling, RopeScaling::kLongRope);
    EXPECT_NEAR(s.rope_attn_factor, std::sqrt(1.0 + std::log(64.0) / std::log(32.0)), 1e-6);
    EXPECT_EQ(m->rope_factors_long.size(), 8u);
    EXPECT_EQ(m->rope_factors_short.size(), 8u);
    expect_load_error(tampered(write(o, "longrope_bad"), "rope_factors_short.weight", {}), "rope_factors_short.weight");
  }
  {
    RandomModelOptions o = small("llama");
    o.rope_freqs = true;
    const auto m = Model::load(write(o, "rope_freqs"));
    ASSERT_EQ(m->rope_freq_factors.size(), 8u);
    for (float f : m->rope_freq_factors) EXPECT_GE(f, 1.0f);
    EXPECT_EQ(m->spec().rope_scaling, RopeScaling::kNone);
  }
}

TEST(Architectures, GenModelRejectsImpossibleOptions) {
  RandomModelOptions o = small("gemma2");
  o.n_expert = 4;
  EXPECT_THROW(write_random_model(o, (testing::scratch_dir("bad_gen") / "x.gguf").string()), Error);
  EXPECT_THROW(write_random_model(small("qwen3moe"), (testing::scratch_dir("bad_gen") / "y.gguf").string()), Error);
  EXPECT_THROW(write_random_model(small("gpt2"), (testing::scratch_dir("bad_gen") / "z.gguf").string()), Error);
  RandomModelOptions longrope = small("llama");
  longrope.rope_scaling = "longrope";  // Phi-3 only
  EXPECT_THROW(write_random_model(longrope, (testing::scratch_dir("bad_gen") / "w.gguf").string()), Error);
}

}  // namespace
}  // namespace nomoat
