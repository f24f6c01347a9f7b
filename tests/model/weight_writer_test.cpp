// add_weights: the types a mix picks, raw copies, forced types, and encoded
// rows that decode back to the source values (within the type's error).
#include "model/weight_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "formats/gguf.h"
#include "formats/gguf_writer.h"

namespace nomoat {
namespace {

std::vector<float> random_values(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

WeightSource float_source(std::string name, std::vector<int64_t> dims, const std::vector<float>& values) {
  WeightSource s;
  s.name = std::move(name);
  s.dims = std::move(dims);
  s.type = DType::F32;
  const int64_t cols = s.dims[0];
  s.read_rows = [&values, cols](int64_t r0, int64_t nr, float* out) {
    std::copy_n(values.data() + r0 * cols, nr * cols, out);
  };
  s.raw = values.data();
  return s;
}

std::vector<float> decode(const GgufFile& f, const std::string& name) {
  const GgufTensorInfo* t = f.find_tensor(name);
  EXPECT_NE(t, nullptr) << name;
  if (t == nullptr) return {};
  std::vector<float> out(static_cast<size_t>(t->n_elements));
  dtype_traits(t->type).dequantize(f.bytes().data() + f.data_offset() + t->offset, out.data(), t->n_elements);
  return out;
}

TEST(WeightWriter, MixTypesRawCopiesAndRoundTrip) {
  const int64_t n_embd = 512, n_vocab = 300;
  const auto embd = random_values(static_cast<size_t>(n_embd * n_vocab), 1);
  const auto wq = random_values(static_cast<size_t>(n_embd * n_embd), 2);
  const auto wv = random_values(static_cast<size_t>(n_embd * 128), 3);
  const auto norm = random_values(static_cast<size_t>(n_embd), 4);
  std::vector<WeightSource> sources = {
      float_source("token_embd.weight", {n_embd, n_vocab}, embd),
      float_source("blk.0.attn_norm.weight", {n_embd}, norm),
      float_source("blk.0.attn_q.weight", {n_embd, n_embd}, wq),
      float_source("blk.0.attn_v.weight", {n_embd, 128}, wv),
  };
  sources[1].forced_type = DType::F32;
  const auto mix = find_quant_mix("q4_k_m");
  ASSERT_TRUE(mix.has_value());
  const QuantModelFacts facts{"llama", 1, 4, 1, 0, false};
  GgufWriter w;
  w.set("general.architecture", GgufValue::string("llama"));
  const auto plan = add_weights(w, sources, *mix, facts, 2);
  ASSERT_EQ(plan.size(), 4u);
  const auto bytes = w.to_bytes();
  const GgufFile f = GgufFile::parse(bytes, "weights.gguf");
  for (const WeightPlan& p : plan) {
    const GgufTensorInfo* t = f.find_tensor(p.name);
    ASSERT_NE(t, nullptr) << p.name;
    EXPECT_EQ(t->type, p.to) << p.name;
    EXPECT_EQ(dtype_row_bytes(p.to, p.dims[0]) * static_cast<uint64_t>(t->rows()), p.bytes) << p.name;
    EXPECT_EQ(p.to, quant_mix_type(*mix, p.name, p.dims, facts)) << p.name;
  }
  // The norm is copied bit for bit; the matrices decode to within each type's error.
  EXPECT_EQ(decode(f, "blk.0.attn_norm.weight"), norm);
  const std::vector<std::pair<const char*, const std::vector<float>*>> matrices = {
      {"token_embd.weight", &embd}, {"blk.0.attn_q.weight", &wq}, {"blk.0.attn_v.weight", &wv}};
  for (const auto& [name, values] : matrices) {
    const auto got = decode(f, name);
    ASSERT_EQ(got.size(), values->size());
    double err = 0, ref = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      err += (got[i] - (*values)[i]) * (got[i] - (*values)[i]);
      ref += (*values)[i] * (*values)[i];
    }
    EXPECT_LT(std::sqrt(err / ref), 0.12) << name << " as " << dtype_name(f.find_tensor(name)->type);
    EXPECT_GT(std::sqrt(err / ref), 0.0) << name << " should have been re-encoded";
  }
}

TEST(WeightWriter, EncodeRowsMatchesWholeTensorQuantize) {
  const int64_t rows = 37, cols = 256;
  const auto v = random_values(static_cast<size_t>(rows * cols), 5);
  std::vector<uint8_t> a(dtype_row_bytes(DType::Q4_K, cols) * rows), b(a.size());
  encode_rows(v.data(), rows, cols, DType::Q4_K, a.data(), 2);
  dtype_traits(DType::Q4_K).quantize(v.data(), b.data(), rows * cols);
  EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace nomoat
