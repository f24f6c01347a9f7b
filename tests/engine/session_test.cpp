// Session: a kept KV cache gives exactly what a fresh generate() gives, only
// the tokens after the shared prefix are evaluated, and cancel stops it.
#include "engine/session.h"

#include <gtest/gtest.h>

#include <atomic>

#include "support/test_data.h"

namespace nomoat {
namespace {

struct Stories {
  std::unique_ptr<Model> model;
  std::unique_ptr<Tokenizer> tokenizer;
};

Stories load_stories() {
  Stories s;
  s.model = Model::load((testing::shared_data_dir() / "tiny" / "stories260K.gguf").string());
  s.tokenizer = std::make_unique<Tokenizer>(load_vocab_gguf(s.model->file()));
  return s;
}

GenerateOptions greedy(int64_t n_predict) {
  GenerateOptions o;
  o.n_predict = n_predict;
  o.sampling.temperature = 0;
  o.n_batch = 7;  // several prompt batches, not a multiple of anything
  return o;
}

TEST(Session, ContinuedPromptsMatchFreshGeneration) {
  NOMOAT_REQUIRE_SHARED_DATA();
  const Stories s = load_stories();
  const auto first = s.tokenizer->encode("Once upon a time, there was a little girl");
  Session session(*s.model, *s.tokenizer, greedy(12));
  const GenerateResult a = session.generate(first, greedy(12));
  EXPECT_EQ(a.n_prompt_reused, 0);
  EXPECT_EQ(a.text, generate(*s.model, *s.tokenizer, first, greedy(12)).text);

  // The next "turn": the first prompt, the reply, then new text. Everything
  // up to the reply's last token is already cached (a length stop evaluates it).
  std::vector<TokenId> second = first;
  second.insert(second.end(), a.tokens.begin(), a.tokens.end());
  const auto more = s.tokenizer->encode(" She liked to play", {.add_special = false});
  second.insert(second.end(), more.begin(), more.end());
  const GenerateResult b = session.generate(second, greedy(10));
  EXPECT_EQ(b.n_prompt_reused, static_cast<int64_t>(first.size() + a.tokens.size()));
  const GenerateResult fresh = generate(*s.model, *s.tokenizer, second, greedy(10));
  EXPECT_EQ(b.tokens, fresh.tokens);
  EXPECT_EQ(b.text, fresh.text);

  // A prompt that diverges early drops the cached rest.
  const auto other = s.tokenizer->encode("Once upon a time, a big dog");
  const GenerateResult c = session.generate(other, greedy(8));
  EXPECT_LT(c.n_prompt_reused, static_cast<int64_t>(other.size()));
  EXPECT_EQ(c.tokens, generate(*s.model, *s.tokenizer, other, greedy(8)).tokens);
  session.reset();
  EXPECT_TRUE(session.cached_tokens().empty());
  EXPECT_EQ(session.generate(other, greedy(8)).n_prompt_reused, 0);
}

TEST(Session, CancelStopsBetweenTokensAndKeepsTheCacheUsable) {
  NOMOAT_REQUIRE_SHARED_DATA();
  const Stories s = load_stories();
  const auto prompt = s.tokenizer->encode("Lily and Ben went to the park");
  Session session(*s.model, *s.tokenizer, greedy(-1));
  std::atomic<bool> cancel{false};
  int pieces = 0;
  const GenerateResult r = session.generate(prompt, greedy(-1), [&](const std::string&) {
    if (++pieces == 3) cancel = true;
  }, &cancel);
  EXPECT_EQ(r.reason, StopReason::kCancelled);
  EXPECT_GE(r.tokens.size(), 3u);
  EXPECT_LT(r.tokens.size(), 10u);
  // Cancelled before the prompt: nothing generated.
  const GenerateResult none = session.generate(prompt, greedy(5), nullptr, &cancel);
  EXPECT_EQ(none.reason, StopReason::kCancelled);
  EXPECT_TRUE(none.tokens.empty());
  cancel = false;
  EXPECT_EQ(session.generate(prompt, greedy(6)).tokens, generate(*s.model, *s.tokenizer, prompt, greedy(6)).tokens);
}

}  // namespace
}  // namespace nomoat
