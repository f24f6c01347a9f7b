// `nomoat template`: render a conversation with a model's chat template and
// print the prompt exactly as the model would receive it.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "base/error.h"
#include "cli/commands.h"
#include "engine/model_chat_template.h"

namespace nomoat::cli {
namespace {

using Json = nlohmann::ordered_json;

std::string read_text(const std::string& path) {
  if (path == "-") return {std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot open");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

Json read_json(const std::string& path) {
  const std::string text = read_text(path);
  try {
    return Json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    fail(path, ": invalid JSON (", e.what(), ")");
  }
}

// CONV.json: {"messages": [...], optionally "tools": [...]} or a bare array.
void read_conversation(const std::string& path, ChatTemplateInputs& in) {
  Json conv = read_json(path);
  if (conv.is_object()) {
    if (!conv.contains("messages") || !conv["messages"].is_array()) fail(path, ": expected a 'messages' array");
    in.messages = std::move(conv["messages"]);
    if (conv.contains("tools")) in.tools = std::move(conv["tools"]);
  } else if (conv.is_array()) {
    in.messages = std::move(conv);
  } else {
    fail(path, ": expected an array of messages or an object with 'messages'");
  }
  for (size_t i = 0; i < in.messages.size(); ++i) {
    if (!in.messages[i].is_object()) fail(path, ": messages[", i, "] is not an object");
  }
}

// TOOLS.json: an array of tool definitions, or an object with 'tools'.
Json read_tools(const std::string& path) {
  Json tools = read_json(path);
  if (tools.is_object() && tools.contains("tools")) tools = std::move(tools["tools"]);
  if (!tools.is_array()) fail(path, ": expected an array of tools or an object with 'tools'");
  return tools;
}

}  // namespace

void add_template(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("template",
                                 "Render a conversation with a model's chat template and print the prompt");
  struct Options {
    std::string model, messages, tools, template_file;
    bool add_generation_prompt = false;
    std::vector<std::string> vars;
    int64_t now = -1;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("model", o->model, "GGUF file or Hugging Face folder (its chat template and special tokens)")
      ->required()
      ->type_name("MODEL");
  cmd->add_option("--messages", o->messages,
                  "CONV.json: an array of OpenAI-style messages, or an object with 'messages' (and 'tools'); "
                  "'-' reads stdin")
      ->required()
      ->type_name("CONV.json");
  cmd->add_option("--tools", o->tools, "TOOLS.json: an array of tool definitions, or an object with 'tools'")
      ->type_name("TOOLS.json");
  cmd->add_flag("--add-generation-prompt", o->add_generation_prompt,
                "End with the start of the assistant's turn (add_generation_prompt=True)");
  cmd->add_option("--template", o->template_file, "Use the Jinja2 template in FILE instead of the model's")
      ->type_name("FILE");
  cmd->add_option("--var", o->vars, "KEY=JSON: a template variable, e.g. --var enable_thinking=false")
      ->type_name("KEY=JSON")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--now", o->now, "Unix time strftime_now reports (default: now)")->type_name("SECONDS");
  cmd->footer(
      "The prompt is printed exactly, with no newline added. It matches what Hugging Face\n"
      "transformers' apply_chat_template renders (see docs/chat-templates.md).");
  cmd->callback([o, &action] {
    action = [o] {
      ChatTemplateInputs in;
      read_conversation(o->messages, in);
      if (!o->tools.empty()) in.tools = read_tools(o->tools);
      in.add_generation_prompt = o->add_generation_prompt;
      for (const std::string& var : o->vars) {
        const size_t eq = var.find('=');
        if (eq == std::string::npos || eq == 0) fail("--var ", var, ": expected KEY=JSON");
        const std::string key = var.substr(0, eq);
        try {
          in.extra[key] = Json::parse(var.substr(eq + 1));
        } catch (const nlohmann::json::parse_error&) {
          fail("--var ", key, ": '", var.substr(eq + 1), "' is not JSON (a string needs quotes: ", key,
               "='\"text\"')");
        }
      }
      if (o->now >= 0) in.now = static_cast<std::time_t>(o->now);
      std::optional<std::string> source;
      if (!o->template_file.empty()) source = read_text(o->template_file);
      const ModelChatTemplate m =
          model_chat_template(load_vocab(o->model), o->model, source, o->template_file, !in.tools.is_null());
      in.bos_token = m.bos_token;
      in.eos_token = m.eos_token;
      const std::string prompt = m.chat_template.render(in);
      std::fwrite(prompt.data(), 1, prompt.size(), stdout);
      return 0;
    };
  });
}

}  // namespace nomoat::cli
