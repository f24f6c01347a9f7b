#include "engine/model_chat_template.h"

#include "base/error.h"

namespace nomoat {
namespace {

std::string token_text(const Vocab& vocab, TokenId id) {
  if (id == kNoToken || id < 0 || static_cast<size_t>(id) >= vocab.size()) return "";
  return vocab.tokens[static_cast<size_t>(id)];
}

}  // namespace

ModelChatTemplate model_chat_template(const Vocab& vocab, const std::string& model_path,
                                      const std::optional<std::string>& source, const std::string& source_origin,
                                      bool for_tools) {
  if (!source && for_tools) {
    for (const auto& [name, text] : vocab.named_chat_templates) {
      if (name == "tool_use") {
        return ModelChatTemplate{ChatTemplate(text, model_path + ": chat template 'tool_use'"), token_text(vocab, vocab.bos),
                                 token_text(vocab, vocab.eos)};
      }
    }
  }
  if (!source && vocab.chat_template.empty()) {
    fail(model_path,
         ": the model has no chat template (no tokenizer.chat_template in a GGUF; no chat_template in "
         "tokenizer_config.json and no chat_template.jinja in a Hugging Face folder)");
  }
  ModelChatTemplate m{source ? ChatTemplate(*source, source_origin.empty() ? "chat template" : source_origin)
                             : ChatTemplate(vocab.chat_template, model_path + ": chat template"),
                      token_text(vocab, vocab.bos), token_text(vocab, vocab.eos)};
  return m;
}

}  // namespace nomoat
