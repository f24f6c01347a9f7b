// The measurement logic of `nomoat bench`, without the command line.
#include "engine/benchmark.h"

#include <gtest/gtest.h>

#include <cmath>

#include "base/error.h"
#include "support/test_data.h"

namespace nomoat {
namespace {

std::string tiny_model() {
  static const std::string path = [] {
    const std::string p = (testing::scratch_dir("benchmark_model") / "m.gguf").string();
    std::string log;
    EXPECT_EQ(testing::run_command(testing::nomoat_binary() +
                                       " gen-model -q --type q8_0 --n-embd 64 --n-head 4 --n-ff 128 --n-layer 1 --n-vocab 300 -o " + p,
                                   &log),
              0)
        << log;
    return p;
  }();
  return path;
}

TEST(Benchmark, MeanStddevAndMedian) {
  const MeanStddev a = mean_stddev({2, 4, 4, 4, 5, 5, 7, 9});
  EXPECT_DOUBLE_EQ(a.mean, 5.0);
  EXPECT_NEAR(a.stddev, std::sqrt(32.0 / 7.0), 1e-12);  // sample (n - 1) stddev
  EXPECT_EQ(mean_stddev({3}).stddev, 0.0);
  EXPECT_EQ(mean_stddev({}).mean, 0.0);
  EXPECT_EQ(median({3, 1, 2}), 2.0);
  EXPECT_EQ(median({4, 1, 2, 3}), 2.5);
}

TEST(Benchmark, TokensAreValidAndFixed) {
  const auto a = bench_tokens(1000, 300, 7);
  ASSERT_EQ(a.size(), 1000u);
  for (TokenId t : a) {
    EXPECT_GE(t, 0);
    EXPECT_LT(t, 300);
  }
  EXPECT_EQ(a, bench_tokens(1000, 300, 7));
  EXPECT_NE(a, bench_tokens(1000, 300, 8));
  EXPECT_THROW(bench_tokens(4, 0, 1), Error);
}

TEST(Benchmark, RunsEachTestWithItsRepetitions) {
  const auto model = Model::load(tiny_model());
  BenchOptions o;
  o.n_prompt = 10;
  o.n_gen = 3;
  o.n_batch = 4;
  o.threads = 1;
  o.reps = 2;
  int callbacks = 0, before_rep = 0;
  o.before_rep = [&] { ++before_rep; };  // measured repetitions only, not the warm-ups
  const auto rs = run_bench(*model, o, [&](const BenchResult&) { ++callbacks; });
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(callbacks, 2);
  EXPECT_EQ(before_rep, 4);
  EXPECT_EQ(rs[0].test, "pp10");
  EXPECT_EQ(rs[0].n_prompt, 10);
  EXPECT_EQ(rs[0].n_gen, 0);
  EXPECT_EQ(rs[0].n_passes, 3);  // batches of 4, 4, 2
  EXPECT_EQ(rs[1].test, "tg3");
  EXPECT_EQ(rs[1].n_prompt, 0);
  EXPECT_EQ(rs[1].n_gen, 3);
  EXPECT_EQ(rs[1].n_passes, 3);
  for (const auto& r : rs) {
    ASSERT_EQ(r.samples_ts.size(), 2u);
    ASSERT_EQ(r.samples_s.size(), 2u);
    EXPECT_EQ(r.reps, 2);
    EXPECT_EQ(r.threads, 1);
    for (size_t i = 0; i < 2; ++i) {
      EXPECT_GT(r.samples_ts[i], 0);
      EXPECT_NEAR(r.samples_ts[i] * r.samples_s[i], static_cast<double>(r.n_prompt + r.n_gen), 1e-6);
    }
    EXPECT_NEAR(r.tokens_per_s, (r.samples_ts[0] + r.samples_ts[1]) / 2, 1e-9 * r.tokens_per_s);
    EXPECT_GE(r.stddev, 0);
  }
  o.n_prompt = 0;
  EXPECT_EQ(run_bench(*model, o).size(), 1u);
  o.n_gen = 0;
  EXPECT_TRUE(run_bench(*model, o).empty());
  o.reps = 0;
  EXPECT_THROW(run_bench(*model, o), Error);
}

TEST(Benchmark, WeightBytesPerTokenSkipsTheEmbeddingTable) {
  const auto model = Model::load(tiny_model());
  uint64_t all = 0, embd = 0;
  int64_t embd_rows = 0;
  for (const auto& t : model->file().tensors()) {
    all += t.nbytes;
    if (t.name == "token_embd.weight") embd = t.nbytes, embd_rows = t.rows();
  }
  ASSERT_GT(embd, 0u);
  EXPECT_EQ(weight_bytes_per_token(*model), all - embd + embd / static_cast<uint64_t>(embd_rows));
  BenchResult tg;
  tg.n_gen = 10;
  tg.n_passes = 10;
  tg.tokens_per_s = 5;
  EXPECT_DOUBLE_EQ(weight_read_rate(tg, 1000), 5000.0);
  BenchResult pp;
  pp.n_prompt = 100;
  pp.n_passes = 2;  // the weights are read once per batch
  pp.tokens_per_s = 50;
  EXPECT_DOUBLE_EQ(weight_read_rate(pp, 1000), 1000.0);
}

TEST(Benchmark, OpsPerTokenCountTwoPerParameterOutsideTheEmbedding) {
  const auto model = Model::load(tiny_model());
  double params = 0;
  for (const auto& t : model->file().tensors()) {
    if (t.name != "token_embd.weight") params += static_cast<double>(t.n_elements);
  }
  EXPECT_DOUBLE_EQ(ops_per_token(*model), 2 * params);
  EXPECT_TRUE(weights_mostly_quantized(*model));  // the tiny model is Q8_0
  BenchResult pp;
  pp.n_prompt = 100;
  pp.tokens_per_s = 50;
  EXPECT_DOUBLE_EQ(compute_rate(pp, 1e6), 5e7);
}

TEST(Benchmark, RooflineMeasurementsArePositive) {
  const RateResult bw = measure_read_bandwidth(4 << 20, 2, 3);
  EXPECT_EQ(bw.samples.size(), 3u);
  EXPECT_EQ(bw.size, 4u << 20);
  EXPECT_GT(bw.median, 1e8);  // any machine streams more than 100 MB/s
  EXPECT_GE(bw.best, bw.median);
  EXPECT_THROW(measure_read_bandwidth(1 << 20, 0, 1), Error);
  const Roofline r = measure_roofline(4 << 20, 1, 2, 0.002);
  EXPECT_GT(r.bandwidth.median, 1e8);
  EXPECT_TRUE(r.int8.available);
  EXPECT_TRUE(r.fp32.available);
  EXPECT_GT(r.int8.median, 1e7);
  EXPECT_GT(r.fp32.median, 1e7);
  EXPECT_EQ(r.bf16.available, r.bf16.median > 0);
  EXPECT_THROW(measure_roofline(1 << 20, 1, 0, 0.01), Error);
}

}  // namespace
}  // namespace nomoat
