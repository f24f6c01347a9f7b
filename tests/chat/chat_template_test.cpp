// The public chat-template API: the variables a template sees (as
// transformers' apply_chat_template passes them), injected clock, and
// errors that name the template and line.
#include "chat/chat_template.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

#include "base/error.h"
#include "support/test_data.h"

namespace nomoat {
namespace {

using Json = nlohmann::ordered_json;
using testing::error_of;

TEST(ChatTemplate, SeesTheVariablesTransformersPasses) {
  const ChatTemplate t(
      "{{ bos_token }}{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}"
      "{% if add_generation_prompt %}<assistant>{% endif %}|{{ tools | length if tools else tools }}|"
      "{{ documents }}|{{ enable_thinking }}|{{ eos_token }}");
  ChatTemplateInputs in;
  in.messages = Json::parse(R"([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}])");
  in.bos_token = "<s>";
  in.eos_token = "</s>";
  EXPECT_EQ(t.render(in), "<s><user>Hi<assistant>Yo|None|None||</s>");
  in.add_generation_prompt = true;
  in.tools = Json::parse(R"([{"type": "function", "function": {"name": "f"}}])");
  in.extra = {{"enable_thinking", false}};
  EXPECT_EQ(t.render(in), "<s><user>Hi<assistant>Yo<assistant>|1|None|False|</s>");
}

TEST(ChatTemplate, EmptySpecialTokensAreUndefined) {
  const ChatTemplate t("{{ bos_token is defined }} {{ eos_token is defined }}");
  ChatTemplateInputs in;
  in.eos_token = "<|im_end|>";
  EXPECT_EQ(t.render(in), "False True");
  in.extra = {{"bos_token", "[BOS]"}};  // extra variables may set them, as transformers' kwargs do
  EXPECT_EQ(t.render(in), "True True");
}

TEST(ChatTemplate, ExtraCannotReplaceConversationVariables) {
  const ChatTemplate t("x");
  ChatTemplateInputs in;
  in.extra = {{"messages", Json::array()}};
  EXPECT_EQ(error_of([&] { t.render(in); }),
            "chat template: the extra variable 'messages' would replace one the conversation sets");
  in.extra = Json::array();
  EXPECT_EQ(error_of([&] { t.render(in); }), "chat template: the extra template variables must be a JSON object");
}

TEST(ChatTemplate, ClockIsInjectable) {
  setenv("TZ", "UTC", 1);
  tzset();
  const ChatTemplate t("{{ strftime_now('%d %b %Y %H:%M:%S') }}");
  ChatTemplateInputs in;
  in.now = 1767225600;  // 2026-01-01 00:00:00 UTC
  EXPECT_EQ(t.render(in), "01 Jan 2026 00:00:00");
  in.now.reset();
  EXPECT_EQ(t.render(in).size(), 20u);  // the real clock
}

TEST(ChatTemplate, ErrorsNameOriginAndLine) {
  EXPECT_EQ(error_of([] { ChatTemplate("ok\n\n{{ x | wordwrapx }}", "model.gguf: chat template"); }),
            "model.gguf: chat template line 3: unknown filter 'wordwrapx'");
  const ChatTemplate t("{% for m in messages %}\n{% if m.role == 'tool' %}\n{{ raise_exception('no tools here') }}\n"
                       "{% endif %}{% endfor %}");
  ChatTemplateInputs in;
  in.messages = Json::parse(R"([{"role": "tool", "content": "x"}])");
  EXPECT_EQ(error_of([&] { t.render(in); }), "chat template line 3: no tools here");
  EXPECT_EQ(error_of([] { ChatTemplate("\xff\xfe"); }), "chat template: the template is not valid UTF-8");
  const ChatTemplate wrap("{{ 'x' | wordwrap }}", "t.jinja");
  EXPECT_EQ(error_of([&] { wrap.render({}); }), "t.jinja line 1: filter 'wordwrap' is not supported in chat templates");
}

TEST(ChatTemplate, MovesAndRendersRepeatedly) {
  ChatTemplate a("{{ messages | length }}");
  ChatTemplate b = std::move(a);
  ChatTemplateInputs in;
  in.messages = Json::parse(R"([{"role": "user", "content": "a"}])");
  EXPECT_EQ(b.render(in), "1");
  EXPECT_EQ(b.render(in), "1");
  EXPECT_EQ(b.source(), "{{ messages | length }}");
}

}  // namespace
}  // namespace nomoat
