// Conversation: history rendered each turn, prefix reuse across turns,
// oldest exchanges dropped when the context is full, system prompt kept.
#include "engine/conversation.h"

#include <gtest/gtest.h>

#include "base/error.h"
#include "support/test_data.h"

namespace nomoat {
namespace {

using Json = nlohmann::ordered_json;

// A plain transcript format (the tiny model has no chat template).
std::string render(const Json& messages, bool add_generation_prompt) {
  std::string out;
  for (const Json& m : messages) out += m.at("role").get<std::string>() + ": " + m.at("content").get<std::string>() + "\n";
  if (add_generation_prompt) out += "assistant:";
  return out;
}

struct Fixture {
  std::unique_ptr<Model> model;
  std::unique_ptr<Tokenizer> tokenizer;
  Fixture() {
    model = Model::load((testing::shared_data_dir() / "tiny" / "stories260K.gguf").string());
    tokenizer = std::make_unique<Tokenizer>(load_vocab_gguf(model->file()));
  }
};

GenerateOptions greedy(int64_t n) {
  GenerateOptions o;
  o.n_predict = n;
  o.sampling.temperature = 0;
  return o;
}

TEST(Conversation, TurnsAccumulateAndReuseTheCache) {
  NOMOAT_REQUIRE_SHARED_DATA();
  Fixture f;
  Session session(*f.model, *f.tokenizer, greedy(8));
  Conversation chat(session, *f.tokenizer, render, 16);
  chat.set_system("Tell a story.");
  std::string streamed;
  const auto t1 = chat.reply("Once upon a time", greedy(8), [&](const std::string& s) { streamed += s; });
  EXPECT_EQ(t1.dropped_turns, 0);
  EXPECT_EQ(streamed, t1.result.text);
  ASSERT_EQ(chat.messages().size(), 3u);
  EXPECT_EQ(chat.messages()[2]["role"], "assistant");
  EXPECT_EQ(chat.messages()[2]["content"], t1.result.text);
  // What the model saw is the template's rendering, BOS first (the vocabulary adds one).
  const auto prompt = chat.tokenize(Json::array({chat.messages()[0], chat.messages()[1]}), true);
  EXPECT_EQ(prompt.front(), f.tokenizer->vocab().bos);
  EXPECT_EQ(t1.result.tokens, generate(*f.model, *f.tokenizer, prompt, greedy(8)).tokens);

  const auto t2 = chat.reply("The end", greedy(6));
  EXPECT_GT(t2.result.n_prompt_reused, static_cast<int64_t>(prompt.size()) - 2);
  EXPECT_EQ(chat.messages().size(), 5u);
  EXPECT_EQ(chat.to_json()["messages"], chat.messages());

  chat.reset();
  ASSERT_EQ(chat.messages().size(), 1u);
  EXPECT_EQ(chat.messages()[0]["role"], "system");
  // After a reset the same question gets the same greedy reply, its prompt
  // now entirely in the cache (only its last token is evaluated again).
  const auto again = chat.reply("Once upon a time", greedy(8));
  EXPECT_EQ(again.result.n_prompt_reused, static_cast<int64_t>(prompt.size()) - 1);
  EXPECT_EQ(again.result.text, t1.result.text);
  chat.reset();
  chat.set_system("");
  EXPECT_TRUE(chat.messages().empty());
}

TEST(Conversation, DropsOldestExchangesWhenTheContextIsFull) {
  NOMOAT_REQUIRE_SHARED_DATA();
  Fixture f;
  GenerateOptions o = greedy(10);
  o.n_ctx = 96;
  Session session(*f.model, *f.tokenizer, o);
  Conversation chat(session, *f.tokenizer, render, 24);
  chat.set_system("Be brief.");
  int dropped = 0;
  for (int i = 0; i < 8; ++i) {
    const auto t = chat.reply("Lily saw a big red ball in the park and she", o);
    dropped += t.dropped_turns;
    EXPECT_LE(static_cast<int64_t>(chat.tokenize(chat.messages(), false).size()), 96);
    EXPECT_EQ(chat.messages()[0]["content"], "Be brief.");
  }
  EXPECT_GT(dropped, 0);
  // A message that cannot fit even alone is refused and not kept.
  std::string huge;
  for (int i = 0; i < 60; ++i) huge += "the dog ran ";
  const size_t before = chat.messages().size();
  try {
    chat.reply(huge, o);
    FAIL() << "expected the message to be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("raise -c"), std::string::npos) << e.what();
  }
  EXPECT_EQ(chat.messages().size(), before);
  EXPECT_EQ(chat.messages().back()["role"], "assistant");
}

TEST(Conversation, AFailedTurnLeavesTheHistoryAsItWas) {
  NOMOAT_REQUIRE_SHARED_DATA();
  Fixture f;
  Session session(*f.model, *f.tokenizer, greedy(6));
  // A template that refuses some input, as real ones do with raise_exception.
  auto strict = [](const Json& messages, bool add_generation_prompt) {
    for (const Json& m : messages) {
      if (m.at("content") == "boom") throw Error("chat template line 1: refused");
    }
    return render(messages, add_generation_prompt);
  };
  Conversation chat(session, *f.tokenizer, strict, 16);
  chat.reply("Once upon a time", greedy(6));
  const Json before = chat.messages();
  EXPECT_THROW(chat.reply("boom", greedy(6)), Error);
  EXPECT_EQ(chat.messages(), before);
  // The next turn renders without the refused message.
  const auto t = chat.reply("The end", greedy(6));
  EXPECT_EQ(chat.messages().size(), before.size() + 2);
  EXPECT_EQ(chat.messages()[before.size()]["content"], "The end");
  EXPECT_FALSE(t.result.tokens.empty());
}

}  // namespace
}  // namespace nomoat
