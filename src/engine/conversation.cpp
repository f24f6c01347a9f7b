#include "engine/conversation.h"

#include "base/error.h"

namespace nomoat {

using Json = nlohmann::ordered_json;

Conversation::Conversation(Session& session, const Tokenizer& tokenizer, Render render, int64_t reserve)
    : session_(session), tokenizer_(tokenizer), render_(std::move(render)), reserve_(reserve) {
  if (reserve_ <= 0) reserve_ = std::max<int64_t>(1, session_.n_ctx() / 4);
  if (reserve_ >= session_.n_ctx()) fail("the reply reserve (", reserve_, ") must be smaller than the context (", session_.n_ctx(), ")");
}

bool Conversation::has_system() const { return !messages_.empty() && messages_[0].value("role", "") == "system"; }

void Conversation::reset() {
  Json kept = Json::array();
  if (has_system()) kept.push_back(messages_[0]);
  messages_ = std::move(kept);
}

void Conversation::set_system(const std::string& text) {
  if (has_system()) messages_.erase(messages_.begin());
  if (!text.empty()) messages_.insert(messages_.begin(), Json{{"role", "system"}, {"content", text}});
}

Json Conversation::to_json() const { return Json{{"messages", messages_}}; }

std::vector<TokenId> Conversation::tokenize(const Json& messages, bool add_generation_prompt) const {
  const std::string text = render_(messages, add_generation_prompt);
  std::vector<TokenId> ids = tokenizer_.encode(text, {.add_special = false, .parse_special = true});
  const Vocab& v = tokenizer_.vocab();
  if (v.add_bos && v.bos != kNoToken && (ids.empty() || ids.front() != v.bos)) ids.insert(ids.begin(), v.bos);
  return ids;
}

Conversation::Turn Conversation::reply(const std::string& user_text, const GenerateOptions& options,
                                       const std::function<void(const std::string&)>& on_text,
                                       const std::atomic<bool>* cancel) {
  // A turn that fails (the template raising, a message too long, an error
  // while generating) leaves the history as it was, so the next turn does not
  // inherit a half-added exchange.
  const Json before = messages_;
  try {
    return reply_unguarded(user_text, options, on_text, cancel);
  } catch (...) {
    messages_ = before;
    throw;
  }
}

Conversation::Turn Conversation::reply_unguarded(const std::string& user_text, const GenerateOptions& options,
                                       const std::function<void(const std::string&)>& on_text,
                                       const std::atomic<bool>* cancel) {
  Turn turn;
  messages_.push_back(Json{{"role", "user"}, {"content", user_text}});
  const int64_t limit = session_.n_ctx() - reserve_;
  // Refuse a message that cannot fit even without any history, before
  // dropping anything (a refused message loses nothing).
  Json alone = Json::array();
  if (has_system()) alone.push_back(messages_[0]);
  alone.push_back(messages_.back());
  const size_t alone_tokens = tokenize(alone, true).size();
  if (static_cast<int64_t>(alone_tokens) > limit) {
    fail("the message is ", alone_tokens, " tokens with the chat template, more than the ", limit,
         " that fit the context of ", session_.n_ctx(), " with room for a reply (raise -c)");
  }
  std::vector<TokenId> prompt = tokenize(messages_, true);
  // Drop the oldest exchanges (from the first kept message up to the next
  // user message), never the system prompt or the new message.
  while (static_cast<int64_t>(prompt.size()) > limit) {
    const size_t first = has_system() ? 1 : 0;
    size_t next_user = first + 1;
    while (next_user + 1 < messages_.size() && messages_[next_user].value("role", "") != "user") ++next_user;
    messages_.erase(messages_.begin() + static_cast<std::ptrdiff_t>(first),
                    messages_.begin() + static_cast<std::ptrdiff_t>(next_user));
    ++turn.dropped_turns;
    prompt = tokenize(messages_, true);
  }
  GenerateOptions o = options;
  // The reply may use what the context has left.
  const int64_t room = session_.n_ctx() - static_cast<int64_t>(prompt.size());
  if (o.n_predict < 0 || o.n_predict > room) o.n_predict = room;
  turn.result = session_.generate(prompt, o, on_text, cancel);
  if (turn.result.reason == StopReason::kCancelled && turn.result.text.empty()) {
    messages_.erase(messages_.end() - 1);  // stopped before a word: as if never asked
  } else {
    messages_.push_back(Json{{"role", "assistant"}, {"content", turn.result.text}});
  }
  return turn;
}

}  // namespace nomoat
