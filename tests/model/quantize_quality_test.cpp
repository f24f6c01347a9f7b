// Quantization quality, measured: each preset's model against its F16
// original on a held-out text (perplexity rise, mean KL divergence, top-1
// agreement). Bounds are the measured numbers (docs/quantize.md) with about
// 1.5x margin, monotone in bits per weight, and tight enough that a preset
// writing garbage for one of its tensor types fails: every case also breaks
// each of its types in turn and checks that the bound catches it.
//
// Two models: stories260K (real weights, but rows of 64 and 172 values, so
// the K-quant presets fall back to 32-value types and ffn_down to F16) and a
// gen-model random model whose rows are multiples of 256, which exercises the
// real K-quant mixes; its held-out text is sampled from its own F16 version.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <set>

#include "engine/logit_comparison.h"
#include "formats/gguf_writer.h"
#include "model/forward.h"
#include "model/model.h"
#include "model/quantize.h"
#include "model/random_model.h"
#include "support/test_data.h"
#include "tokenizer/tokenizer.h"

namespace nomoat {
namespace {

namespace fs = std::filesystem;

// Comparisons of these small quantized models gain little from threads (and
// the pool's spinning costs on a busy machine); the 16-sequence sampling
// batches of the F16 model do.
constexpr int kThreads = 1;
constexpr int kSampleThreads = 2;

// A preset's limits on one model: mean KL divergence from F16, relative
// perplexity rise over F16, and the least top-1 agreement.
struct Bound {
  const char* preset;
  double max_kld;
  double max_ppl_rise;
  double min_top1;
};

std::ostream& operator<<(std::ostream& os, const Bound& b) { return os << b.preset; }

// In order of bits per weight on that model (highest first; the
// BoundsAreMonotoneInBitsPerWeight test checks the order and the bounds).
// Random model, measured on 16 chunks sampled with seeds 1234, 99 and 5:
// mean KLD 0.00067-0.00068, 0.0054-0.0056, 0.0167-0.0171, 0.0193-0.0205,
// 0.059-0.063, 0.061-0.064, 0.110-0.112, 0.161-0.175, 0.403-0.422; PPL rise
// -0.1-0.2%, -0.2-0.5%, 1.5%, 1.7-1.9%, 6.2-7.9%, 5.8-8.1%, 9.4-13.1%,
// 14.9-21.2%, 48-57% (one sampled token per position: noisier than the
// KLD); top-1 92.6-94.0%, 83.5-85.5%, 73.3-76.3%, 69.3-74.2%, 48-54%,
// 49-53%, 38-42%, 25-33%, 7-11%.
constexpr Bound kRandomBounds[] = {
    {"q8_0", 0.001, 0.01, 0.88},  {"q6_k", 0.008, 0.03, 0.78},  {"q5_k_m", 0.025, 0.05, 0.66},
    {"q5_k_s", 0.03, 0.05, 0.62}, {"q4_k_m", 0.09, 0.13, 0.40}, {"q4_k_s", 0.095, 0.13, 0.40},
    {"q4_0", 0.16, 0.20, 0.30},   {"q3_k_m", 0.25, 0.32, 0.18}, {"q2_k", 0.60, 0.85, 0.04},
};
// stories260K on ppl.txt, measured (q6_k is Q8_0 there, q2_k is q4_0): KLD
// 0.00075 0.00075 0.0140 0.0150 0.0156 0.0155 0.0614 0.0751 0.0751; PPL
// rise 0.10% 0.10% 0.63% 0.64% 1.13% 1.01% 9.43% 9.43% 9.43%; top-1 98.8%
// 98.8% 92.2% 91.7% 93.1% 93.7% 87.0% 85.1% 85.1%.
constexpr Bound kStoriesBounds[] = {
    {"q8_0", 0.002, 0.005, 0.96},  {"q6_k", 0.002, 0.005, 0.96},  {"q5_k_m", 0.025, 0.015, 0.88},
    {"q5_k_s", 0.025, 0.015, 0.88}, {"q4_k_m", 0.025, 0.025, 0.88}, {"q4_k_s", 0.025, 0.025, 0.88},
    {"q3_k_m", 0.11, 0.15, 0.80},  {"q4_0", 0.11, 0.15, 0.80},    {"q2_k", 0.11, 0.15, 0.80},
};

// Copies `in` to `out`, passing each tensor's bytes through `edit`.
void rewrite(const std::string& in, const std::string& out, const std::function<void(const GgufTensorInfo&, uint8_t*)>& edit) {
  const GgufFile f = GgufFile::open(in);
  GgufWriter w(f.alignment());
  for (const auto& [k, v] : f.metadata()) w.set(k, v);
  for (const GgufTensorInfo& t : f.tensors()) {
    w.add_tensor(t.name, t.type, t.dims, [&t, &edit](uint8_t* dst, size_t n) {
      std::memcpy(dst, t.data, n);
      edit(t, dst);
    });
  }
  w.write(out);
}

// Every matrix of `type` gets its rows rotated by one: wrong values with the
// right statistics, the garbage a broken encoder could write.
void break_type(const std::string& in, const std::string& out, DType type) {
  rewrite(in, out, [type](const GgufTensorInfo& t, uint8_t* d) {
    if (t.type != type || t.dims.size() < 2 || t.rows() < 2) return;
    const size_t row = dtype_row_bytes(t.type, t.dims[0]);
    std::vector<uint8_t> first(d, d + row);
    std::memmove(d, d + row, t.nbytes - row);
    std::memcpy(d + t.nbytes - row, first.data(), row);
  });
}

// A text sampled (temperature 1) from `model`, chunk by chunk, with the
// model's own logits on it as the base of comparisons: each chunk starts
// with BOS and continues from only its own earlier tokens, as the
// comparison sees it. The chunks are the sequences of one batch, and the
// logits that picked each token are the ones a comparison scores it with.
BaseLogits sample_text(const Model& model, TokenId bos, int n_chunks, int64_t n_ctx, uint64_t seed) {
  std::mt19937_64 rng(seed);
  BaseLogits text;
  text.tokens.assign(static_cast<size_t>(n_chunks * n_ctx), bos);
  text.bos = bos;
  text.n_ctx = n_ctx;
  text.n_vocab = model.spec().n_vocab;
  text.chunks.resize(static_cast<size_t>(n_chunks));
  KvCache cache(model.spec(), n_ctx, n_chunks);
  const int64_t n_vocab = text.n_vocab;
  std::vector<double> cumulative(static_cast<size_t>(n_vocab));
  for (int64_t pos = 0; pos + 1 < n_ctx; ++pos) {
    std::vector<BatchEntry> batch;
    for (int c = 0; c < n_chunks; ++c) batch.push_back({c, pos, text.tokens[static_cast<size_t>(c * n_ctx + pos)], true});
    const std::vector<float> logits = forward(model, cache, batch, kSampleThreads);
    for (int c = 0; c < n_chunks; ++c) {
      const float* l = &logits[static_cast<size_t>(c * n_vocab)];
      if (pos >= n_ctx / 2) text.chunks[static_cast<size_t>(c)].insert(text.chunks[static_cast<size_t>(c)].end(), l, l + n_vocab);
      const float max = *std::max_element(l, l + n_vocab);
      double sum = 0.0;
      for (int64_t v = 0; v < n_vocab; ++v) cumulative[static_cast<size_t>(v)] = sum += std::exp(static_cast<double>(l[v] - max));
      const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53 * sum;
      const auto next = std::upper_bound(cumulative.begin(), cumulative.end(), u) - cumulative.begin();
      text.tokens[static_cast<size_t>(c * n_ctx + pos + 1)] = static_cast<TokenId>(std::min<int64_t>(next, n_vocab - 1));
    }
  }
  return text;
}

// The held-out text and its F16 model, shared by one model's cases.
struct Reference {
  fs::path dir;
  std::string source;  // the file every preset is quantized from
  BaseLogits f16;  // the F16 model's logits on the held-out text
  BaseLogits short_f16;  // on its first chunks: enough to see a garbled type
  int64_t n_ctx = 128;
};

LogitComparison compare(const BaseLogits& base, const std::string& path) {
  const auto m = Model::load(path);
  return compare_logits(base, *m, base.n_ctx, kThreads);
}

// Quantizes with the preset, checks its bounds, then breaks each tensor type
// of its mix in turn and checks that the bounds notice.
void check_preset(const Reference& ref, const Bound& b, const char* model) {
  QuantizeOptions q;
  q.type = b.preset;
  const std::string out = (ref.dir / (std::string(b.preset) + ".gguf")).string();
  const QuantizeResult r = quantize_model(ref.source, out, q);
  const LogitComparison c = compare(ref.f16, out);
  const double rise = c.ppl / c.base_ppl - 1.0;
  std::printf("%s %-6s: %.2f bpw, PPL %.4f -> %.4f (%+.2f%%), mean KLD %.5f (max %.4f), top-1 %.1f%% over %lld tokens\n", model, b.preset,
              r.plan.to_bits_per_weight(), c.base_ppl, c.ppl, 100.0 * rise, c.mean_kld, c.max_kld, 100.0 * c.top1_agreement,
              static_cast<long long>(c.n_scored));
  EXPECT_LE(c.mean_kld, b.max_kld);
  EXPECT_LE(rise, b.max_ppl_rise);
  EXPECT_GE(c.top1_agreement, b.min_top1);

  std::set<DType> types;
  for (const QuantizeTensor& t : r.plan.tensors) {
    if (!t.kept) types.insert(t.to);
  }
  EXPECT_FALSE(types.empty());
  for (const DType type : types) {
    const std::string broken = (ref.dir / "broken.gguf").string();
    break_type(out, broken, type);
    const LogitComparison bad = compare(ref.short_f16.chunks.empty() ? ref.f16 : ref.short_f16, broken);
    std::printf("  with every %s matrix garbled: mean KLD %.4f, PPL %+.1f%%, top-1 %.1f%%\n", dtype_traits(type).name, bad.mean_kld,
                100.0 * (bad.ppl / bad.base_ppl - 1.0), 100.0 * bad.top1_agreement);
    EXPECT_GT(bad.mean_kld, b.max_kld) << "garbage in the " << dtype_traits(type).name << " matrices would pass the " << b.preset << " bound";
  }
}

// gen-model's Llama with every matrix's rows a multiple of 256 (the real
// K-quant mixes), 8 layers (more-bits layers 0, 3, 6, 7), GQA 4 (q2_k's Q4_K attn_v).
RandomModelOptions random_model_options() {
  RandomModelOptions o;
  o.n_embd = 256;
  o.n_layer = 8;
  o.n_head = 8;
  o.n_head_kv = 2;
  o.n_ff = 768;
  o.n_vocab = 512;
  o.seed = 7;
  o.type = DType::F16;
  return o;
}

class RandomModelQuality : public ::testing::TestWithParam<Bound> {
 protected:
  static void SetUpTestSuite() {
    ref_ = std::make_unique<Reference>();
    ref_->dir = testing::scratch_dir("quantize_quality_random");
    ref_->source = (ref_->dir / "f16.gguf").string();
    write_random_model(random_model_options(), ref_->source);
    const auto f16 = Model::load(ref_->source);
    const TokenId bos = 1;
    ref_->f16 = sample_text(*f16, bos, 16, ref_->n_ctx, 1234);  // another seed than the weights'
    ref_->short_f16 = ref_->f16;
    ref_->short_f16.chunks.resize(4);
  }
  static void TearDownTestSuite() { ref_.reset(); }
  static inline std::unique_ptr<Reference> ref_;
};

TEST_P(RandomModelQuality, WithinBoundsThatCatchABrokenType) { check_preset(*ref_, GetParam(), "random"); }

INSTANTIATE_TEST_SUITE_P(Presets, RandomModelQuality, ::testing::ValuesIn(kRandomBounds),
                         [](const auto& info) { return std::string(info.param.preset); });

std::string stories_path() { return (testing::shared_data_dir() / "tiny" / "stories260K.gguf").string(); }

class StoriesQuality : public ::testing::TestWithParam<Bound> {
 protected:
  static void SetUpTestSuite() {
    if (testing::shared_data_dir().empty()) return;
    ref_ = std::make_unique<Reference>();
    ref_->dir = testing::scratch_dir("quantize_quality_stories");
    ref_->source = stories_path();  // F32: every preset, F16 included, is quantized from it
    const std::string f16 = (ref_->dir / "f16.gguf").string();
    QuantizeOptions q;
    q.type = "f16";
    quantize_model(ref_->source, f16, q);
    const auto model = Model::load(f16);
    const Tokenizer tok(load_vocab_gguf(model->file()));
    std::ifstream in(testing::shared_data_dir() / "tiny" / "ppl.txt", std::ios::binary);
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    EncodeOptions enc;
    enc.parse_special = false;
    ref_->f16 = base_logits(*model, tok.encode(text, enc), tok.vocab().bos, ref_->n_ctx, ref_->n_ctx, kThreads);
  }
  static void TearDownTestSuite() { ref_.reset(); }
  static inline std::unique_ptr<Reference> ref_;
};

TEST_P(StoriesQuality, WithinBoundsThatCatchABrokenType) {
  NOMOAT_REQUIRE_SHARED_DATA();
  check_preset(*ref_, GetParam(), "stories260K");
}

INSTANTIATE_TEST_SUITE_P(Presets, StoriesQuality, ::testing::ValuesIn(kStoriesBounds),
                         [](const auto& info) { return std::string(info.param.preset); });

// Each table is in order of the presets' bits per weight on its model, and
// a preset with fewer bits never has a tighter bound.
void expect_monotone(const GgufFile& model, std::span<const Bound> bounds) {
  double last_bpw = 1e9;
  for (size_t i = 0; i < bounds.size(); ++i) {
    QuantizeOptions q;
    q.type = bounds[i].preset;
    const double bpw = plan_quantize(model, q).to_bits_per_weight();
    EXPECT_LE(bpw, last_bpw) << bounds[i].preset << " has more bits per weight than the preset before it";
    last_bpw = bpw;
    if (i == 0) continue;
    EXPECT_GE(bounds[i].max_kld, bounds[i - 1].max_kld) << bounds[i].preset;
    EXPECT_GE(bounds[i].max_ppl_rise, bounds[i - 1].max_ppl_rise) << bounds[i].preset;
    EXPECT_LE(bounds[i].min_top1, bounds[i - 1].min_top1) << bounds[i].preset;
  }
}

TEST(QuantizeQualityBounds, MonotoneInBitsPerWeight) {
  const fs::path dir = testing::scratch_dir("quantize_quality_bounds");
  const std::string path = (dir / "f16.gguf").string();
  write_random_model(random_model_options(), path);
  expect_monotone(GgufFile::open(path), kRandomBounds);
  if (!testing::shared_data_dir().empty()) expect_monotone(GgufFile::open(stories_path()), kStoriesBounds);
}

}  // namespace
}  // namespace nomoat
