// A real model trained by someone else: nomoat must generate exactly what a
// reference engine generated from it, and match its perplexity.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/generate.h"
#include "engine/perplexity.h"
#include "model/forward.h"
#include "model/model.h"
#include "support/test_data.h"
#include "tokenizer/tokenizer.h"

namespace nomoat {
namespace {

std::string stories_path() { return (testing::shared_data_dir() / "tiny" / "stories260K.gguf").string(); }

// Greedy decoding follows the reference engine's tokens. Fed the reference's
// own tokens, every position's argmax must be the reference's choice; the
// message tells a near-tie (top two logits within 0.005, where summation order
// decides) from a real error. Free-running generation must match exactly.
TEST(Stories260K, GreedyGenerationMatchesReferenceEngine) {
  NOMOAT_REQUIRE_SHARED_DATA();
  const auto model = Model::load(stories_path());
  const Tokenizer tok(load_vocab_gguf(model->file()));
  std::ifstream in(testing::shared_data_dir() / "tiny" / "expected.jsonl");
  std::string line;
  int cases = 0, exact = 0, positions = 0, ties = 0;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line);
    const auto expected = j["tokens"].get<std::vector<TokenId>>();
    const std::vector<TokenId> prompt = tok.encode(j["prompt"].get<std::string>());
    // Teacher-forced: the reference's tokens in, our argmax compared.
    KvCache cache(model->spec(), model->spec().n_ctx_train, 1);
    std::vector<BatchEntry> batch;
    for (size_t i = 0; i < prompt.size(); ++i) batch.push_back({0, static_cast<int64_t>(i), prompt[i], i + 1 == prompt.size()});
    std::vector<float> logits = forward(*model, cache, batch);
    bool tie_seen = false;
    for (size_t k = 0; k < expected.size(); ++k) {
      const auto best = std::max_element(logits.begin(), logits.end()) - logits.begin();
      ++positions;
      if (best != expected[k]) {
        const float gap = logits[static_cast<size_t>(best)] - logits[static_cast<size_t>(expected[k])];
        EXPECT_LT(gap, 0.005f) << "prompt \"" << j["prompt"] << "\" step " << k << ": ours " << best << ", reference " << expected[k];
        ++ties;
        tie_seen = true;
      }
      const BatchEntry next{0, static_cast<int64_t>(prompt.size() + k), expected[k], true};
      logits = forward(*model, cache, std::span<const BatchEntry>(&next, 1));
    }
    // Free-running, with the prompt split over several batches.
    GenerateOptions o;
    o.n_predict = j["n_predict"];
    o.sampling.temperature = 0;
    o.n_batch = 3;
    const GenerateResult r = generate(*model, tok, prompt, o);
    if (!tie_seen) {
      EXPECT_EQ(r.tokens, expected) << "prompt: " << j["prompt"];
      EXPECT_EQ(r.text, j["text"].get<std::string>()) << "prompt: " << j["prompt"];
    }
    exact += r.tokens == expected;
    ++cases;
  }
  std::printf("stories260K: %d of %d generations identical; %d near-ties in %d teacher-forced positions\n", exact, cases, ties, positions);
  EXPECT_EQ(cases, 8);
  EXPECT_EQ(exact, 8);
  EXPECT_EQ(ties, 0);
}

TEST(Stories260K, PerplexityMatchesReferenceEngine) {
  NOMOAT_REQUIRE_SHARED_DATA();
  const auto model = Model::load(stories_path());
  const Tokenizer tok(load_vocab_gguf(model->file()));
  std::ifstream in(testing::shared_data_dir() / "tiny" / "ppl.txt", std::ios::binary);
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  EncodeOptions enc;
  enc.parse_special = false;
  const PerplexityResult r = perplexity(*model, tok.encode(text, enc), tok.vocab().bos, 128, 128, 2);
  std::printf("stories260K PPL = %.4f +/- %.5f over %lld chunks (reference 2.9775 +/- 0.14191)\n", r.ppl, r.ppl_stderr,
              static_cast<long long>(r.n_chunks));
  EXPECT_EQ(r.n_chunks, 12);
  EXPECT_NEAR(r.ppl, 2.9775, 0.00005);
  EXPECT_NEAR(r.ppl_stderr, 0.14191, 0.000005);
}

}  // namespace
}  // namespace nomoat
