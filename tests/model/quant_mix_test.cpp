// Quantization presets: the per-tensor types of docs/quantize.md's table,
// and gen-model files written with them.
#include "model/quant_mix.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <vector>

#include "formats/gguf.h"
#include "model/random_model.h"
#include "support/test_data.h"

namespace nomoat {
namespace {

QuantMix mix(const char* name) {
  const auto m = find_quant_mix(name);
  EXPECT_TRUE(m.has_value()) << name;
  return m.value_or(QuantMix{});
}

// A Llama's matrix shapes (GGUF dims: input size first).
struct Shape {
  int64_t n_embd, n_ff, n_vocab, q_dim, kv_dim;
};

DType type_of(const QuantMix& m, const std::string& name, const Shape& s, const QuantModelFacts& f) {
  std::vector<int64_t> dims;
  const std::string t = name.substr(name.rfind('.', name.size() - 8) + 1);
  if (name == "token_embd.weight" || name == "output.weight") dims = {s.n_embd, s.n_vocab};
  else if (t == "attn_q.weight") dims = {s.n_embd, s.q_dim};
  else if (t == "attn_k.weight" || t == "attn_v.weight") dims = {s.n_embd, s.kv_dim};
  else if (t == "attn_output.weight") dims = {s.q_dim, s.n_embd};
  else if (t == "ffn_gate.weight" || t == "ffn_up.weight") dims = {s.n_embd, s.n_ff};
  else if (t == "ffn_down.weight") dims = {s.n_ff, s.n_embd};
  else dims = {s.n_embd};
  return quant_mix_type(m, name, dims, f);
}

std::string blk(int i, const char* t) { return "blk." + std::to_string(i) + "." + t + ".weight"; }

// Llama-3.2-1B: 16 layers, GQA 4, tied output.
TEST(QuantMix, Llama32OneBillionQ4KM) {
  const Shape s{2048, 8192, 128256, 2048, 512};
  const QuantModelFacts f{"llama", 16, 32, 8, 0, false};
  const QuantMix m = mix("q4_k_m");
  EXPECT_EQ(m.file_type, 15u);
  EXPECT_EQ(m.base, DType::Q4_K);
  const std::set<int> more_bits = {0, 1, 4, 7, 10, 13, 14, 15};
  for (int i = 0; i < 16; ++i) {
    SCOPED_TRACE(i);
    const DType big = more_bits.count(i) ? DType::Q6_K : DType::Q4_K;
    EXPECT_EQ(type_of(m, blk(i, "attn_v"), s, f), big);
    EXPECT_EQ(type_of(m, blk(i, "ffn_down"), s, f), big);
    for (const char* t : {"attn_q", "attn_k", "attn_output", "ffn_gate", "ffn_up"}) EXPECT_EQ(type_of(m, blk(i, t), s, f), DType::Q4_K) << t;
    EXPECT_EQ(type_of(m, blk(i, "attn_norm"), s, f), DType::F32);
  }
  EXPECT_EQ(type_of(m, "token_embd.weight", s, f), DType::Q6_K);  // tied: the output's type
  EXPECT_EQ(type_of(m, "output_norm.weight", s, f), DType::F32);
}

// Llama-2-7B-shaped (32 layers, no GQA, own output matrix): every preset's
// row of docs/quantize.md.
TEST(QuantMix, PresetTableForALlama) {
  const Shape s{4096, 11008, 32000, 4096, 4096};
  const QuantModelFacts f{"llama", 32, 32, 32, 0, true};
  struct Row {
    const char* preset;
    DType base, embd, output, attn_output;
    DType v_more, v_other;        // attn_v in "more bits" layers (first: layers 0-1 / 0-3 as noted) and elsewhere
    DType down_more, down_other;  // ffn_down likewise
    std::set<int> more;           // which layers get v_more / down_more
    uint32_t file_type;
  };
  const std::set<int> umb = {0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31};
  const Row rows[] = {
      {"q8_0", DType::Q8_0, DType::Q8_0, DType::Q8_0, DType::Q8_0, DType::Q8_0, DType::Q8_0, DType::Q8_0, DType::Q8_0, {}, 7},
      {"q6_k", DType::Q6_K, DType::Q6_K, DType::Q6_K, DType::Q6_K, DType::Q6_K, DType::Q6_K, DType::Q6_K, DType::Q6_K, {}, 18},
      {"q5_k_m", DType::Q5_K, DType::Q5_K, DType::Q6_K, DType::Q5_K, DType::Q6_K, DType::Q5_K, DType::Q6_K, DType::Q5_K, umb, 17},
      {"q5_k_s", DType::Q5_K, DType::Q5_K, DType::Q6_K, DType::Q5_K, DType::Q5_K, DType::Q5_K, DType::Q5_K, DType::Q5_K, {}, 16},
      {"q4_k_m", DType::Q4_K, DType::Q4_K, DType::Q6_K, DType::Q4_K, DType::Q6_K, DType::Q4_K, DType::Q6_K, DType::Q4_K, umb, 15},
      {"q4_k_s", DType::Q4_K, DType::Q4_K, DType::Q6_K, DType::Q4_K, DType::Q5_K, DType::Q4_K, DType::Q5_K, DType::Q4_K, {0, 1, 2, 3}, 14},
      {"q4_0", DType::Q4_0, DType::Q4_0, DType::Q6_K, DType::Q4_0, DType::Q4_0, DType::Q4_0, DType::Q4_0, DType::Q4_0, {}, 2},
      {"q3_k_m", DType::Q3_K, DType::Q3_K, DType::Q6_K, DType::Q4_K, DType::Q5_K, DType::Q4_K, DType::Q5_K, DType::Q4_K, {0, 1}, 12},
      {"q3_k_s", DType::Q3_K, DType::Q3_K, DType::Q6_K, DType::Q3_K, DType::Q3_K, DType::Q3_K, DType::Q3_K, DType::Q3_K, {}, 11},
      {"q3_k_l", DType::Q3_K, DType::Q3_K, DType::Q6_K, DType::Q5_K, DType::Q5_K, DType::Q5_K, DType::Q5_K, DType::Q5_K, {}, 13},
      {"q2_k", DType::Q2_K, DType::Q2_K, DType::Q6_K, DType::Q3_K, DType::Q3_K, DType::Q3_K, DType::Q3_K, DType::Q3_K, {}, 10},
      {"f16", DType::F16, DType::F16, DType::F16, DType::F16, DType::F16, DType::F16, DType::F16, DType::F16, {}, 1},
      {"bf16", DType::BF16, DType::BF16, DType::BF16, DType::BF16, DType::BF16, DType::BF16, DType::BF16, DType::BF16, {}, 32},
      {"f32", DType::F32, DType::F32, DType::F32, DType::F32, DType::F32, DType::F32, DType::F32, DType::F32, {}, 0},
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(r.preset);
    const QuantMix m = mix(r.preset);
    EXPECT_EQ(m.file_type, r.file_type);
    EXPECT_EQ(m.base, r.base);
    EXPECT_EQ(type_of(m, "token_embd.weight", s, f), r.embd);
    EXPECT_EQ(type_of(m, "output.weight", s, f), r.output);
    for (int i = 0; i < 32; ++i) {
      SCOPED_TRACE(i);
      const bool more = r.more.count(i) > 0;
      EXPECT_EQ(type_of(m, blk(i, "attn_v"), s, f), more ? r.v_more : r.v_other);
      EXPECT_EQ(type_of(m, blk(i, "ffn_down"), s, f), more ? r.down_more : r.down_other);
      EXPECT_EQ(type_of(m, blk(i, "attn_output"), s, f), r.attn_output);
      for (const char* t : {"attn_q", "attn_k", "ffn_gate", "ffn_up"}) EXPECT_EQ(type_of(m, blk(i, t), s, f), r.base) << t;
      EXPECT_EQ(type_of(m, blk(i, "ffn_norm"), s, f), DType::F32);
    }
  }
}

TEST(QuantMix, ModelFactsChangeTheRules) {
  const Shape s{4096, 14336, 32000, 4096, 1024};
  // GQA >= 4: Q2_K keeps attn_v at Q4_K.
  EXPECT_EQ(type_of(mix("q2_k"), blk(5, "attn_v"), s, {"llama", 32, 32, 8, 0, true}), DType::Q4_K);
  // 8 experts (Mixtral): attn_v/attn_k Q8_0, attn_output Q5_K, the router F32.
  const QuantModelFacts moe{"llama", 32, 32, 8, 8, true};
  EXPECT_EQ(type_of(mix("q4_k_m"), blk(5, "attn_v"), s, moe), DType::Q8_0);
  EXPECT_EQ(type_of(mix("q4_k_m"), blk(5, "attn_k"), s, moe), DType::Q8_0);
  EXPECT_EQ(type_of(mix("q4_k_m"), blk(5, "attn_output"), s, moe), DType::Q5_K);
  const std::vector<int64_t> router = {4096, 8};
  EXPECT_EQ(quant_mix_type(mix("q4_k_m"), "blk.5.ffn_gate_inp.weight", router, moe), DType::F32);
  const std::vector<int64_t> exps = {14336, 4096, 8};
  EXPECT_EQ(quant_mix_type(mix("q4_k_m"), "blk.0.ffn_down_exps.weight", exps, moe), DType::Q6_K);
  EXPECT_EQ(quant_mix_type(mix("q4_k_m"), "blk.5.ffn_down_exps.weight", exps, moe), DType::Q4_K);
  // Fused QKV (phi3).
  const std::vector<int64_t> qkv = {3072, 9216};
  const QuantModelFacts phi{"phi3", 32, 32, 32, 0, true};
  EXPECT_EQ(quant_mix_type(mix("q4_k_m"), "blk.3.attn_qkv.weight", qkv, phi), DType::Q5_K);
  EXPECT_EQ(quant_mix_type(mix("q5_k_m"), "blk.3.attn_qkv.weight", qkv, phi), DType::Q6_K);
  EXPECT_EQ(quant_mix_type(mix("q3_k_m"), "blk.3.attn_qkv.weight", qkv, phi), DType::Q4_K);
}

// The router, norms and vectors are kept out of every quantizing mix: presets,
// single types and --pure alike (convert --type q4_k once quantized the router).
TEST(QuantMix, KeptTensorsAreTheSameForPresetsSingleTypesAndPure) {
  const QuantModelFacts moe{"qwen3moe", 4, 8, 4, 8, true};
  const std::vector<int64_t> router = {4096, 8}, norm2d = {128, 4}, column = {4096, 1}, matrix = {4096, 4096};
  EXPECT_EQ(quant_mix_kept("blk.0.ffn_gate_inp.weight", router), KeptTensor::kRouter);
  EXPECT_EQ(quant_mix_kept("blk.0.attn_q_norm.weight", norm2d), KeptTensor::kNorm);
  EXPECT_EQ(quant_mix_kept("blk.0.ffn_up.weight", column), KeptTensor::kVector);
  EXPECT_EQ(quant_mix_kept("rope_freqs", matrix), KeptTensor::kNotWeight);
  EXPECT_EQ(quant_mix_kept("blk.0.ffn_up.weight", matrix), KeptTensor::kNo);
  for (const QuantMix& m : {mix("q4_k_m"), mix("q4_k"), mix("q8_0"), pure_quant_mix(DType::Q4_K), pure_quant_mix(DType::Q8_0)}) {
    SCOPED_TRACE(m.name + (m.mixed ? "" : " (every matrix)"));
    EXPECT_EQ(quant_mix_type(m, "blk.0.ffn_gate_inp.weight", router, moe), DType::F32);
    EXPECT_EQ(quant_mix_type(m, "blk.0.attn_q_norm.weight", norm2d, moe), DType::F32);
    EXPECT_EQ(quant_mix_type(m, "blk.0.ffn_up.weight", column, moe), DType::F32);
    EXPECT_NE(quant_mix_type(m, "blk.0.ffn_up.weight", matrix, moe), DType::F32);
  }
  // A float mix stores them in its type, like every matrix.
  EXPECT_EQ(quant_mix_type(mix("f16"), "blk.0.ffn_gate_inp.weight", router, moe), DType::F16);
  EXPECT_EQ(quant_mix_type(pure_quant_mix(DType::BF16), "blk.0.ffn_gate_inp.weight", router, moe), DType::BF16);
}

TEST(QuantMix, RowsThatDoNotFitFallBack) {
  const QuantModelFacts f{"llama", 8, 4, 4, 0, true};
  auto type = [&](const char* preset, const char* name, int64_t row) {
    const std::vector<int64_t> dims = {row, 64};
    return quant_mix_type(mix(preset), name, dims, f);
  };
  EXPECT_EQ(type("q4_k_m", "blk.3.ffn_up.weight", 704), DType::Q5_0);
  EXPECT_EQ(type("q4_k_m", "blk.0.ffn_down.weight", 704), DType::Q8_0);  // Q6_K
  EXPECT_EQ(type("q5_k_s", "blk.3.ffn_up.weight", 704), DType::Q5_1);
  EXPECT_EQ(type("q2_k", "blk.3.ffn_up.weight", 704), DType::Q4_0);
  EXPECT_EQ(type("q3_k_m", "blk.3.ffn_up.weight", 704), DType::Q4_0);
  EXPECT_EQ(type("q4_k_m", "output.weight", 704), DType::Q8_0);
  EXPECT_EQ(type("q4_0", "output.weight", 704), DType::Q8_0);  // Q6_K, whose blocks do not fit
  EXPECT_EQ(type("q4_0", "output.weight", 512), DType::Q6_K);
  EXPECT_EQ(type("q4_k_m", "blk.3.ffn_up.weight", 100), DType::F16);
  EXPECT_EQ(type("q8_0", "blk.3.ffn_up.weight", 100), DType::F16);
  const std::vector<int64_t> norm = {704};
  EXPECT_EQ(quant_mix_type(mix("q4_k_m"), "blk.0.attn_norm.weight", norm, f), DType::F32);
}

TEST(QuantMix, NamesAndSingleTypes) {
  EXPECT_EQ(mix("Q4_K_M").name, "q4_k_m");
  EXPECT_FALSE(find_quant_mix("q4_k_xl").has_value());
  EXPECT_FALSE(find_quant_mix("iq4_nl").has_value());  // a type nomoat cannot write
  // A single type that is no preset: every matrix that type, with the old
  // gen-model fallback (Q8_0 for K-quant rows that do not fit).
  const QuantMix q4k = mix("q4_k");
  EXPECT_FALSE(q4k.mixed);
  EXPECT_EQ(q4k.file_type, 14u);
  const QuantModelFacts f{"llama", 8, 4, 4, 0, true};
  const std::vector<int64_t> fits = {512, 64}, narrow = {64, 64};
  EXPECT_EQ(quant_mix_type(q4k, "output.weight", fits, f), DType::Q4_K);
  EXPECT_EQ(quant_mix_type(q4k, "blk.0.attn_v.weight", narrow, f), DType::Q8_0);
  EXPECT_EQ(pure_quant_mix(DType::Q2_K).file_type, 10u);
  EXPECT_EQ(file_type_for(DType::Q4_K), 14u);
  const std::string names = quant_mix_names();
  for (const char* n : {"q4_k_m", "q2_k", "q8_0", "f16", "q4_k", "q8_k"}) EXPECT_NE(names.find(n), std::string::npos) << n;
}

// gen-model writes each tensor in its preset type.
TEST(QuantMix, GenModelWritesThePresetTypes) {
  const auto dir = testing::scratch_dir("quant_mix_gen");
  for (const char* preset : {"q4_k_m", "q3_k_m", "q2_k", "q4_0"}) {
    SCOPED_TRACE(preset);
    RandomModelOptions o;
    o.n_embd = 256;
    o.n_layer = 8;
    o.n_head = 4;
    o.n_head_kv = 1;
    o.n_ff = 512;
    o.n_vocab = 300;
    o.tied = true;
    o.quant_mix = preset;
    o.threads = 2;
    const std::string path = (dir / (std::string(preset) + ".gguf")).string();
    write_random_model(o, path);
    const GgufFile g = GgufFile::open(path);
    const QuantMix m = mix(preset);
    EXPECT_EQ(g.get("general.file_type").as_u64(), m.file_type);
    const QuantModelFacts f{"llama", 8, 4, 1, 0, false};
    std::map<std::string, DType> types;
    for (const auto& t : g.tensors()) {
      types[t.name] = t.type;
      EXPECT_EQ(t.type, quant_mix_type(m, t.name, t.dims, f)) << t.name;
    }
    EXPECT_EQ(types.count("output.weight"), 0u);
    EXPECT_EQ(types["token_embd.weight"], DType::Q6_K);  // tied: the output's type
    EXPECT_EQ(types["blk.0.attn_norm.weight"], DType::F32);
  }
  std::string out;
  const std::string p = (dir / "cli.gguf").string();
  ASSERT_EQ(testing::run_command(testing::nomoat_binary() + " gen-model -q --type q4_k_m --n-embd 256 --n-layer 8 --n-head 4 --n-head-kv 1 " +
                                     "--n-ff 512 --n-vocab 300 -o " + p,
                                 &out),
            0)
      << out;
  {
    const GgufFile g = GgufFile::open(p);
    std::map<std::string, DType> types;
    for (const auto& t : g.tensors()) types[t.name] = t.type;
    EXPECT_EQ(types["blk.0.attn_v.weight"], DType::Q6_K);
    EXPECT_EQ(types["blk.2.attn_v.weight"], DType::Q4_K);
    EXPECT_EQ(types["blk.3.ffn_down.weight"], DType::Q6_K);  // 8 layers: 0, 3, 6, 7 get more bits
    EXPECT_EQ(types["blk.4.ffn_down.weight"], DType::Q4_K);
    EXPECT_EQ(types["output.weight"], DType::Q6_K);
    EXPECT_EQ(types["token_embd.weight"], DType::Q4_K);
    EXPECT_EQ(g.get("general.file_type").as_u64(), 15u);
  }
  ASSERT_EQ(testing::run_command(testing::nomoat_binary() + " gen-model -q --pure --type q4_k_m --n-embd 256 --n-layer 8 --n-head 4 " +
                                     "--n-ff 512 --n-vocab 300 -o " + p,
                                 &out),
            0)
      << out;
  const GgufFile g = GgufFile::open(p);
  for (const auto& t : g.tensors()) EXPECT_EQ(t.type, t.dims.size() == 1 ? DType::F32 : DType::Q4_K) << t.name;
  EXPECT_NE(testing::run_command(testing::nomoat_binary() + " gen-model -q --type q4_k_xl -o " + p, &out), 0);
  EXPECT_NE(out.find("q4_k_xl"), std::string::npos) << out;
}

}  // namespace
}  // namespace nomoat
