// A model's chat template with the special-token texts it renders with,
// taken from the model's vocabulary (GGUF tokenizer.chat_template, or a
// Hugging Face folder's tokenizer_config.json / chat_template.jinja). The
// server and `nomoat chat` / `nomoat template` build prompts through it.
#pragma once

#include <optional>
#include <string>

#include "chat/chat_template.h"
#include "tokenizer/vocab.h"

namespace nomoat {

struct ModelChatTemplate {
  ChatTemplate chat_template;
  std::string bos_token, eos_token;  // "" when the vocabulary has none

  // Inputs with the model's special tokens filled in.
  ChatTemplateInputs inputs() const {
    ChatTemplateInputs in;
    in.bos_token = bos_token;
    in.eos_token = eos_token;
    return in;
  }
};

// The template `vocab` carries (loaded from `model_path`, named in errors),
// or `source` instead when given (`source_origin` names it in errors). With
// `for_tools`, a model's separate "tool_use" template is taken when it has
// one, as transformers does when tools are passed. Throws Error when there
// is no template or it does not parse.
ModelChatTemplate model_chat_template(const Vocab& vocab, const std::string& model_path,
                                      const std::optional<std::string>& source = std::nullopt,
                                      const std::string& source_origin = "", bool for_tools = false);

}  // namespace nomoat
