// Seed inputs for the chat-template fuzzer and its corpus test: templates in
// the style of real chat templates covering every construct the
// interpreter supports, and the rendering of one fuzz input (a template,
// optionally followed by NUL and a JSON array of messages) with small limits.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/error.h"
#include "chat/jinja_eval.h"
#include "chat/jinja_parser.h"
#include "chat/py_text.h"

namespace nomoat::testing {

inline std::vector<std::string> jinja_seed_templates() {
  return {
      // ChatML with tools, tool calls and tool responses.
      R"({%- if tools %}{{- '<|im_start|>system\n' }}{%- if messages[0].role == 'system' %}{{- messages[0].content + '\n\n' }}{%- endif %}
{{- "# Tools\n<tools>" }}{%- for tool in tools %}{{- "\n" }}{{- tool | tojson }}{%- endfor %}{{- "\n</tools><|im_end|>\n" }}
{%- elif messages[0].role == 'system' %}{{- '<|im_start|>system\n' + messages[0].content + '<|im_end|>\n' }}{%- endif %}
{%- set ns = namespace(last_user=messages|length - 1) %}
{%- for message in messages[::-1] %}{%- set index = (messages|length - 1) - loop.index0 %}
{%- if message.role == "user" and not message.content.startswith('<tool_response>') %}{%- set ns.last_user = index %}{%- endif %}{%- endfor %}
{%- for message in messages %}
    {%- if message.role == "user" or (message.role == "system" and not loop.first) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>\n' }}
    {%- elif message.role == "assistant" %}
        {%- set content = message.content if message.content is string else '' %}
        {%- if '</think>' in content %}{%- set content = content.split('</think>')[-1].lstrip('\n') %}{%- endif %}
        {{- '<|im_start|>assistant\n' + content }}
        {%- for tool_call in message.tool_calls | default([]) %}
            {%- if tool_call.function %}{%- set tool_call = tool_call.function %}{%- endif %}
            {{- '\n<tool_call>\n{"name": "' + tool_call.name + '", "arguments": ' }}
            {{- tool_call.arguments if tool_call.arguments is string else tool_call.arguments | tojson }}{{- '}\n</tool_call>' }}
        {%- endfor %}{{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- if loop.first or messages[loop.index0 - 1].role != "tool" %}{{- '<|im_start|>user' }}{%- endif %}
        {{- '\n<tool_response>\n' + message.content + '\n</tool_response>' }}
        {%- if loop.last or messages[loop.index0 + 1].role != "tool" %}{{- '<|im_end|>\n' }}{%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}{{- '<|im_start|>assistant\n' }}{%- if enable_thinking is defined and enable_thinking is false %}{{- '<think>\n\n</think>\n\n' }}{%- endif %}{%- endif %})",
      // Llama-3 style headers, trim and strftime_now.
      R"({%- if not date_string is defined %}{%- set date_string = strftime_now("%d %b %Y") %}{%- endif %}
{{- bos_token }}{%- for message in messages %}{%- set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>

' + message['content'] | trim + '<|eot_id|>' %}{%- if loop.index0 == 0 %}{%- set content = content ~ ' ' ~ date_string %}{%- endif %}{{ content }}{%- endfor %}
{%- if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>

' }}{%- endif %})",
      // Gemma style: alternating roles, content parts, raise_exception.
      R"({{ bos_token }}
{%- if messages[0]['role'] == 'system' -%}{%- set first_user_prefix = messages[0]['content'] + '

' -%}{%- set loop_messages = messages[1:] -%}{%- else -%}{%- set first_user_prefix = "" -%}{%- set loop_messages = messages -%}{%- endif -%}
{%- for message in loop_messages -%}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) and strict is defined -%}{{ raise_exception("Conversation roles must alternate") }}{%- endif -%}
    {%- set role = "model" if message['role'] == 'assistant' else message['role'] -%}
    {{ '<start_of_turn>' + role + '
' + (first_user_prefix if loop.first else "") }}
    {%- if message['content'] is string -%}{{ message['content'] | trim }}
    {%- elif message['content'] is iterable -%}{%- for item in message['content'] -%}{%- if item['type'] == 'image' -%}{{ '<start_of_image>' }}{%- elif item['type'] == 'text' -%}{{ item['text'] | trim }}{%- endif -%}{%- endfor -%}
    {%- else -%}{{ raise_exception("Invalid content type") }}{%- endif -%}
    {{ '<end_of_turn>
' }}
{%- endfor -%}
{%- if add_generation_prompt -%}{{'<start_of_turn>model
'}}{%- endif -%}
)",
      // Mistral style [INST] with selectattr and loop.last.
      R"({%- if messages[0]['role'] == 'system' %}{%- set system_message = messages[0]['content'] %}{%- set loop_messages = messages[1:] %}{%- else %}{%- set loop_messages = messages %}{%- endif %}
{{- bos_token }}{%- for message in loop_messages %}
    {%- if message['role'] == 'user' %}{%- if loop.last and system_message is defined %}{{- '[INST] ' + system_message + '\n\n' + message['content'] + '[/INST]' }}{%- else %}{{- '[INST] ' + message['content'] + '[/INST]' }}{%- endif %}
    {%- elif message['role'] == 'assistant' %}{{- ' ' + message['content'] + eos_token }}{%- elif strict is defined %}{{- raise_exception('Only user and assistant roles are supported!') }}{%- endif %}
{%- endfor %}{{ (messages | selectattr('role', 'equalto', 'user') | list | last).content | default('') | length }})",
      // DeepSeek style namespace flags.
      R"({% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}{% set ns = namespace(is_first=false, is_tool=false, system_prompt='', is_first_sp=true) %}{%- for message in messages %}{%- if message['role'] == 'system' %}{%- if ns.is_first_sp %}{% set ns.system_prompt = ns.system_prompt + message['content'] %}{% set ns.is_first_sp = false %}{%- else %}{% set ns.system_prompt = ns.system_prompt + '\n\n' + message['content'] %}{%- endif %}{%- endif %}{%- endfor %}{{ bos_token }}{{ ns.system_prompt }}{%- for message in messages %}{%- if message['role'] == 'user' %}{%- set ns.is_tool = false -%}{{'<｜User｜>' + message['content']}}{%- endif %}{%- if message['role'] == 'assistant' and message['content'] is not none %}{{'<｜Assistant｜>' + message['content'] + '<｜end▁of▁sentence｜>'}}{%- endif %}{%- if message['role'] == 'tool' %}{%- set ns.is_tool = true -%}{{'<｜tool▁output▁begin｜>' + message['content'] + '<｜tool▁output▁end｜>'}}{%- endif %}{%- endfor -%}{% if add_generation_prompt and not ns.is_tool %}{{'<｜Assistant｜>'}}{% endif %})",
      // Macros, call blocks, filter blocks, set blocks, with.
      R"({%- macro render_type(spec) -%}{%- if spec.type == 'array' -%}list[{{ render_type(spec['items']) if spec['items'] is defined else 'Any' }}]{%- elif spec.type is string -%}{{ {'string': 'str', 'integer': 'int'}.get(spec.type, 'Any') }}{%- else -%}Any{%- endif -%}{%- endmacro -%}
{%- macro wrap(tag='b') %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}
{%- for tool in tools | default([]) %}{% call wrap('fn') %}{{ tool.function.name }}({% for name, p in tool.function.parameters.properties | items %}{{ name }}: {{ render_type(p) }}{{ ', ' if not loop.last }}{% endfor %}){% endcall %}
{% endfor %}{% filter upper | trim %}  {{ messages | length }} messages  {% endfilter %}
{% set block %}{% for m in messages %}{{ m.role[:1] }}{% endfor %}{% endset %}{% with n = block | length %}{{ block }}/{{ n }}{% endwith %})",
      // Whitespace control, comments, raw.
      "a\n    {% if true %}\n    b {# comment #}\n    {%- endif %}\n{%+ if 1 +%}\nc{% endif %}  {{- ' d ' -}}  \n{% raw %}{{ raw }}{% endraw %}\n",
      // Loops: filters, else, loop variables, break/continue, unpacking.
      "{% for m in messages if m.role != 'system' %}{{ loop.index }}/{{ loop.length }}{{ loop.first }}{{ loop.last }}"
      "[{{ loop.previtem.role if loop.previtem is defined }}|{{ loop.nextitem.role if loop.nextitem is defined }}]"
      "{{ loop.cycle('a', 'b') }}{% if loop.changed(m.role) %}*{% endif %}{% if loop.index > 5 %}{% break %}{% endif %}"
      "{% if m.content == '' %}{% continue %}{% endif %}{{ m.content[:10] }}{% else %}empty{% endfor %}"
      "{% for k, v in {'a': 1, 'b': [2]}.items() %}{{ k }}={{ v }}{% endfor %}",
      // Expressions: arithmetic, comparisons, slices, methods, filters, tests.
      "{{ 7 // 2 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 1 / 3 }} {{ 'ab' * 3 }} {{ [1, 2] + [3] }} {{ 1 < 2 <= 2 }}"
      " {{ 'x' in 'xyz' }} {{ none is none }} {{ 3 is odd }} {{ 'Hello'[::-1] }} {{ 'a,b'.split(',') }}"
      " {{ ' x '.strip() }} {{ 'abc'.upper().startswith('A') }} {{ [3, 1, 2] | sort | join('-') }}"
      " {{ {'b': 1, 'a': [true, none, 1.5]} | tojson(indent=2) }} {{ 1e-05 }} {{ (1,) }} {{ range(3) | list }}"
      " {{ 'a' if false }} {{ missing | default('d') }} {{ [1, 2, 3] | select('odd') | list }}"
      " {{ messages | map(attribute='role') | unique | list }} {{ '42' | int + '1.5' | float }} {{ 2.675 | round(2) }}",
      // Unicode text.
      "{{ 'Grüße 你好 🌍 ΣΑΣ ß' | upper }} {{ 'İ ΣΑΣ' | lower }} {{ 'ǆemal straße' | title }} {{ ['é', '\\u200b'] }}",
  };
}

// Messages the fuzzer renders with unless its input brings its own.
inline nlohmann::ordered_json jinja_seed_messages() {
  return nlohmann::ordered_json::parse(R"([
    {"role": "system", "content": "You are helpful."},
    {"role": "user", "content": "Hi, what's the weather?"},
    {"role": "assistant", "content": "<think>\ncheck\n</think>\n\nLet me look.",
     "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
    {"role": "tool", "content": "{\"t\": 21}", "tool_call_id": "c1"},
    {"role": "assistant", "content": "21 °C."},
    {"role": "user", "content": ""}
  ])");
}

inline nlohmann::ordered_json jinja_seed_tools() {
  return nlohmann::ordered_json::parse(R"([{"type": "function", "function": {"name": "get_weather",
    "description": "Weather.", "parameters": {"type": "object", "properties": {
      "city": {"type": "string"}, "days": {"type": "array", "items": {"type": "integer"}}}, "required": ["city"]}}}])");
}

// Renders one fuzz input: template text, optionally NUL + a JSON array of
// messages. Returns true if it rendered; a nomoat::jinja::TemplateError or
// nomoat::Error is a clean rejection; anything else escapes (a bug).
inline bool render_fuzz_input(const std::string& input) {
  using Json = nlohmann::ordered_json;
  const size_t nul = input.find('\0');
  const std::string source = input.substr(0, nul);
  if (!jinja::is_valid_utf8(source)) return false;  // ChatTemplate refuses such text first
  Json messages = jinja_seed_messages();
  if (nul != std::string::npos) {
    // Parse with a depth bound: nlohmann's copies recurse.
    const auto depth_limit = [](int depth, Json::parse_event_t, Json&) {
      if (depth > 64) throw Error("too deep");
      return true;
    };
    try {
      Json parsed = Json::parse(input.substr(nul + 1), depth_limit, true, true);
      if (parsed.is_array()) messages = std::move(parsed);
    } catch (const std::exception&) {
      // not JSON: keep the default messages
    }
  }
  try {
    const jinja::Template t = jinja::parse_template(source);
    std::vector<std::pair<std::string, jinja::Value>> context = {
        {"messages", jinja::from_json(messages)},
        {"tools", jinja::from_json(jinja_seed_tools())},
        {"add_generation_prompt", jinja::Value::boolean(true)},
        {"bos_token", jinja::Value::string("<s>")},
        {"eos_token", jinja::Value::string("</s>")},
    };
    jinja::RenderLimits limits;
    limits.max_steps = 20000;
    limits.max_output_bytes = 1 << 20;
    limits.max_string_bytes = 1 << 18;
    limits.max_call_depth = 50;
    jinja::Evaluator ev(limits, 1767225600);
    ev.render(t, context);
    return true;
  } catch (const jinja::TemplateError&) {
    return false;
  } catch (const Error&) {
    return false;
  }
}

}  // namespace nomoat::testing
