// GGUF reader and writer: round trips, real files from other tools, and one
// clear error for each way a file can be wrong.
#include "formats/gguf.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "base/error.h"
#include "formats/gguf_summary.h"
#include "formats/gguf_writer.h"
#include "fuzz/seed_gguf.h"
#include "support/test_data.h"

namespace nomoat {
namespace {

namespace fs = std::filesystem;

std::vector<uint8_t> read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Expects parse to fail with a message containing every fragment.
void expect_error(const std::vector<uint8_t>& bytes, std::initializer_list<std::string> fragments) {
  try {
    GgufFile::parse(bytes, "bad.gguf");
    FAIL() << "expected an error mentioning " << *fragments.begin();
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind("bad.gguf: ", 0), 0u) << msg;
    for (const auto& f : fragments) EXPECT_NE(msg.find(f), std::string::npos) << "'" << f << "' not in: " << msg;
  }
}

template <typename T>
void poke(std::vector<uint8_t>& bytes, size_t offset, T value) {
  std::memcpy(bytes.data() + offset, &value, sizeof value);
}

// Offset of the first occurrence of `needle` in `bytes`.
size_t find_bytes(const std::vector<uint8_t>& bytes, const std::string& needle) {
  auto it = std::search(bytes.begin(), bytes.end(), needle.begin(), needle.end());
  EXPECT_NE(it, bytes.end()) << needle;
  return static_cast<size_t>(it - bytes.begin());
}

TEST(Gguf, SeedFileRoundTripsEveryValueType) {
  const auto bytes = testing::seed_gguf_bytes();
  const GgufFile f = GgufFile::parse(bytes, "seed.gguf");
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), 64u);
  EXPECT_EQ(f.data_offset() % 64, 0u);
  EXPECT_EQ(f.get("u8").as_u64(), 200u);
  EXPECT_EQ(f.get("i8").as_i64(), -100);
  EXPECT_EQ(f.get("u16").as_u64(), 60000u);
  EXPECT_EQ(f.get("i16").as_i64(), -30000);
  EXPECT_EQ(f.get("u32").as_u64(), 4000000000u);
  EXPECT_EQ(f.get("i32").as_i64(), -2000000000);
  EXPECT_EQ(f.get("u64").as_u64(), 1ull << 60);
  EXPECT_EQ(f.get("i64").as_i64(), -(1ll << 60));
  EXPECT_EQ(f.get("f32").as_f64(), 1.5);
  EXPECT_EQ(f.get("f64").as_f64(), -2.25);
  EXPECT_TRUE(f.get("bool").as_bool());
  EXPECT_EQ(f.get("tokenizer.ggml.tokens").strings()[3], "a");
  const GgufValue& nested = f.get("nested");
  ASSERT_EQ(nested.array_type(), GgufType::ARRAY);
  ASSERT_EQ(nested.array_size(), 2u);
  EXPECT_EQ(nested.item(0).to_i64_vector(), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(nested.item(1).strings(), (std::vector<std::string>{"x", "yz"}));

  ASSERT_EQ(f.tensors().size(), 3u);
  const GgufTensorInfo* a = f.find_tensor("a.weight");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->dims, (std::vector<int64_t>{4, 2}));
  EXPECT_EQ(a->rows(), 2);
  EXPECT_EQ(a->nbytes, 32u);
  float v[8];
  std::memcpy(v, a->data, 32);
  EXPECT_EQ(v[7], 8.0f);
  for (const auto& t : f.tensors()) EXPECT_EQ(t.offset % 64, 0u) << t.name;
  EXPECT_EQ(f.find_tensor("c.weight")->type, DType::Q8_0);
  EXPECT_EQ(f.find_tensor("c.weight")->nbytes, 34u);

  // Reading and writing again gives the same bytes.
  GgufWriter copy(f.alignment());
  copy.copy_from(f);
  EXPECT_EQ(copy.to_bytes(), bytes);
}

TEST(Gguf, WriteToFileIsAtomicAndMatchesMemory) {
  const fs::path dir = testing::scratch_dir("gguf_write");
  GgufWriter w;
  w.set("general.architecture", GgufValue::string("test"));
  std::vector<float> data(64, 0.5f);
  w.add_tensor_bytes("x", DType::F32, {64}, data.data());
  w.write((dir / "out.gguf").string());
  EXPECT_FALSE(fs::exists(dir / "out.gguf.partial"));
  EXPECT_EQ(read_file(dir / "out.gguf"), w.to_bytes());
  const GgufFile f = GgufFile::open((dir / "out.gguf").string());
  EXPECT_EQ(f.find_tensor("x")->nbytes, 256u);

  // A data source that fails leaves neither the target nor a partial file.
  GgufWriter bad;
  bad.add_tensor("y", DType::F32, {8}, [](uint8_t*, size_t) { throw Error("source failed"); });
  EXPECT_THROW(bad.write((dir / "bad.gguf").string()), Error);
  EXPECT_FALSE(fs::exists(dir / "bad.gguf"));
  EXPECT_FALSE(fs::exists(dir / "bad.gguf.partial"));
}

