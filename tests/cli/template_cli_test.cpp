// `nomoat template` as a user runs it: the prompt printed exactly, the
// conversation, tools and variables read from files, and one-line errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "formats/gguf_writer.h"
#include "support/test_data.h"
#include "tokenizer/vocab.h"

namespace nomoat {
namespace {

namespace fs = std::filesystem;
using testing::nomoat_binary;
using testing::run_command;

// A vocabulary-only GGUF carrying `chat_template`.
fs::path write_model(const fs::path& dir, const std::string& chat_template) {
  Vocab v;
  v.kind = TokenizerKind::kSpm;
  v.model = "llama";
  v.tokens = {"<unk>", "<s>", "</s>", "\xe2\x96\x81", "a"};
  v.scores = {0, 0, 0, -1, -2};
  v.types = {TokenType::kUnknown, TokenType::kControl, TokenType::kControl, TokenType::kNormal, TokenType::kNormal};
  v.unk = 0;
  v.bos = 1;
  v.eos = 2;
  v.chat_template = chat_template;
  GgufWriter w;
  w.set("general.architecture", GgufValue::string("llama"));
  write_vocab_gguf(v, w);
  const fs::path path = dir / "model.gguf";
  w.write(path.string());
  return path;
}

void write(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

int nomoat(const std::string& args, std::string* out) { return run_command(nomoat_binary() + " " + args, out, true); }

TEST(CliTemplate, PrintsThePromptExactly) {
  const fs::path dir = testing::scratch_dir("cli_template");
  const fs::path model = write_model(
      dir,
      "{{ bos_token }}{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}"
      "{% if tools %}tools: {{ tools | map(attribute='function.name') | join(',') }}\n{% endif %}"
      "{% if add_generation_prompt %}[assistant]{% endif %}{% if flag is defined %} flag={{ flag }}{% endif %}");
  write(dir / "conv.json", R"({"messages": [{"role": "user", "content": "Hi ünï"}]})");
  write(dir / "bare.json", R"([{"role": "user", "content": "A"}, {"role": "assistant", "content": "B"}])");
  write(dir / "tools.json", R"({"tools": [{"type": "function", "function": {"name": "get_time"}}]})");
  const std::string m = model.string();
  std::string out;
  ASSERT_EQ(nomoat("template " + m + " --messages " + (dir / "conv.json").string(), &out), 0) << out;
  EXPECT_EQ(out, "<s>[user] Hi ünï\n");
  ASSERT_EQ(nomoat("template " + m + " --messages " + (dir / "bare.json").string() + " --add-generation-prompt", &out), 0);
  EXPECT_EQ(out, "<s>[user] A\n[assistant] B\n[assistant]");
  ASSERT_EQ(nomoat("template " + m + " --messages " + (dir / "conv.json").string() + " --tools " +
                       (dir / "tools.json").string() + " --var flag=true --var unused='{\"a\": [1]}'",
                   &out),
            0)
      << out;
  EXPECT_EQ(out, "<s>[user] Hi ünï\ntools: get_time\n flag=True");
  ASSERT_EQ(nomoat("template " + m + " --messages - < " + (dir / "bare.json").string(), &out), 0);
  EXPECT_EQ(out, "<s>[user] A\n[assistant] B\n");
  write(dir / "date.jinja", "{{ strftime_now('%Y-%m-%d') }} {{ eos_token }}\n");
  ASSERT_EQ(nomoat("template " + m + " --messages " + (dir / "conv.json").string() + " --template " +
                       (dir / "date.jinja").string() + " --now 1767225600",
                   &out),
            0);
  EXPECT_EQ(out.substr(4), "-01-01 </s>");  // the day may differ by time zone, not the month
}

TEST(CliTemplate, ErrorsAreOneLine) {
  const fs::path dir = testing::scratch_dir("cli_template_errors");
  const fs::path with = write_model(dir, "{% for m in messages %}\n{{ m.content | wordwrap }}{% endfor %}");
  write(dir / "conv.json", R"([{"role": "user", "content": "Hi"}])");
  write(dir / "bad.json", R"([{"role": "user",)");
  std::string out;
  const std::string conv = " --messages " + (dir / "conv.json").string();
  EXPECT_EQ(nomoat("template " + with.string() + conv, &out), 1);
  EXPECT_EQ(out, "nomoat: error: " + with.string() + ": chat template line 2: filter 'wordwrap' is not supported in chat templates\n");
  EXPECT_EQ(nomoat("template " + with.string() + " --messages " + (dir / "bad.json").string(), &out), 1);
  EXPECT_EQ(out.rfind("nomoat: error: " + (dir / "bad.json").string() + ": invalid JSON", 0), 0u) << out;
  EXPECT_EQ(nomoat("template " + with.string() + conv + " --var x=yes", &out), 1);
  EXPECT_EQ(out, "nomoat: error: --var x: 'yes' is not JSON (a string needs quotes: x='\"text\"')\n");
  EXPECT_EQ(nomoat("template " + with.string() + conv + " --tools " + (dir / "conv.json").string() + "x", &out), 1);
  EXPECT_NE(out.find("cannot open"), std::string::npos) << out;
  const fs::path other = testing::scratch_dir("cli_template_none");
  const fs::path without = write_model(other, "");
  EXPECT_EQ(nomoat("template " + without.string() + conv, &out), 1);
  EXPECT_EQ(out.rfind("nomoat: error: " + without.string() + ": the model has no chat template", 0), 0u) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  EXPECT_EQ(nomoat("template --help", &out), 0);
  EXPECT_NE(out.find("--add-generation-prompt"), std::string::npos);
  EXPECT_NE(out.find("--var KEY=JSON"), std::string::npos);
}

TEST(CliTemplate, Phi3Gguf) {
  NOMOAT_REQUIRE_SHARED_DATA();
  const fs::path dir = testing::scratch_dir("cli_template_phi3");
  write(dir / "conv.json", R"([{"role": "system", "content": "S"}, {"role": "user", "content": "Hi"},
                               {"role": "assistant", "content": "Hello"}, {"role": "user", "content": "Bye"}])");
  std::string out;
  ASSERT_EQ(nomoat("template " + (testing::shared_data_dir() / "vocab" / "ggml-vocab-phi-3.gguf").string() +
                       " --messages " + (dir / "conv.json").string(),
                   &out),
            0)
      << out;
  EXPECT_EQ(out, "<s><|user|>\nHi<|end|>\n<|assistant|>\nHello<|end|>\n<|user|>\nBye<|end|>\n<|assistant|>\n");
}

}  // namespace
}  // namespace nomoat
