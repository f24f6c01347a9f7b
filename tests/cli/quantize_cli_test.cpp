// `nomoat quantize` as a user runs it: every common preset's file loads in
// `nomoat info` with the documented per-tensor types, file_type and size;
// errors are one line and leave the input (and no half output) behind.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "model/quant_mix.h"
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

int64_t lines(const std::string& s) { return std::count(s.begin(), s.end(), '\n'); }

// An F16 Llama whose rows all fit 256-value blocks, 8 layers (so the _M
// presets' more-bits layers are 0, 3, 6, 7), GQA 4.
const QuantModelFacts kFacts{"llama", 8, 8, 2, 0, true};

fs::path make_input(const std::string& name) {
  const fs::path dir = testing::scratch_dir(name);
  std::string out;
  const int rc = nomoat("gen-model -q --n-embd 256 --n-layer 8 --n-head 8 --n-head-kv 2 --n-ff 768 --n-vocab 512 -o " +
                            (dir / "f16.gguf").string(),
                        &out);
  EXPECT_EQ(rc, 0) << out;
  return dir;
}

class QuantizeCli : public ::testing::TestWithParam<const char*> {};

TEST_P(QuantizeCli, OutputLoadsInInfoWithTheDocumentedTypes) {
  const std::string preset = GetParam();
  const fs::path dir = make_input("quantize_cli_" + preset);
  const std::string in = (dir / "f16.gguf").string(), out = (dir / (preset + ".gguf")).string();
  std::string log;
  ASSERT_EQ(nomoat("quantize " + in + " " + out + " " + preset + " -t 2", &log), 0) << log;
  // Not a terminal: plain progress lines, the last at 100%, then the summary.
  EXPECT_NE(log.find("quantize: 100% [75/75] output.weight F16 -> "), std::string::npos) << log;
  EXPECT_NE(log.find("quantized " + in + " -> " + out + " as " + preset), std::string::npos) << log;
  EXPECT_NE(log.find("  input:   12.03 MiB, 16.01 bits per weight"), std::string::npos) << log;
  EXPECT_NE(log.find("  F32          17"), std::string::npos) << log;

  std::string text;
  ASSERT_EQ(nomoat("info --json " + out, &text, false), 0);
  const json info = json::parse(text);
  const QuantMix mix = *find_quant_mix(preset);
  EXPECT_EQ(info["file_type"], mix.file_type);
  EXPECT_EQ(info["metadata"]["general.quantization_version"], 2);
  EXPECT_EQ(info["file_size"], fs::file_size(out));
  uint64_t bytes = 0;
  int64_t params = 0;
  std::map<std::string, int> counts;
  for (const json& t : info["tensors"]) {
    const std::string name = t["name"];
    const std::vector<int64_t> dims = t["shape"];
    const DType expected = quant_mix_type(mix, name, dims, kFacts);  // 1-D: F32, as gen-model wrote them
    EXPECT_EQ(t["type"], dtype_traits(expected).name) << name;
    int64_t rows = 1;
    for (size_t i = 1; i < dims.size(); ++i) rows *= dims[i];
    bytes += dtype_row_bytes(expected, dims[0]) * static_cast<uint64_t>(rows);
    params += dims[0] * rows;
    ++counts[dtype_traits(expected).name];
  }
  EXPECT_EQ(info["tensor_bytes"], bytes);
  EXPECT_DOUBLE_EQ(info["bits_per_weight"].get<double>(), 8.0 * static_cast<double>(bytes) / static_cast<double>(params));
  char bpw[64];
  std::snprintf(bpw, sizeof bpw, "%5.2f bits per weight (%lld parameters)", 8.0 * static_cast<double>(bytes) / static_cast<double>(params),
                static_cast<long long>(params));
  EXPECT_NE(log.find(bpw), std::string::npos) << log;
  for (const auto& [type, n] : counts) {
    EXPECT_EQ(info["types"][type]["tensors"], n) << type;
    char row[64];
    std::snprintf(row, sizeof row, "  %-6s %8d ", type.c_str(), n);
    EXPECT_NE(log.find(row), std::string::npos) << "summary row for " << type << "\n" << log;
  }
  std::printf("%s: %.2f bits per weight, %llu bytes\n", preset.c_str(), info["bits_per_weight"].get<double>(),
              static_cast<unsigned long long>(fs::file_size(out)));
}

INSTANTIATE_TEST_SUITE_P(Presets, QuantizeCli,
                         ::testing::Values("q8_0", "q6_k", "q5_k_m", "q5_k_s", "q4_k_m", "q4_k_s", "q4_0", "q3_k_m", "q2_k"),
                         [](const auto& info) { return std::string(info.param); });

// A MoE model: the routers are kept in their F16 and the summary says so.
TEST(QuantizeCliSummary, NamesKeptRouters) {
  const fs::path dir = testing::scratch_dir("quantize_cli_moe");
  const std::string in = (dir / "moe.gguf").string(), out = (dir / "q4_k.gguf").string();
  std::string log;
  ASSERT_EQ(nomoat("gen-model -q --n-embd 256 --n-layer 2 --n-head 4 --n-ff 256 --n-vocab 512 --n-expert 4 -o " + in, &log), 0) << log;
  ASSERT_EQ(nomoat("quantize -q " + in + " " + out + " q4_k", &log), 0) << log;
  auto row = [&log](const std::string& type) {
    const size_t at = log.find("\n  " + type + " ");
    return at == std::string::npos ? std::string() : log.substr(at + 1, log.find('\n', at + 1) - at - 1);
  };
  EXPECT_NE(row("F16").find("(2 MoE routers kept)"), std::string::npos) << log;
  EXPECT_NE(row("F32").find("(5 norms/vectors kept)"), std::string::npos) << log;
}

