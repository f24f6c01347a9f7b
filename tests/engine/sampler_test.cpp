// The sampling chain: each stage does what its name says, and a seed fixes
// the draws.
#include "engine/sampler.h"

#include <gtest/gtest.h>

#include <cmath>

namespace nomoat {
namespace {

SamplerParams plain(float temp = 1.0f) {
  SamplerParams p;
  p.temperature = temp;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  return p;
}

std::vector<float> log_probs(std::initializer_list<float> probs) {
  std::vector<float> l;
  for (float p : probs) l.push_back(std::log(p));
  return l;
}

std::vector<int> histogram(const SamplerParams& p, const std::vector<float>& logits, int draws) {
  Sampler s(p);
  std::vector<int> h(logits.size());
  for (int i = 0; i < draws; ++i) ++h[static_cast<size_t>(s.sample(logits.data(), static_cast<int64_t>(logits.size())))];
  return h;
}

TEST(Sampler, GreedyIsArgmax) {
  const std::vector<float> logits = {0.1f, 2.0f, -1.0f, 1.9f};
  Sampler s(plain(0.0f));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(s.sample(logits.data(), 4), 1);
  SamplerParams k1 = plain();
  k1.top_k = 1;
  Sampler s2(k1);
  EXPECT_EQ(s2.sample(logits.data(), 4), 1);
}

TEST(Sampler, SeedFixesTheDraws) {
  const auto logits = log_probs({0.25f, 0.25f, 0.25f, 0.25f});
  SamplerParams p = plain();
  p.seed = 7;
  Sampler a(p), b(p);
  std::vector<TokenId> da, db, dc;
  for (int i = 0; i < 50; ++i) {
    da.push_back(a.sample(logits.data(), 4));
    db.push_back(b.sample(logits.data(), 4));
  }
  EXPECT_EQ(da, db);
  p.seed = 8;
  Sampler c(p);
  for (int i = 0; i < 50; ++i) dc.push_back(c.sample(logits.data(), 4));
  EXPECT_NE(da, dc);
}

TEST(Sampler, FollowsTheDistribution) {
  const auto h = histogram(plain(), log_probs({0.5f, 0.3f, 0.2f}), 20000);
  EXPECT_NEAR(h[0] / 20000.0, 0.5, 0.02);
  EXPECT_NEAR(h[1] / 20000.0, 0.3, 0.02);
  EXPECT_NEAR(h[2] / 20000.0, 0.2, 0.02);
  // Temperature 0.5 squares the odds: 0.25 : 0.09 : 0.04.
  const auto cold = histogram(plain(0.5f), log_probs({0.5f, 0.3f, 0.2f}), 20000);
  EXPECT_NEAR(cold[0] / 20000.0, 0.25 / 0.38, 0.02);
}

TEST(Sampler, TruncationStages) {
  const auto logits = log_probs({0.4f, 0.3f, 0.2f, 0.1f});
  SamplerParams k = plain();
  k.top_k = 2;
  auto h = histogram(k, logits, 5000);
  EXPECT_EQ(h[2] + h[3], 0);
  SamplerParams p = plain();
  p.top_p = 0.65f;  // 0.4 + 0.3 reaches it
  h = histogram(p, logits, 5000);
  EXPECT_EQ(h[2] + h[3], 0);
  EXPECT_GT(h[1], 0);
  SamplerParams m = plain();
  m.min_p = 0.45f;  // keeps p >= 0.18
  h = histogram(m, logits, 5000);
  EXPECT_EQ(h[3], 0);
  EXPECT_GT(h[2], 0);
  SamplerParams t = plain();
  t.typical_p = 0.25f;  // token 1 alone: its surprise -ln 0.3 is closest to the entropy
  h = histogram(t, logits, 5000);
  EXPECT_EQ(h[1], 5000);
}

TEST(Sampler, Penalties) {
  const std::vector<float> logits = {2.0f, 1.5f, 0.0f};
  SamplerParams r = plain(0.0f);
  r.repeat_penalty = 2.0f;
  Sampler s(r);
  s.accept(0);  // 2.0 / 2 = 1.0 < 1.5
  EXPECT_EQ(s.sample(logits.data(), 3), 1);
  SamplerParams f = plain(0.0f);
  f.frequency_penalty = 0.3f;
  Sampler s2(f);
  s2.accept(0);
  EXPECT_EQ(s2.sample(logits.data(), 3), 0);  // 2.0 - 0.3 > 1.5
  s2.accept(0);                                // token 0 now seen 3 times (sampled once)
  EXPECT_EQ(s2.sample(logits.data(), 3), 1);   // 2.0 - 0.9 < 1.5
  SamplerParams pr = plain(0.0f);
  pr.presence_penalty = 0.6f;
  Sampler s3(pr);
  s3.accept(0);
  EXPECT_EQ(s3.sample(logits.data(), 3), 1);
}

}  // namespace
}  // namespace nomoat
