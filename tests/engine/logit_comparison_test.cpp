// compare_logits: a model against itself is identical; its perplexities are
// perplexity()'s; a different model shows a positive divergence.
#include "engine/logit_comparison.h"

#include <gtest/gtest.h>

#include "base/error.h"
#include "engine/perplexity.h"
#include "model/random_model.h"
#include "support/test_data.h"

namespace nomoat {
namespace {

std::string model_file(const std::filesystem::path& dir, uint64_t seed) {
  RandomModelOptions o;
  o.n_embd = 64;
  o.n_layer = 2;
  o.n_head = 4;
  o.n_vocab = 260;
  o.seed = seed;
  const std::string path = (dir / ("m" + std::to_string(seed) + ".gguf")).string();
  write_random_model(o, path);
  return path;
}

TEST(LogitComparison, SelfIsIdenticalOtherDiverges) {
  const auto dir = testing::scratch_dir("logit_comparison");
  const auto a = Model::load(model_file(dir, 1));
  const auto b = Model::load(model_file(dir, 2));
  std::vector<TokenId> tokens;
  for (int i = 0; i < 3 * 32 + 5; ++i) tokens.push_back((i * 37 + 11) % 260);
  const LogitComparison self = compare_logits(*a, *a, tokens, 1, 32, 16, 2);
  EXPECT_EQ(self.n_chunks, 3);
  EXPECT_EQ(self.n_scored, 3 * 15);
  EXPECT_EQ(self.mean_kld, 0.0);
  EXPECT_EQ(self.top1_agreement, 1.0);
  const PerplexityResult p = perplexity(*a, tokens, 1, 32, 16, 2);
  EXPECT_NEAR(self.base_ppl, p.ppl, 1e-9 * p.ppl);
  EXPECT_NEAR(self.ppl, p.ppl, 1e-9 * p.ppl);
  const LogitComparison other = compare_logits(*a, *b, tokens, 1, 32, 16, 2);
  EXPECT_NEAR(other.base_ppl, p.ppl, 1e-9 * p.ppl);
  EXPECT_NEAR(other.ppl, perplexity(*b, tokens, 1, 32, 16, 2).ppl, 1e-9 * other.ppl);
  EXPECT_GT(other.mean_kld, 0.01);
  EXPECT_GE(other.max_kld, other.mean_kld);
  EXPECT_LT(other.top1_agreement, 0.5);
  // The base side computed once gives the same numbers.
  const BaseLogits base = base_logits(*a, tokens, 1, 32, 16, 2);
  EXPECT_EQ(base.chunks.size(), 3u);
  const LogitComparison again = compare_logits(base, *b, 16, 2);
  EXPECT_EQ(again.mean_kld, other.mean_kld);
  EXPECT_EQ(again.ppl, other.ppl);
  EXPECT_THROW(compare_logits(*a, *a, std::vector<TokenId>(20, 1), 1, 32, 16, 2), Error);
}

}  // namespace
}  // namespace nomoat