TEST(Gguf, SharedVocabFilesLoadAndRewriteIdentically) {
  NOMOAT_REQUIRE_SHARED_DATA();
  int count = 0;
  for (const auto& entry : fs::directory_iterator(testing::shared_data_dir() / "vocab")) {
    if (entry.path().extension() != ".gguf") continue;
    SCOPED_TRACE(entry.path().filename().string());
    const GgufFile f = GgufFile::open(entry.path().string());
    EXPECT_EQ(f.version(), 3u);
    EXPECT_TRUE(f.tensors().empty());
    EXPECT_FALSE(f.architecture().empty());
    EXPECT_GT(f.get("tokenizer.ggml.tokens").array_size(), 1000u);
    // Our writer reproduces the other tool's file byte for byte.
    GgufWriter w(f.alignment());
    w.copy_from(f);
    const std::vector<uint8_t> original(f.bytes().begin(), f.bytes().end());
    EXPECT_TRUE(w.to_bytes() == original);
    ++count;
  }
  EXPECT_GE(count, 10);
}

TEST(Gguf, StoriesModelFacts) {
  NOMOAT_REQUIRE_SHARED_DATA();
  const GgufFile f = GgufFile::open((testing::shared_data_dir() / "tiny" / "stories260K.gguf").string());
  const GgufSummary s = summarize(f);
  EXPECT_EQ(s.architecture, "llama");
  EXPECT_EQ(s.n_tensors, 48);
  EXPECT_EQ(s.vocab_size, 512u);
  EXPECT_EQ(s.context_length, 128u);
  EXPECT_EQ(s.embedding_length, 64u);
  EXPECT_EQ(s.block_count, 5u);
  EXPECT_EQ(s.head_count, 8u);
  EXPECT_EQ(s.head_count_kv, 4u);
  EXPECT_EQ(s.feed_forward_length, 172u);
  EXPECT_EQ(s.tokenizer_model, "llama");
  EXPECT_FALSE(s.has_chat_template);
  ASSERT_EQ(s.types.size(), 1u);
  EXPECT_EQ(s.types.begin()->first, "F32");
  // 512*64*2 embeddings/output + 5 layers of (64*64*2 + 64*32*2 + 64*172*3 + 2*64) + 64.
  EXPECT_EQ(s.n_params, 512 * 64 * 2 + 5 * (64 * 64 * 2 + 64 * 32 * 2 + 64 * 172 * 3 + 2 * 64) + 64);
  EXPECT_EQ(s.tensor_bytes, static_cast<uint64_t>(s.n_params) * 4);
  GgufWriter w(f.alignment());
  w.copy_from(f);
  const std::vector<uint8_t> original(f.bytes().begin(), f.bytes().end());
  EXPECT_TRUE(w.to_bytes() == original);
}

TEST(GgufErrors, NotGguf) {
  expect_error({}, {"not a GGUF file"});
  expect_error({'G', 'G', 'U'}, {"not a GGUF file"});
  expect_error({'P', 'K', 3, 4, 0, 0, 0, 0}, {"not a GGUF file"});
  auto be = testing::seed_gguf_bytes();
  std::memcpy(be.data(), "FUGG", 4);
  expect_error(be, {"big-endian"});
}

TEST(GgufErrors, Versions) {
  auto b = testing::seed_gguf_bytes();
  poke<uint32_t>(b, 4, 1);
  expect_error(b, {"version 1"});
  poke<uint32_t>(b, 4, 4);
  expect_error(b, {"unsupported GGUF version 4"});
  poke<uint32_t>(b, 4, 2);  // v2 has the same layout
  EXPECT_EQ(GgufFile::parse(b, "v2.gguf").version(), 2u);
}

TEST(GgufErrors, HugeCounts) {
  auto b = testing::seed_gguf_bytes();
  poke<uint64_t>(b, 8, 1ull << 62);
  expect_error(b, {"tensor count"});
  b = testing::seed_gguf_bytes();
  poke<uint64_t>(b, 16, ~0ull);
  expect_error(b, {"metadata count"});
  // The first key's length.
  b = testing::seed_gguf_bytes();
  poke<uint64_t>(b, 24, 1ull << 40);
  expect_error(b, {"key of metadata entry 0", "exceeds"});
  // An array length.
  b = testing::seed_gguf_bytes();
  const size_t tokens = find_bytes(b, "tokenizer.ggml.tokens") + std::strlen("tokenizer.ggml.tokens");
  poke<uint64_t>(b, tokens + 8, 1ull << 50);  // after value type and element type
  expect_error(b, {"tokenizer.ggml.tokens", "array length"});
}