TEST(QuantizeCliErrors, RefusesToOverwriteTheInput) {
  const fs::path dir = make_input("quantize_cli_overwrite");
  const std::string in = (dir / "f16.gguf").string();
  const std::string before = slurp(in);
  fs::create_hard_link(in, dir / "hard.gguf");
  fs::create_symlink("f16.gguf", dir / "soft.gguf");
  for (const std::string& out : {in, (dir / "hard.gguf").string(), (dir / "soft.gguf").string()}) {
    std::string log;
    EXPECT_EQ(nomoat("quantize " + in + " " + out + " q4_0", &log), 1) << log;
    EXPECT_EQ(log, "nomoat: error: " + out + ": is the input file; write the quantized model to another path\n");
  }
  EXPECT_EQ(slurp(in), before);
}

// An output that cannot be written is refused before any tensor is encoded
// (a directory used to fail only at the final rename, after all the work).
TEST(QuantizeCliErrors, UnwritableOutputIsRefusedUpFront) {
  const fs::path dir = make_input("quantize_cli_out_dir");
  const std::string in = (dir / "f16.gguf").string();
  fs::create_directory(dir / "existing");
  std::string log;
  EXPECT_EQ(nomoat("quantize " + in + " " + (dir / "existing").string() + " q4_k_m", &log), 1);
  EXPECT_EQ(log, "nomoat: error: " + (dir / "existing").string() + ": is a directory; give the output GGUF file's name\n");
  EXPECT_FALSE(fs::exists(dir / "existing.partial"));
  const std::string nowhere = (dir / "missing" / "out.gguf").string();
  EXPECT_EQ(nomoat("quantize " + in + " " + nowhere + " q4_k_m", &log), 1);
  EXPECT_EQ(log, "nomoat: error: " + nowhere + ": the folder " + (dir / "missing").string() + " does not exist\n");
}

// In a tied model token_embd is the output matrix: both forcing options at once are refused.
TEST(QuantizeCliErrors, OutputAndEmbeddingTypeTogetherOnATiedModel) {
  const fs::path dir = testing::scratch_dir("quantize_cli_tied");
  const std::string in = (dir / "tied.gguf").string(), out = (dir / "out.gguf").string();
  std::string log;
  ASSERT_EQ(nomoat("gen-model -q --tied --n-embd 256 --n-vocab 512 -o " + in, &log), 0) << log;
  EXPECT_EQ(nomoat("quantize " + in + " " + out + " q4_k_m --output-type q8_0 --embedding-type q4_0", &log), 1);
  EXPECT_EQ(lines(log), 1) << log;
  EXPECT_NE(log.find("--output-type and --embedding-type both name token_embd.weight"), std::string::npos) << log;
  EXPECT_FALSE(fs::exists(out));
}

TEST(QuantizeCliErrors, UnknownTypeListsTheKnownOnes) {
  const fs::path dir = make_input("quantize_cli_unknown");
  std::string log;
  EXPECT_EQ(nomoat("quantize " + (dir / "f16.gguf").string() + " " + (dir / "out.gguf").string() + " q4_k_x", &log), 1);
  EXPECT_EQ(log, "nomoat: error: unknown quantization type 'q4_k_x' (known: " + quant_mix_names() + ")\n");
  EXPECT_FALSE(fs::exists(dir / "out.gguf"));
  EXPECT_EQ(nomoat("quantize " + (dir / "f16.gguf").string(), &log), 2) << log;  // missing arguments
}

TEST(QuantizeCliErrors, RequantizingNeedsTheFlagAndWarns) {
  const fs::path dir = make_input("quantize_cli_requant");
  const std::string q4 = (dir / "q4.gguf").string();
  std::string log;
  ASSERT_EQ(nomoat("quantize -q " + (dir / "f16.gguf").string() + " " + q4 + " q4_k_m", &log), 0) << log;
  EXPECT_EQ(nomoat("quantize " + q4 + " " + (dir / "q8.gguf").string() + " q8_0", &log), 1);
  EXPECT_EQ(lines(log), 1) << log;
  EXPECT_NE(log.find("is already Q4_K; quantizing it again loses quality (pass --allow-requantize"), std::string::npos) << log;
  EXPECT_FALSE(fs::exists(dir / "q8.gguf"));
  ASSERT_EQ(nomoat("quantize -q --allow-requantize " + q4 + " " + (dir / "q8.gguf").string() + " q8_0", &log), 0) << log;
  EXPECT_NE(log.find("quantize: warning: 58 tensors are already quantized and are quantized again; quality suffers"), std::string::npos) << log;
  EXPECT_EQ(nomoat("info " + (dir / "q8.gguf").string(), &log), 0) << log;
}

TEST(QuantizeCliErrors, TruncatedOrMissingInputIsOneLine) {
  const fs::path dir = make_input("quantize_cli_truncated");
  const std::string in = (dir / "f16.gguf").string(), out = (dir / "out.gguf").string();
  fs::resize_file(in, fs::file_size(in) / 2);
  std::string log;
  EXPECT_EQ(nomoat("quantize " + in + " " + out + " q4_k_m", &log), 1);
  EXPECT_EQ(log.rfind("nomoat: error: " + in + ": tensor '", 0), 0u) << log;
  EXPECT_NE(log.find("the file may be truncated"), std::string::npos) << log;
  EXPECT_EQ(lines(log), 1) << log;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out + ".partial"));
  EXPECT_EQ(nomoat("quantize " + (dir / "missing.gguf").string() + " " + out + " q4_k_m", &log), 1);
  EXPECT_EQ(log, "nomoat: error: " + (dir / "missing.gguf").string() + ": cannot open: No such file or directory\n");
}

}  // namespace
}  // namespace nomoat
