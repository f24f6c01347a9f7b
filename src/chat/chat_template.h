// Rendering a model's chat template: the Jinja2 text that turns an
// OpenAI-style conversation into the prompt the model was trained on,
// rendered as Hugging Face transformers' apply_chat_template renders it
// (same variables, same Jinja2 settings), byte for byte.
#pragma once

#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace nomoat {

namespace jinja {
struct Template;
}

struct ChatTemplateInputs {
  // OpenAI-style messages ({role, content, tool_calls, ...}), passed to the
  // template exactly as given.
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  // null, or an array of tool definitions (the template sees `tools`).
  nlohmann::ordered_json tools;
  bool add_generation_prompt = false;
  // Special-token texts from the vocabulary; an empty one is left undefined
  // in the template, as transformers leaves a token the tokenizer lacks.
  std::string bos_token, eos_token;
  // Further template variables (e.g. {"enable_thinking": false}); they may
  // replace bos_token/eos_token but not the variables above.
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();
  // strftime_now's clock; nullopt: the current time.
  std::optional<std::time_t> now;
};

class ChatTemplate {
 public:
  // Parses `source`; throws Error "<origin> line N: ..." for syntax errors and
  // for constructs nomoat does not support.
  explicit ChatTemplate(std::string source, std::string origin = "chat template");
  ~ChatTemplate();
  ChatTemplate(ChatTemplate&&) noexcept;
  ChatTemplate& operator=(ChatTemplate&&) noexcept;

  // Throws Error "<origin> line N: ..." when rendering fails (including the
  // template's own raise_exception). Safe to call from several threads.
  std::string render(const ChatTemplateInputs& inputs) const;

  const std::string& source() const { return source_; }
  const std::string& origin() const { return origin_; }

 private:
  std::string source_;
  std::string origin_;
  std::shared_ptr<const jinja::Template> parsed_;
};

}  // namespace nomoat