TEST(GgufErrors, BadValues) {
  auto b = testing::seed_gguf_bytes();
  const size_t key = find_bytes(b, "bool") + 4;
  b[key + 4] = 7;  // the bool's byte
  expect_error(b, {"'bool'", "not 0 or 1"});
  b = testing::seed_gguf_bytes();
  poke<uint32_t>(b, key, 42);
  expect_error(b, {"'bool'", "unknown value type 42"});
  // Renaming key "u16" to "u32" makes a duplicate.
  b = testing::seed_gguf_bytes();
  const size_t u16 = find_bytes(b, "u16");
  b[u16 + 1] = '3';
  b[u16 + 2] = '2';
  expect_error(b, {"duplicate key 'u32'"});
}

TEST(GgufErrors, BadAlignment) {
  GgufWriter w;
  w.set("general.alignment", GgufValue::u32(48));
  expect_error(w.to_bytes(), {"general.alignment", "power of two"});
  GgufWriter w2;
  w2.set("general.alignment", GgufValue::string("32"));
  expect_error(w2.to_bytes(), {"general.alignment", "uint32"});
}

// Builds a one-tensor file whose tensor info can then be damaged.
std::vector<uint8_t> one_tensor_file(size_t* info_offset) {
  GgufWriter w;
  w.set("general.architecture", GgufValue::string("t"));
  static const float data[64] = {};
  w.add_tensor_bytes("blk.0.w", DType::F32, {32, 2}, data);
  auto b = w.to_bytes();
  *info_offset = find_bytes(b, "blk.0.w") + 7;  // n_dims follows the name
  return b;
}

TEST(GgufErrors, BadTensorInfos) {
  size_t at;
  auto b = one_tensor_file(&at);
  poke<uint32_t>(b, at, 5);
  expect_error(b, {"tensor 'blk.0.w'", "5 dimensions"});
  b = one_tensor_file(&at);
  poke<uint64_t>(b, at + 4, 1ull << 40);
  poke<uint64_t>(b, at + 12, 1ull << 40);
  expect_error(b, {"tensor 'blk.0.w'", "overflows"});
  b = one_tensor_file(&at);
  poke<uint32_t>(b, at + 20, 42);  // type
  expect_error(b, {"tensor 'blk.0.w'", "unknown type 42"});
  b = one_tensor_file(&at);
  poke<uint32_t>(b, at + 20, static_cast<uint32_t>(DType::Q4_0));  // 32 elements fit one Q4_0 row
  poke<uint64_t>(b, at + 4, 33);
  expect_error(b, {"tensor 'blk.0.w'", "not a multiple of the Q4_0 block size 32"});
  b = one_tensor_file(&at);
  poke<uint64_t>(b, at + 24, 8);  // offset
  expect_error(b, {"tensor 'blk.0.w'", "alignment"});
  b = one_tensor_file(&at);
  poke<uint64_t>(b, at + 24, 1ull << 40);
  expect_error(b, {"tensor 'blk.0.w'", "past the end"});
  b = one_tensor_file(&at);
  b.resize(b.size() - 1);
  expect_error(b, {"tensor 'blk.0.w'", "truncated"});
}

TEST(GgufErrors, OverlappingTensors) {
  GgufWriter w;
  static const float data[16] = {};
  w.add_tensor_bytes("alpha", DType::F32, {16}, data);
  w.add_tensor_bytes("beta", DType::F32, {16}, data);
  auto bytes = w.to_bytes();
  const size_t beta = find_bytes(bytes, "beta") + 4;
  poke<uint64_t>(bytes, beta + 4 + 8 + 4, 32);  // beta starts inside alpha (64 bytes)
  expect_error(bytes, {"'alpha' and 'beta' overlap"});
}

TEST(GgufErrors, OpenMissingFile) {
  try {
    GgufFile::open("/nonexistent/model.gguf");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/model.gguf: cannot open"), std::string::npos);
  }
}

TEST(GgufValue, CheckedAccessors) {
  EXPECT_THROW(GgufValue::string("x").as_u64("k"), Error);
  EXPECT_THROW(GgufValue::i32(-1).as_u64("k"), Error);
  EXPECT_EQ(GgufValue::u8(5).as_f64(), 5.0);
  EXPECT_THROW(GgufValue::f32(1).as_bool("k"), Error);
  const GgufValue arr = GgufValue::array(GgufType::U16, {GgufValue::u16(1), GgufValue::u16(65535)});
  EXPECT_EQ(arr.array_size(), 2u);
  EXPECT_EQ(arr.item(1).as_u64(), 65535u);
  EXPECT_EQ(arr.to_f64_vector(), (std::vector<double>{1, 65535}));
}

}  // namespace
}  // namespace nomoat
