// Picking a model's chat template and special tokens from its vocabulary.
#include "engine/model_chat_template.h"

#include <gtest/gtest.h>

#include "base/error.h"
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

}  // namespace
}  // namespace nomoat
