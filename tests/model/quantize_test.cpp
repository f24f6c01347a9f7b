// plan_quantize / quantize_model: metadata, per-tensor types (the mix, tied
// outputs, forced types, kept tensors), requantizing, refusing to overwrite
// the input, thread-count independence and progress reports.
#include "model/quantize.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>

#include "base/error.h"
#include "formats/gguf.h"
#include "model/random_model.h"
#include "support/test_data.h"

namespace nomoat {
namespace {

namespace fs = std::filesystem;
using testing::slurp;
using testing::error_of;

// A small Llama whose rows fit K-quant blocks: 4 layers, GQA 2.
std::string small_model(const fs::path& dir, bool tied = false, int64_t n_expert = 0, DType type = DType::F16) {
  RandomModelOptions o;
  o.n_embd = 256;
  o.n_layer = 4;
  o.n_head = 4;
  o.n_head_kv = 2;
  o.n_ff = 512;
  o.n_vocab = 320;
  o.tied = tied;
  o.n_expert = n_expert;
  o.type = type;
  const std::string path = (dir / (std::string(tied ? "tied" : "untied") + (n_expert ? "_moe" : "") + "_" + dtype_traits(type).name + ".gguf")).string();
  write_random_model(o, path);
  return path;
}

QuantizeOptions preset(const std::string& type) {
  QuantizeOptions o;
  o.type = type;
  return o;
}

TEST(Quantize, CopiesEveryKeyAndSetsFileTypeAndVersion) {
  const fs::path dir = testing::scratch_dir("quantize_metadata");
  const std::string in = small_model(dir);
  const std::string out = (dir / "q4_k_m.gguf").string();
  quantize_model(in, out, preset("q4_k_m"));
  const GgufFile a = GgufFile::open(in), b = GgufFile::open(out);
  for (const auto& [key, value] : a.metadata()) {
    const GgufValue* copied = b.find(key);
    ASSERT_NE(copied, nullptr) << key;
    if (key != "general.file_type") { EXPECT_TRUE(*copied == value) << key; }
  }
  EXPECT_EQ(b.get_u64("general.file_type"), 15u);  // LLAMA_FTYPE_MOSTLY_Q4_K_M
  EXPECT_EQ(b.get_u64("general.quantization_version"), 2u);
  EXPECT_EQ(b.metadata().size(), a.metadata().size() + (a.find("general.quantization_version") ? 0 : 1));
  // Back to F16: no quantized tensor, so no quantization version.
  const std::string f16 = (dir / "f16.gguf").string();
  QuantizeOptions o = preset("f16");
  o.allow_requantize = true;
  quantize_model(out, f16, o);
  const GgufFile c = GgufFile::open(f16);
  EXPECT_EQ(c.get_u64("general.file_type"), 1u);
  EXPECT_EQ(c.find("general.quantization_version"), nullptr);
}

TEST(Quantize, EveryPresetsTypesFollowTheMixAndVectorsStayAsTheyAre) {
  const fs::path dir = testing::scratch_dir("quantize_types");
  for (const bool tied : {false, true}) {
    const std::string in = small_model(dir, tied);
    const GgufFile f = GgufFile::open(in);
    const QuantModelFacts facts = quant_model_facts(f);
    EXPECT_EQ(facts.has_output, !tied);
    EXPECT_EQ(facts.n_layer, 4);
    EXPECT_EQ(facts.n_head, 4);
    EXPECT_EQ(facts.n_head_kv, 2);
    for (const char* name : {"q8_0", "q6_k", "q5_k_m", "q5_k_s", "q5_1", "q5_0", "q4_k_m", "q4_k_s", "q4_1", "q4_0", "q3_k_l", "q3_k_m",
                             "q3_k_s", "q2_k", "bf16", "f16", "f32", "q4_k", "q8_k"}) {
      SCOPED_TRACE(std::string(name) + (tied ? " tied" : ""));
      const QuantizePlan plan = plan_quantize(f, preset(name));
      const QuantMix mix = *find_quant_mix(name);
      EXPECT_EQ(plan.mix.file_type, mix.file_type);
      ASSERT_EQ(plan.tensors.size(), f.tensors().size());
      uint64_t bytes = 0;
      for (size_t i = 0; i < plan.tensors.size(); ++i) {
        const QuantizeTensor& t = plan.tensors[i];
        EXPECT_EQ(t.name, f.tensors()[i].name);
        if (t.dims.size() == 1) {
          EXPECT_TRUE(t.kept) << t.name;
          EXPECT_EQ(t.to, DType::F32) << t.name;
        } else {
          EXPECT_FALSE(t.kept) << t.name;
          EXPECT_EQ(t.to, quant_mix_type(mix, t.name, t.dims, facts)) << t.name;
        }
        bytes += t.to_bytes;
      }
      EXPECT_EQ(plan.to_bytes, bytes);
    }
    // The output matrix gets Q6_K in q4_k_m, whether it is output.weight or the tied embedding.
    const QuantizePlan plan = plan_quantize(f, preset("q4_k_m"));
    for (const QuantizeTensor& t : plan.tensors) {
      if (t.name == "output.weight") { EXPECT_EQ(t.to, DType::Q6_K); }
      if (t.name == "token_embd.weight") { EXPECT_EQ(t.to, tied ? DType::Q6_K : DType::Q4_K); }
    }
  }
}

TEST(Quantize, WrittenFileHasThePlannedTypesAndSizes) {
  const fs::path dir = testing::scratch_dir("quantize_written");
  const std::string in = small_model(dir);
  const std::string out = (dir / "q3_k_m.gguf").string();
  const QuantizeResult r = quantize_model(in, out, preset("Q3_K_M"));
  const GgufFile f = GgufFile::open(out);
  ASSERT_EQ(f.tensors().size(), r.plan.tensors.size());
  uint64_t bytes = 0;
  for (size_t i = 0; i < f.tensors().size(); ++i) {
    EXPECT_EQ(f.tensors()[i].name, r.plan.tensors[i].name);
    EXPECT_EQ(f.tensors()[i].type, r.plan.tensors[i].to) << r.plan.tensors[i].name;
    EXPECT_EQ(f.tensors()[i].nbytes, r.plan.tensors[i].to_bytes) << r.plan.tensors[i].name;
    bytes += f.tensors()[i].nbytes;
  }
  EXPECT_EQ(bytes, r.plan.to_bytes);
  EXPECT_EQ(r.out_file_size, fs::file_size(out));
  EXPECT_EQ(r.in_file_size, fs::file_size(in));
  EXPECT_GT(r.plan.from_bits_per_weight(), 15.9);
  EXPECT_LT(r.plan.to_bits_per_weight(), 5.0);
  // Norms are copied bit for bit.
  const GgufFile src = GgufFile::open(in);
  const GgufTensorInfo* a = src.find_tensor("blk.0.attn_norm.weight");
  const GgufTensorInfo* b = f.find_tensor("blk.0.attn_norm.weight");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(std::memcmp(a->data, b->data, a->nbytes), 0);
}

TEST(Quantize, SameTypeIsACopyAndThreadsDoNotChangeTheBytes) {
  const fs::path dir = testing::scratch_dir("quantize_copy");
  const std::string in = small_model(dir);
  // F16 to f16: every tensor copied, so the data section is the input's.
  const std::string f16 = (dir / "f16.gguf").string();
  quantize_model(in, f16, preset("f16"));
  const GgufFile a = GgufFile::open(in), b = GgufFile::open(f16);
  for (size_t i = 0; i < a.tensors().size(); ++i) {
    ASSERT_EQ(a.tensors()[i].nbytes, b.tensors()[i].nbytes);
    EXPECT_EQ(std::memcmp(a.tensors()[i].data, b.tensors()[i].data, a.tensors()[i].nbytes), 0) << a.tensors()[i].name;
  }
  QuantizeOptions one = preset("q2_k"), two = preset("q2_k");
  one.threads = 1;
  two.threads = 2;
  quantize_model(in, (dir / "t1.gguf").string(), one);
  quantize_model(in, (dir / "t2.gguf").string(), two);
  EXPECT_EQ(slurp(dir / "t1.gguf"), slurp(dir / "t2.gguf"));
  // A quantized file to its own preset: nothing is re-encoded, so no requantizing is needed.
  quantize_model((dir / "t1.gguf").string(), (dir / "again.gguf").string(), preset("q2_k"));
  const GgufFile c = GgufFile::open((dir / "t1.gguf").string()), d = GgufFile::open((dir / "again.gguf").string());
  for (size_t i = 0; i < c.tensors().size(); ++i) {
    EXPECT_EQ(std::memcmp(c.tensors()[i].data, d.tensors()[i].data, c.tensors()[i].nbytes), 0) << c.tensors()[i].name;
  }
}

TEST(Quantize, OutputAndEmbeddingTypes) {
  const fs::path dir = testing::scratch_dir("quantize_forced");
  const GgufFile untied = GgufFile::open(small_model(dir, false));
  QuantizeOptions o = preset("q4_k_m");
  o.output_type = "q8_0";
  o.embedding_type = "F16";
  auto type_of = [](const QuantizePlan& p, const std::string& name) {
    for (const auto& t : p.tensors) {
      if (t.name == name) return t.to;
    }
    return DType::I8;
  };
  QuantizePlan p = plan_quantize(untied, o);
  EXPECT_EQ(type_of(p, "output.weight"), DType::Q8_0);
  EXPECT_EQ(type_of(p, "token_embd.weight"), DType::F16);
  EXPECT_EQ(type_of(p, "blk.0.attn_q.weight"), DType::Q4_K);
  // Tied: the embedding is the output matrix, so either option decides it;
  // both at once would leave one silently ignored, so that is refused.
  const GgufFile tied = GgufFile::open(small_model(dir, true));
  EXPECT_EQ(error_of([&] { plan_quantize(tied, o); }),
            tied.path() + ": --output-type and --embedding-type both name token_embd.weight (the model has no output.weight: "
                          "the embedding is the output matrix); give only one");
  QuantizeOptions only_output = preset("q4_k_m");
  only_output.output_type = "q8_0";
  p = plan_quantize(tied, only_output);
  EXPECT_EQ(type_of(p, "token_embd.weight"), DType::Q8_0);
  o.output_type.clear();
  p = plan_quantize(tied, o);
  EXPECT_EQ(type_of(p, "token_embd.weight"), DType::F16);
  // --pure: every matrix the base type, the output included.
  QuantizeOptions pure = preset("q4_k_m");
  pure.pure = true;
  p = plan_quantize(untied, pure);
  for (const auto& t : p.tensors) {
    if (!t.kept) { EXPECT_EQ(t.to, DType::Q4_K) << t.name; }
  }
  o.output_type = "iq2_xxs";
  EXPECT_NE(error_of([&] { plan_quantize(untied, o); }).find("--output-type 'iq2_xxs' is not a type nomoat can write (F32 F16"),
            std::string::npos);
  o.output_type.clear();
  o.embedding_type = "q9_9";
  EXPECT_NE(error_of([&] { plan_quantize(untied, o); }).find("--embedding-type 'q9_9'"), std::string::npos);
  EXPECT_EQ(error_of([&] { plan_quantize(untied, preset("q9")); }).rfind("unknown quantization type 'q9' (known: q8_0 q6_k q5_k_m", 0), 0u);
}

TEST(Quantize, ForcedTypeMustFitTheRows) {
  NOMOAT_REQUIRE_SHARED_DATA();
  const GgufFile stories = GgufFile::open((testing::shared_data_dir() / "tiny" / "stories260K.gguf").string());
  QuantizeOptions o = preset("q8_0");
  o.output_type = "q4_k";
  EXPECT_EQ(error_of([&] { plan_quantize(stories, o); }),
            "--output-type Q4_K does not fit tensor 'output.weight': its rows of 64 values are not a multiple of Q4_K's 256-value blocks");
}

TEST(Quantize, RouterAndNormsAreKept) {
  const fs::path dir = testing::scratch_dir("quantize_moe");
  const GgufFile moe = GgufFile::open(small_model(dir, false, 4));
  const QuantizePlan p = plan_quantize(moe, preset("q4_k_m"));
  EXPECT_EQ(quant_model_facts(moe).n_expert, 4);
  int routers = 0, experts = 0;
  for (const auto& t : p.tensors) {
    if (t.name.find("ffn_gate_inp.weight") != std::string::npos) {
      ++routers;
      EXPECT_TRUE(t.kept);
      EXPECT_EQ(t.to, t.from) << t.name;  // llama.cpp keeps the router as it is
    }
    if (t.name.find("_exps.weight") != std::string::npos) {
      ++experts;
      EXPECT_EQ(t.dims.size(), 3u);
      EXPECT_FALSE(t.kept);
      EXPECT_EQ(t.to, quant_mix_type(p.mix, t.name, t.dims, p.facts)) << t.name;
    }
  }
  EXPECT_EQ(routers, 4);
  EXPECT_EQ(experts, 12);
}

TEST(Quantize, RequantizingNeedsTheFlag) {
  const fs::path dir = testing::scratch_dir("quantize_requant");
  const std::string in = small_model(dir);
  const std::string q = (dir / "q4_k_m.gguf").string();
  quantize_model(in, q, preset("q4_k_m"));
  const std::string err = error_of([&] { quantize_model(q, (dir / "q8.gguf").string(), preset("q8_0")); });
  EXPECT_EQ(err, q + ": tensor 'token_embd.weight' is already Q4_K; quantizing it again loses quality "
                     "(pass --allow-requantize to do it anyway, or start from the F16/BF16/F32 model)");
  EXPECT_FALSE(fs::exists(dir / "q8.gguf"));
  QuantizeOptions o = preset("q8_0");
  o.allow_requantize = true;
  const QuantizeResult r = quantize_model(q, (dir / "q8.gguf").string(), o);
  EXPECT_EQ(r.plan.n_requantized, static_cast<int64_t>(r.plan.tensors.size()) - 9);  // all but the 9 norms
}

TEST(Quantize, RefusesToOverwriteTheInput) {
  const fs::path dir = testing::scratch_dir("quantize_overwrite");
  const std::string in = small_model(dir);
  const auto before = slurp(in);
  fs::create_hard_link(in, dir / "hard.gguf");
  fs::create_symlink(in, dir / "soft.gguf");
  fs::create_symlink(in, dir / "out.gguf.partial");
  for (const std::string& out : {in, (dir / "hard.gguf").string(), (dir / "soft.gguf").string(), (dir / "." / fs::path(in).filename()).string()}) {
    EXPECT_NE(error_of([&] { quantize_model(in, out, preset("q8_0")); }).find(": is the input file; write the quantized model to another path"),
              std::string::npos)
        << out;
  }
  EXPECT_NE(error_of([&] { quantize_model(in, (dir / "out.gguf").string(), preset("q8_0")); }).find(".partial (the temporary output) is the input"),
            std::string::npos);
  EXPECT_EQ(slurp(in), before);
}

TEST(Quantize, TruncatedInputFailsAndLeavesNoOutput) {
  const fs::path dir = testing::scratch_dir("quantize_truncated");
  const std::string in = small_model(dir);
  fs::resize_file(in, fs::file_size(in) - 1000);
  const std::string out = (dir / "out.gguf").string();
  const std::string err = error_of([&] { quantize_model(in, out, preset("q4_0")); });
  EXPECT_EQ(err.rfind(in + ": tensor '", 0), 0u) << err;
  EXPECT_NE(err.find("past the end of the file"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out + ".partial"));
}

TEST(Quantize, ProgressCoversEveryTensorInOrder) {
  const fs::path dir = testing::scratch_dir("quantize_progress");
  const std::string in = small_model(dir);
  std::vector<size_t> indices;
  uint64_t last_done = 0, total = 0;
  const QuantizeResult r = quantize_model(in, (dir / "out.gguf").string(), preset("q4_k_s"), [&](const QuantizeProgress& p) {
    EXPECT_GE(p.done_bytes, last_done);
    EXPECT_EQ(p.tensor->name.empty(), false);
    last_done = p.done_bytes;
    total = p.total_bytes;
    if (indices.empty() || indices.back() != p.index) indices.push_back(p.index);
  });
  ASSERT_FALSE(indices.empty());
  EXPECT_EQ(indices.size(), r.plan.tensors.size());
  for (size_t i = 0; i < indices.size(); ++i) EXPECT_EQ(indices[i], i);
  EXPECT_EQ(last_done, total);
  EXPECT_EQ(total, r.plan.to_bytes);
}

}  // namespace
}  // namespace nomoat
