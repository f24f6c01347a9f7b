// Batching must not change results: several sequences in one pass give the
// same logits as each alone, and prompt batch sizes do not matter.
#include <gtest/gtest.h>

#include <cmath>

#include "base/error.h"
#include "model/forward.h"
#include "support/test_data.h"

namespace nomoat {
namespace {

std::string random_model() {
  static const std::string path = [] {
    const auto dir = testing::scratch_dir("batch_model");
    const std::string p = (dir / "m.gguf").string();
    std::string log;
    const int rc = testing::run_command(testing::nomoat_binary() +
                                            " gen-model -q --type q8_0 --n-embd 128 --n-head 8 --n-head-kv 2 --n-ff 256 --n-layer 2 --n-vocab 300 -o " + p,
                                        &log);
    EXPECT_EQ(rc, 0) << log;
    return p;
  }();
  return path;
}

float max_diff(const float* a, const float* b, size_t n) {
  float d = 0;
  for (size_t i = 0; i < n; ++i) d = std::max(d, std::abs(a[i] - b[i]));
  return d;
}

TEST(Batching, SequencesTogetherEqualEachAlone) {
  const auto model = Model::load(random_model());
  const int64_t V = model->spec().n_vocab;
  const std::vector<std::vector<TokenId>> seqs = {{1, 5, 9, 200, 17}, {1, 44}, {1, 7, 7, 7, 7, 7, 7, 8}};
  // Alone: one sequence at a time, token by token.
  std::vector<std::vector<float>> alone(seqs.size());
  for (size_t s = 0; s < seqs.size(); ++s) {
    KvCache cache(model->spec(), 32, 1);
    for (size_t i = 0; i < seqs[s].size(); ++i) {
      const BatchEntry e{0, static_cast<int64_t>(i), seqs[s][i], true};
      const auto l = forward(*model, cache, std::span<const BatchEntry>(&e, 1));
      alone[s].insert(alone[s].end(), l.begin(), l.end());
    }
  }
  // Together: step k advances every sequence that still has tokens, each at
  // its own position, in one batch (sequence order shuffled per step).
  KvCache cache(model->spec(), 32, 3);
  std::vector<std::vector<float>> together(seqs.size());
  for (size_t k = 0; k < 8; ++k) {
    std::vector<BatchEntry> batch;
    for (size_t s = 0; s < seqs.size(); ++s) {
      const size_t si = (s + k) % seqs.size();
      if (k < seqs[si].size()) batch.push_back({static_cast<int>(si), static_cast<int64_t>(k), seqs[si][k], true});
    }
    const auto l = forward(*model, cache, batch);
    for (size_t b = 0; b < batch.size(); ++b) {
      auto& dst = together[static_cast<size_t>(batch[b].seq)];
      dst.insert(dst.end(), l.begin() + static_cast<long>(b * V), l.begin() + static_cast<long>((b + 1) * V));
    }
  }
  for (size_t s = 0; s < seqs.size(); ++s) {
    ASSERT_EQ(alone[s].size(), together[s].size());
    EXPECT_LE(max_diff(alone[s].data(), together[s].data(), alone[s].size()), 1e-5f) << "sequence " << s;
  }
}

TEST(Batching, PromptBatchSizeDoesNotMatter) {
  const auto model = Model::load(random_model());
  const std::vector<TokenId> prompt = {1, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100};
  std::vector<float> reference;
  for (int64_t n_batch : {11, 4, 1}) {
    KvCache cache(model->spec(), 32, 1);
    std::vector<float> logits;
    for (size_t start = 0; start < prompt.size(); start += static_cast<size_t>(n_batch)) {
      std::vector<BatchEntry> batch;
      for (size_t i = start; i < std::min(prompt.size(), start + static_cast<size_t>(n_batch)); ++i) {
        batch.push_back({0, static_cast<int64_t>(i), prompt[i], true});
      }
      const auto l = forward(*model, cache, batch);
      logits.insert(logits.end(), l.begin(), l.end());
    }
    if (reference.empty()) {
      reference = logits;
    } else {
      ASSERT_EQ(logits.size(), reference.size());
      EXPECT_LE(max_diff(logits.data(), reference.data(), logits.size()), 1e-5f) << "batch " << n_batch;
    }
  }
}

TEST(Batching, OnlyRequestedLogitsAreReturned) {
  const auto model = Model::load(random_model());
  KvCache cache(model->spec(), 8, 1);
  const std::vector<BatchEntry> batch = {{0, 0, 1, false}, {0, 1, 2, false}, {0, 2, 3, true}};
  EXPECT_EQ(forward(*model, cache, batch).size(), static_cast<size_t>(model->spec().n_vocab));
}

TEST(Batching, OutOfRangeInputsAreErrors) {
  const auto model = Model::load(random_model());
  KvCache cache(model->spec(), 8, 2);
  const BatchEntry past_ctx{0, 8, 1, true};
  EXPECT_THROW(forward(*model, cache, std::span<const BatchEntry>(&past_ctx, 1)), Error);
  const BatchEntry bad_seq{2, 0, 1, true};
  EXPECT_THROW(forward(*model, cache, std::span<const BatchEntry>(&bad_seq, 1)), Error);
  const BatchEntry bad_token{0, 0, 300, true};
  EXPECT_THROW(forward(*model, cache, std::span<const BatchEntry>(&bad_token, 1)), Error);
}

TEST(ModelLoad, ClearErrorsForUnsupportedOrIncompleteFiles) {
  NOMOAT_REQUIRE_SHARED_DATA();
  try {
    Model::load((testing::shared_data_dir() / "vocab" / "ggml-vocab-gpt-2.gguf").string());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("architecture 'gpt2' is not supported"), std::string::npos) << e.what();
  }
  try {
    Model::load((testing::shared_data_dir() / "vocab" / "ggml-vocab-llama-spm.gguf").string());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing tensor 'token_embd.weight'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace nomoat
