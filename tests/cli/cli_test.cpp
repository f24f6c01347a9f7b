// The `nomoat` binary as a user runs it: help, errors, info and gen-model.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/test_data.h"
#include "tensor/dtype.h"

namespace nomoat {
namespace {

namespace fs = std::filesystem;
using testing::slurp;
using nlohmann::json;
using testing::nomoat_binary;
using testing::run_command;

int nomoat(const std::string& args, std::string* out, bool merge_stderr = true) {
  return run_command(nomoat_binary() + " " + args, out, merge_stderr);
}

TEST(Cli, HelpAndUsageErrors) {
  std::string out;
  EXPECT_EQ(nomoat("--help", &out), 0);
  EXPECT_NE(out.find("info"), std::string::npos);
  EXPECT_NE(out.find("gen-model"), std::string::npos);
  EXPECT_EQ(nomoat("info --help", &out), 0);
  EXPECT_NE(out.find("--json"), std::string::npos);
  EXPECT_EQ(nomoat("gen-model --help", &out), 0);
  EXPECT_NE(out.find("--vocab-from"), std::string::npos);
  EXPECT_NE(nomoat("", &out), 0);
  EXPECT_NE(nomoat("no-such-command", &out), 0);
}

TEST(Cli, InfoErrorIsOneLineNamingTheFile) {
  const fs::path dir = testing::scratch_dir("cli_errors");
  std::string out;
  EXPECT_EQ(nomoat("info " + (dir / "missing.gguf").string(), &out), 1);
  EXPECT_EQ(out, "nomoat: error: " + (dir / "missing.gguf").string() + ": cannot open: No such file or directory\n");
  std::ofstream(dir / "junk.gguf") << "GGUF\x03\0\0\0 this is not a model";
  EXPECT_EQ(nomoat("info " + (dir / "junk.gguf").string(), &out), 1);
  EXPECT_EQ(out.rfind("nomoat: error: " + (dir / "junk.gguf").string() + ": ", 0), 0u) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
}

TEST(Cli, InfoOnStoriesModel) {
  NOMOAT_REQUIRE_SHARED_DATA();
  std::string out;
  const std::string path = (testing::shared_data_dir() / "tiny" / "stories260K.gguf").string();
  ASSERT_EQ(nomoat("info " + path, &out), 0) << out;
  EXPECT_NE(out.find("architecture:    llama\n"), std::string::npos) << out;
  EXPECT_NE(out.find("tensors:         48,"), std::string::npos) << out;
  EXPECT_NE(out.find("tokenizer:       llama, vocab 512\n"), std::string::npos) << out;
  EXPECT_NE(out.find("context length:  128\n"), std::string::npos) << out;
  EXPECT_NE(out.find("heads:           8 (KV heads 4)\n"), std::string::npos) << out;
  ASSERT_EQ(nomoat("info --json " + path, &out, false), 0);
  const json j = json::parse(out);
  EXPECT_EQ(j["architecture"], "llama");
  EXPECT_EQ(j["n_tensors"], 48);
  EXPECT_EQ(j["vocab_size"], 512);
  EXPECT_EQ(j["types"]["F32"]["tensors"], 48);
  EXPECT_EQ(j["metadata"]["tokenizer.ggml.tokens"]["length"], 512);
  EXPECT_EQ(j["metadata"]["tokenizer.ggml.tokens"]["first"].size(), 16u);
}

TEST(Cli, InfoOnEveryVocabFile) {
  NOMOAT_REQUIRE_SHARED_DATA();
  // Facts read independently from each file's metadata by llama.cpp's tooling.
  const std::map<std::string, std::tuple<std::string, std::string, int, bool>> expected = {
      {"baichuan", {"baichuan", "llama", 64000, false}},   {"bert-bge", {"bert", "bert", 30522, false}},
      {"deepseek-coder", {"llama", "gpt2", 32256, false}}, {"deepseek-llm", {"llama", "gpt2", 102400, false}},
      {"falcon", {"falcon", "gpt2", 65024, false}},       {"gpt-2", {"gpt2", "gpt2", 50257, false}},
      {"gpt-neox", {"gptneox", "gpt2", 50432, false}},    {"llama-spm", {"llama", "llama", 32000, false}},
      {"mpt", {"mpt", "gpt2", 50432, false}},             {"phi-3", {"phi3", "llama", 32064, true}},
      {"refact", {"refact", "gpt2", 49216, false}},       {"starcoder", {"starcoder2", "gpt2", 49152, false}},
  };
  for (const auto& [name, facts] : expected) {
    SCOPED_TRACE(name);
    const auto& [arch, tok, vocab, tmpl] = facts;
    std::string out;
    const fs::path path = testing::shared_data_dir() / "vocab" / ("ggml-vocab-" + name + ".gguf");
    ASSERT_EQ(nomoat("info --json " + path.string(), &out, false), 0) << out;
    const json j = json::parse(out);
    EXPECT_EQ(j["architecture"], arch);
    EXPECT_EQ(j["tokenizer_model"], tok);
    EXPECT_EQ(j["vocab_size"], vocab);
    EXPECT_EQ(j["n_tensors"], 0);
    EXPECT_EQ(j["has_chat_template"], tmpl);
  }
}

TEST(Cli, GenModelIsDeterministicForEveryType) {
  const fs::path dir = testing::scratch_dir("gen_model");
  size_t n = 0;
  const DType* types = convertible_dtypes(&n);
  for (size_t i = 0; i < n; ++i) {
    const std::string name = dtype_traits(types[i]).name;
    SCOPED_TRACE(name);
    // --pure: every matrix this type (q4_0, q2_k, ... name presets that mix types).
    const std::string args = "gen-model -q --pure --n-embd 256 --n-ff 512 --n-layer 1 --n-head 4 --n-head-kv 2 --n-vocab 300 --type " + name;
    std::string out;
    ASSERT_EQ(nomoat(args + " -t 1 -o " + (dir / "a.gguf").string(), &out), 0) << out;
    ASSERT_EQ(nomoat(args + " -t 2 -o " + (dir / "b.gguf").string(), &out), 0) << out;
    EXPECT_TRUE(slurp(dir / "a.gguf") == slurp(dir / "b.gguf"));
    ASSERT_EQ(nomoat("info --json " + (dir / "a.gguf").string(), &out, false), 0);
    const json j = json::parse(out);
    EXPECT_EQ(j["types"][name]["tensors"], types[i] == DType::F32 ? 12 : 9) << j["types"].dump();  // 7 layer matrices, embedding, output
    if (types[i] != DType::F32) {
      EXPECT_EQ(j["types"]["F32"]["tensors"], 3);  // the norms
    }
    EXPECT_EQ(j["vocab_size"], 300);
    EXPECT_EQ(j["head_count_kv"], 2);
  }
  std::string out;
  ASSERT_EQ(nomoat("gen-model -q --seed 7 --n-vocab 300 -o " + (dir / "c.gguf").string(), &out), 0);
  ASSERT_EQ(nomoat("gen-model -q --n-vocab 300 -o " + (dir / "d.gguf").string(), &out), 0);
  EXPECT_FALSE(slurp(dir / "c.gguf") == slurp(dir / "d.gguf"));
}

TEST(Cli, GenModelWithVocabFromAndTiedOutput) {
  NOMOAT_REQUIRE_SHARED_DATA();
  const fs::path dir = testing::scratch_dir("gen_model_vocab");
  const fs::path vocab = testing::shared_data_dir() / "vocab" / "ggml-vocab-phi-3.gguf";
  std::string out;
  ASSERT_EQ(nomoat("gen-model -q --tied --n-embd 64 --n-head 2 --n-vocab 32100 --vocab-from " + vocab.string() +
                       " -o " + (dir / "m.gguf").string(),
                   &out),
            0)
      << out;
  ASSERT_EQ(nomoat("info --json --full " + (dir / "m.gguf").string(), &out, false), 0);
  const json j = json::parse(out);
  EXPECT_EQ(j["vocab_size"], 32100);
  EXPECT_EQ(j["has_chat_template"], true);
  const json& tokens = j["metadata"]["tokenizer.ggml.tokens"];
  EXPECT_EQ(tokens[32099], "[PAD32099]");
  EXPECT_EQ(j["metadata"]["tokenizer.ggml.token_type"][32099], 3);
  for (const auto& t : j["tensors"]) EXPECT_NE(t["name"], "output.weight");
  // 64-wide rows cannot hold 256-element K-quant blocks: Q8_0 is used instead.
  ASSERT_EQ(nomoat("gen-model -q --type q4_k --n-embd 64 --n-head 2 --n-vocab 300 -o " + (dir / "k.gguf").string(), &out), 0) << out;
  ASSERT_EQ(nomoat("info --json " + (dir / "k.gguf").string(), &out, false), 0);
  EXPECT_TRUE(json::parse(out)["types"].contains("Q8_0")) << out;
  // Too small a vocabulary for the file is refused.
  EXPECT_EQ(nomoat("gen-model -q --n-vocab 1000 --vocab-from " + vocab.string() + " -o " + (dir / "x.gguf").string(), &out), 1);
  EXPECT_NE(out.find("smaller than the 32064 tokens"), std::string::npos) << out;
}

// An independent GGUF reader in Python reads what nomoat writes and agrees
// with nomoat's own reader on every key and tensor.
TEST(Cli, PythonReaderAgreesWithInfo) {
  if (!fs::exists("/usr/bin/python3")) GTEST_SKIP() << "/usr/bin/python3 not installed";
  const fs::path dir = testing::scratch_dir("python_reader");
  const std::string model = (dir / "m.gguf").string();
  std::string out;
  ASSERT_EQ(nomoat("gen-model -q --type q4_0 --n-embd 128 --n-head 4 --n-head-kv 1 --n-vocab 300 -o " + model, &out), 0);
  std::string py;
  ASSERT_EQ(run_command("/usr/bin/python3 " + std::string(NOMOAT_SOURCE_DIR) + "/tests/reference/gguf_dump.py " + model, &py, false), 0);
  ASSERT_EQ(nomoat("info --json --full " + model, &out, false), 0);
  const json ref = json::parse(py);
  const json ours = json::parse(out);
  EXPECT_EQ(ref["metadata"], ours["metadata"]);
  ASSERT_EQ(ref["tensors"].size(), ours["tensors"].size());
  for (size_t i = 0; i < ref["tensors"].size(); ++i) {
    const json& r = ref["tensors"][i];
    const json& o = ours["tensors"][i];
    EXPECT_EQ(r["name"], o["name"]);
    EXPECT_EQ(r["shape"], o["shape"]);
    EXPECT_EQ(r["offset"], o["offset"]);
    EXPECT_EQ(dtype_name(r["type"].get<uint32_t>()), o["type"].get<std::string>());
  }
  EXPECT_EQ(ref["file_size"], ours["file_size"]);
}

}  // namespace
}  // namespace nomoat
