// `nomoat convert` as a user runs it: the summary and progress, and one
// clear line for each way a folder can be wrong.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <tuple>
#include <nlohmann/json.hpp>

#include "support/npm_packages.h"
#include "support/test_data.h"

namespace nomoat {
namespace {

namespace fs = std::filesystem;
using testing::have_numpy;
using testing::nomoat_binary;
using testing::run_command;
using testing::shell_quote;

#define REQUIRE_NUMPY() \
  if (!have_numpy()) GTEST_SKIP() << "/usr/bin/python3 with numpy not installed (scripts/setup.sh installs python3-numpy)"

// A small HF folder written by the reference script (tests/reference/hf_model_ref.py).
fs::path hf_folder(const std::string& name, const std::string& spec = R"({"arch": "llama"})") {
  const fs::path dir = testing::scratch_dir(name) / "model";
  std::string log;
  const std::string script = (testing::source_dir() / "tests" / "reference" / "hf_model_ref.py").string();
  EXPECT_EQ(run_command("/usr/bin/python3 " + script + " build " + dir.string() + " --spec " + shell_quote(spec), &log), 0) << log;
  return dir;
}

// Runs convert; returns its exit status, with stdout and stderr in `out`.
int convert(const fs::path& dir, const fs::path& out_file, const std::string& extra, std::string* out) {
  return run_command(nomoat_binary() + " convert " + shell_quote(dir.string()) + " -o " + shell_quote(out_file.string()) + " " + extra, out);
}

void edit_config(const fs::path& dir, const std::function<void(nlohmann::json&)>& change) {
  nlohmann::json c = nlohmann::json::parse(testing::slurp(dir / "config.json"));
  change(c);
  testing::write_file(dir / "config.json", c.dump(2));
}

// Expects convert to fail with exit 1, `message` in its one error line, and no output left behind.
void expect_refused(const fs::path& dir, const std::string& message, const std::string& extra = "") {
  const fs::path out_file = dir.parent_path() / "out.gguf";
  std::string out;
  EXPECT_EQ(convert(dir, out_file, extra, &out), 1) << out;
  EXPECT_NE(out.find("nomoat: error: "), std::string::npos) << out;
  EXPECT_NE(out.find(message), std::string::npos) << "expected: " << message << "\ngot: " << out;
  EXPECT_FALSE(fs::exists(out_file));
  EXPECT_FALSE(fs::exists(out_file.string() + ".partial"));
}

TEST(CliConvert, ConvertsWithProgressAndSummary) {
  REQUIRE_NUMPY();
  const fs::path dir = hf_folder("convert_ok", R"({"arch": "qwen2", "dtype": "bf16", "shards": 2})");
  const fs::path out_file = dir.parent_path() / "qwen2.gguf";
  std::string out;
  ASSERT_EQ(convert(dir, out_file, "", &out), 0) << out;
  EXPECT_NE(out.find("(Qwen2ForCausalLM -> qwen2, bf16): 26 tensors"), std::string::npos) << out;
  EXPECT_NE(out.find("convert: 26/26 tensors"), std::string::npos) << out;
  ASSERT_EQ(run_command(nomoat_binary() + " info " + out_file.string(), &out), 0) << out;
  EXPECT_NE(out.find("architecture:    qwen2"), std::string::npos) << out;
  EXPECT_NE(out.find("BF16"), std::string::npos) << out;
  // A preset, quietly: only the summary line.
  ASSERT_EQ(run_command(nomoat_binary() + " convert -q " + dir.string() + " -o " + out_file.string() + " --type q8_0 2>&1", &out), 0);
  EXPECT_EQ(out.find("convert: "), std::string::npos) << out;
  EXPECT_NE(out.find("(Qwen2ForCausalLM -> qwen2, q8_0)"), std::string::npos) << out;
  ASSERT_EQ(run_command(nomoat_binary() + " info " + out_file.string(), &out), 0) << out;
  EXPECT_NE(out.find("Q8_0"), std::string::npos) << out;
}

// The MoE router stays F32 with a single --type, as with a preset and as
// `nomoat quantize` keeps it: one rule (quant_mix_kept) for every path.
TEST(CliConvert, SingleTypeKeepsTheRouter) {
  REQUIRE_NUMPY();
  for (const char* arch : {"mixtral", "qwen3moe"}) {
    SCOPED_TRACE(arch);
    const fs::path dir = hf_folder(std::string("convert_router_") + arch, std::string(R"({"arch": ")") + arch + R"("})");
    const fs::path out_file = dir.parent_path() / "quantized.gguf";
    std::string out;
    for (const char* type : {"q4_k", "q8_0", "q4_k_m"}) {
      ASSERT_EQ(convert(dir, out_file, std::string("-q --type ") + type, &out), 0) << out;
      ASSERT_EQ(run_command(nomoat_binary() + " info --json " + out_file.string(), &out, false), 0) << out;
      const nlohmann::json info = nlohmann::json::parse(out);
      int routers = 0;
      for (const auto& t : info["tensors"]) {
        const std::string name = t["name"];
        if (name.find("ffn_gate_inp.weight") == std::string::npos) continue;
        ++routers;
        EXPECT_EQ(t["type"], "F32") << type << " " << name;
      }
      EXPECT_EQ(routers, 2) << type;
    }
  }
}

TEST(CliConvert, NotesWhatIsLeftOut) {
  REQUIRE_NUMPY();
  // Tied embeddings with an lm_head saved anyway, and a window GGUF llama does not keep.
  const fs::path dir = hf_folder("convert_notes", R"({"arch": "mistral", "tied": false, "config": {"sliding_window": 16}})");
  edit_config(dir, [](nlohmann::json& c) { c["tie_word_embeddings"] = true; });
  std::string out;
  ASSERT_EQ(convert(dir, dir.parent_path() / "m.gguf", "", &out), 0) << out;
  EXPECT_NE(out.find("note: sliding_window 16 is not kept"), std::string::npos) << out;
  EXPECT_NE(out.find("note: 1 tensor(s) not used by GGUF llama, e.g. 'lm_head.weight' (tie_word_embeddings is true)"), std::string::npos) << out;
}

// The GGUF metadata of a converted folder (nomoat info --json).
nlohmann::json converted_metadata(const fs::path& dir, std::string* notes) {
  const fs::path out_file = dir.parent_path() / "defaults.gguf";
  std::string out;
  EXPECT_EQ(convert(dir, out_file, "", notes), 0) << *notes;
  EXPECT_EQ(run_command(nomoat_binary() + " info --json " + out_file.string(), &out, false), 0) << out;
  return nlohmann::json::parse(out)["metadata"];
}

// Fields config.json leaves out take the class's transformers default, not one for all classes.
TEST(CliConvert, MissingFieldsTakeTheClassDefault) {
  REQUIRE_NUMPY();
  std::string notes;
  for (const auto& [arch, key, theta] : {std::tuple{"llama", "llama.rope.freq_base", 10000.0},
                                         std::tuple{"mixtral", "llama.rope.freq_base", 1e6},
                                         std::tuple{"gemma3", "gemma3.rope.freq_base", 1e6}}) {
    SCOPED_TRACE(arch);
    const fs::path dir = hf_folder(std::string("convert_theta_") + arch, std::string(R"({"arch": ")") + arch + R"("})");
    edit_config(dir, [](nlohmann::json& c) { c.erase("rope_theta"); c.erase("rope_local_base_freq"); });
    const nlohmann::json meta = converted_metadata(dir, &notes);
    EXPECT_EQ(meta[key].get<double>(), theta);
    if (std::string(arch) == "gemma3") {
      EXPECT_EQ(meta["gemma3.rope.freq_base_swa"].get<double>(), 10000.0);
    }
  }
  // MistralConfig's window is 4096 when the key is absent; GGUF llama cannot keep it, and says so.
  const fs::path dir = hf_folder("convert_window_default", R"({"arch": "mistral"})");
  edit_config(dir, [](nlohmann::json& c) { c.erase("sliding_window"); c["max_position_embeddings"] = 32768; });
  converted_metadata(dir, &notes);
  EXPECT_NE(notes.find("note: sliding_window 4096 (the class's default: config.json does not set it) is not kept: GGUF llama attends "
                       "to the whole context"),
            std::string::npos)
      << notes;
  // null is "no window" (Mistral 7B v0.2 and later): nothing dropped.
  edit_config(dir, [](nlohmann::json& c) { c["sliding_window"] = nullptr; });
  converted_metadata(dir, &notes);
  EXPECT_EQ(notes.find("sliding_window"), std::string::npos) << notes;
}

// hidden_act other than SiLU cannot be carried by the SiLU-gated GGUF architectures.
TEST(CliConvert, HiddenActMustBeSilu) {
  REQUIRE_NUMPY();
  for (const char* arch : {"llama", "mistral", "mixtral", "qwen2", "qwen3", "qwen3moe", "phi3"}) {
    SCOPED_TRACE(arch);
    const fs::path dir = hf_folder(std::string("convert_act_") + arch, std::string(R"({"arch": ")") + arch + R"("})");
    edit_config(dir, [](nlohmann::json& c) { c["hidden_act"] = "gelu"; });
    std::string gguf_arch = arch;
    if (gguf_arch == "mistral" || gguf_arch == "mixtral") gguf_arch = "llama";
    expect_refused(dir, "config.json: field 'hidden_act' is 'gelu', but GGUF " + gguf_arch + "'s feed-forward computes 'silu'");
  }
}

TEST(CliConvert, FolderErrorsNameTheFileAndProblem) {
  REQUIRE_NUMPY();
  {
    const fs::path dir = testing::scratch_dir("convert_empty");
    expect_refused(dir, dir.string() + ": no config.json");
  }
  {
    const fs::path dir = hf_folder("convert_arch");
    edit_config(dir, [](nlohmann::json& c) { c["architectures"] = {"GPT2LMHeadModel"}; });
    expect_refused(dir, "config.json: architecture 'GPT2LMHeadModel' is not supported (supported: LlamaForCausalLM, ");
  }
  {
    const fs::path dir = hf_folder("convert_missing_tensor");
    edit_config(dir, [](nlohmann::json& c) { c["num_hidden_layers"] = 3; });
    expect_refused(dir, "missing tensor 'model.layers.2.input_layernorm.weight' (GGUF 'blk.2.attn_norm.weight' is made from it)");
  }
  {
    const fs::path dir = hf_folder("convert_shape");
    edit_config(dir, [](nlohmann::json& c) { c["intermediate_size"] = 128; });
    expect_refused(dir, "model.safetensors: tensor 'model.layers.0.mlp.gate_proj.weight' has shape [96, 64], expected [128, 64] (for GGUF 'blk.0.ffn_gate.weight')");
  }
  {
    const fs::path dir = hf_folder("convert_no_head", R"({"arch": "llama", "tied": true})");
    edit_config(dir, [](nlohmann::json& c) { c["tie_word_embeddings"] = false; });
    expect_refused(dir, "missing tensor 'lm_head.weight' (GGUF 'output.weight' is made from it; tie_word_embeddings is false)");
  }
  {
    const fs::path dir = hf_folder("convert_field");
    edit_config(dir, [](nlohmann::json& c) { c["rope_scaling"] = {{"rope_type", "dynamic"}, {"factor", 2.0}}; });
    expect_refused(dir, "config.json: field 'rope_scaling.rope_type' 'dynamic' (dynamic NTK scaling) is not supported");
    edit_config(dir, [](nlohmann::json& c) { c["rope_scaling"] = nullptr; c["hidden_size"] = "64"; });
    expect_refused(dir, "config.json: field 'hidden_size' is a string, not a size");
  }
  {
    const fs::path dir = hf_folder("convert_type");
    expect_refused(dir, "--type 'q9_9' is not a preset or type nomoat can write", "--type q9_9");
  }
}

TEST(CliConvert, RefusesToOverwriteItsInput) {
  REQUIRE_NUMPY();
  const fs::path dir = hf_folder("convert_overwrite");
  const std::string before = testing::slurp(dir / "model.safetensors");
  std::string out;
  EXPECT_EQ(convert(dir, dir / "model.safetensors", "", &out), 1);
  EXPECT_NE(out.find("model.safetensors: is one of the input files; refusing to overwrite it"), std::string::npos) << out;
  EXPECT_EQ(convert(dir, dir / "config.json", "", &out), 1);
  EXPECT_NE(out.find("is one of the input files"), std::string::npos) << out;
  EXPECT_EQ(convert(dir, dir, "", &out), 1);
  EXPECT_NE(out.find("is a directory"), std::string::npos) << out;
  EXPECT_EQ(testing::slurp(dir / "model.safetensors"), before);
  // Beside the inputs is fine.
  EXPECT_EQ(convert(dir, dir / "model.gguf", "-q", &out), 0) << out;
}

// Damaged weights are refused by the reader with the file and the problem.
TEST(CliConvert, DamagedSafetensorsAreRefused) {
  REQUIRE_NUMPY();
  {
    const fs::path dir = hf_folder("convert_truncated");
    const std::string bytes = testing::slurp(dir / "model.safetensors");
    testing::write_file(dir / "model.safetensors", bytes.substr(0, bytes.size() - 100));
    expect_refused(dir, "model.safetensors: tensor 'lm_head.weight': data_offsets");
    expect_refused(dir, "extend past the end of the data area");
    testing::write_file(dir / "model.safetensors", bytes.substr(0, 1000));
    expect_refused(dir, "model.safetensors: header length ");
  }
  {
    const fs::path dir = hf_folder("convert_dtype");
    std::string bytes = testing::slurp(dir / "model.safetensors");
    const size_t at = bytes.find("\"dtype\":\"F32\"");
    ASSERT_NE(at, std::string::npos);
    bytes.replace(at, 13, "\"dtype\":\"I32\"");  // same size: the file stays valid
    testing::write_file(dir / "model.safetensors", bytes);
    expect_refused(dir, "model.safetensors: tensor 'model.embed_tokens.weight' has dtype I32; conversion reads F32, F16 and BF16");
    bytes.replace(at, 13, "\"dtype\":\"Q32\"");
    testing::write_file(dir / "model.safetensors", bytes);
    expect_refused(dir, "model.safetensors: tensor 'model.embed_tokens.weight': unknown dtype 'Q32'");
    bytes.replace(at + 8, 5, "{}}}}");
    testing::write_file(dir / "model.safetensors", bytes);
    expect_refused(dir, "model.safetensors: the JSON header is invalid");
  }
  {
    const fs::path dir = hf_folder("convert_shards", R"({"arch": "llama", "shards": 3})");
    fs::remove(dir / "model-00002-of-00003.safetensors");
    expect_refused(dir, "model.safetensors.index.json: shard 'model-00002-of-00003.safetensors' (holding tensor '");
  }
}

// `nomoat run` and `nomoat info` take the folder itself: converted once into
// the cache (XDG_CACHE_HOME), then reused; the text is what the explicitly
// converted file gives.
TEST(CliConvert, RunAndInfoTakeTheFolder) {
  REQUIRE_NUMPY();
  const fs::path dir = hf_folder("convert_run", R"({"arch": "gemma2", "dtype": "bf16", "config": {"sliding_window": 8}})");
  const fs::path cache = dir.parent_path() / "cache";
  const std::string env = "XDG_CACHE_HOME=" + shell_quote(cache.string()) + " ";
  const std::string run = " run " + shell_quote(dir.string()) + " -p 'Once upon a time' -n 12 --temp 0";
  std::string first, again, text, out;
  ASSERT_EQ(run_command(env + nomoat_binary() + run, &first), 0) << first;
  EXPECT_NE(first.find("nomoat: converting Hugging Face folder " + dir.string() + " once to " + cache.string()), std::string::npos) << first;
  ASSERT_EQ(run_command(env + nomoat_binary() + run, &again), 0) << again;
  EXPECT_EQ(again.find("converting"), std::string::npos) << again;
  ASSERT_EQ(run_command(env + nomoat_binary() + run + " 2>/dev/null", &text, false), 0);
  const fs::path gguf = dir.parent_path() / "explicit.gguf";
  ASSERT_EQ(convert(dir, gguf, "-q", &out), 0) << out;
  ASSERT_EQ(run_command(nomoat_binary() + " run " + gguf.string() + " -p 'Once upon a time' -n 12 --temp 0 2>/dev/null", &out, false), 0);
  EXPECT_EQ(text, out);
  EXPECT_GT(text.size(), 1u);
  ASSERT_EQ(run_command(env + nomoat_binary() + " info " + shell_quote(dir.string()), &out), 0) << out;
  EXPECT_NE(out.find("(Hugging Face folder)"), std::string::npos) << out;
  EXPECT_NE(out.find("architecture:    gemma2"), std::string::npos) << out;
  EXPECT_EQ(out.find("converting"), std::string::npos) << out;
  // No cache folder to be found: one line saying what to set.
  EXPECT_EQ(run_command("env -u XDG_CACHE_HOME -u HOME " + nomoat_binary() + run, &out), 1);
  EXPECT_NE(out.find("set XDG_CACHE_HOME or HOME"), std::string::npos) << out;
}

}  // namespace
}  // namespace nomoat
