#include "chat/chat_template.h"

#include "base/error.h"
#include "chat/jinja_eval.h"
#include "chat/jinja_parser.h"
#include "chat/py_text.h"

namespace nomoat {
namespace {

[[noreturn]] void rethrow(const std::string& origin, const jinja::TemplateError& e) {
  if (e.line > 0) fail(origin, " line ", e.line, ": ", e.what());
  fail(origin, ": ", e.what());
}

}  // namespace

ChatTemplate::ChatTemplate(std::string source, std::string origin)
    : source_(std::move(source)), origin_(std::move(origin)) {
  if (!jinja::is_valid_utf8(source_)) fail(origin_, ": the template is not valid UTF-8");
  try {
    parsed_ = std::make_shared<const jinja::Template>(jinja::parse_template(source_));
  } catch (const jinja::TemplateError& e) {
    rethrow(origin_, e);
  }
}

ChatTemplate::~ChatTemplate() = default;
ChatTemplate::ChatTemplate(ChatTemplate&&) noexcept = default;
ChatTemplate& ChatTemplate::operator=(ChatTemplate&&) noexcept = default;

std::string ChatTemplate::render(const ChatTemplateInputs& in) const {
  using jinja::Value;
  std::vector<std::pair<std::string, Value>> context;
  try {
    // The variables transformers' apply_chat_template passes.
    context.emplace_back("messages", jinja::from_json(in.messages));
    context.emplace_back("tools", jinja::from_json(in.tools));
    context.emplace_back("documents", Value::none());
    context.emplace_back("add_generation_prompt", Value::boolean(in.add_generation_prompt));
    if (!in.bos_token.empty()) context.emplace_back("bos_token", Value::string(in.bos_token));
    if (!in.eos_token.empty()) context.emplace_back("eos_token", Value::string(in.eos_token));
    if (!in.extra.is_null()) {
      if (!in.extra.is_object()) fail(origin_, ": the extra template variables must be a JSON object");
      for (const auto& [key, value] : in.extra.items()) {
        if (key == "messages" || key == "tools" || key == "documents" || key == "add_generation_prompt") {
          fail(origin_, ": the extra variable '", key, "' would replace one the conversation sets");
        }
        context.emplace_back(key, jinja::from_json(value));
      }
    }
    jinja::Evaluator ev(jinja::RenderLimits{}, in.now ? *in.now : std::time(nullptr));
    return ev.render(*parsed_, context);
  } catch (const jinja::TemplateError& e) {
    rethrow(origin_, e);
  }
}

}  // namespace nomoat
