// A chat conversation over a Session: the message history, rendered to a
// prompt by the model's chat template on every turn (only the new tail is
// evaluated, thanks to the session's prefix reuse), with the oldest turns
// dropped when the history no longer fits the context.
#pragma once

#include <atomic>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/session.h"

namespace nomoat {

class Conversation {
 public:
  // Renders an OpenAI-style messages array to prompt text (the chat template).
  using Render = std::function<std::string(const nlohmann::ordered_json& messages, bool add_generation_prompt)>;

  struct Turn {
    GenerateResult result;
    int dropped_turns = 0;  // oldest user/assistant exchanges dropped to make room
  };

  // `reserve`: context positions kept free for each reply (0: a quarter of the context).
  Conversation(Session& session, const Tokenizer& tokenizer, Render render, int64_t reserve = 0);

  // Adds the user's message, generates the assistant's reply and adds it
  // (a cancelled reply is kept as far as it got; one cancelled before its
  // first word is dropped with the question). Throws Error if even the newest
  // message alone does not fit, or rendering or generating fails; the
  // history is then left as it was before the call.
  Turn reply(const std::string& user_text, const GenerateOptions& options,
             const std::function<void(const std::string&)>& on_text = nullptr,
             const std::atomic<bool>* cancel = nullptr);

  // Forgets every message but the system prompt.
  void reset();
  // Sets (or, with "", removes) the system prompt.
  void set_system(const std::string& text);
  const nlohmann::ordered_json& messages() const { return messages_; }
  // {"messages": [...]}, the input format of `nomoat template --messages`.
  nlohmann::ordered_json to_json() const;

  // The prompt's token ids for `messages`: the rendered text with special
  // tokens parsed, and BOS added when the vocabulary wants one and the
  // template did not write it.
  std::vector<TokenId> tokenize(const nlohmann::ordered_json& messages, bool add_generation_prompt) const;

 private:
  bool has_system() const;
  Turn reply_unguarded(const std::string& user_text, const GenerateOptions& options,
                       const std::function<void(const std::string&)>& on_text, const std::atomic<bool>* cancel);

  Session& session_;
  const Tokenizer& tokenizer_;
  Render render_;
  int64_t reserve_;
  nlohmann::ordered_json messages_ = nlohmann::ordered_json::array();
};

}  // namespace nomoat
