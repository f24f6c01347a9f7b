// The safetensors reader: what a valid file gives back, and that each kind
// of damage is refused with one line naming the file and the problem.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "base/error.h"
#include "formats/safetensors.h"
#include "formats/safetensors_folder.h"
#include "fuzz/seed_safetensors.h"
#include "support/test_data.h"

namespace nomoat {
namespace {

namespace fs = std::filesystem;
using testing::safetensors_bytes;

std::string parse_error(const std::vector<uint8_t>& bytes) {
  try {
    SafetensorsFile::parse(bytes, "bad.safetensors");
  } catch (const Error& e) {
    return e.what();
  }
  return "(accepted)";
}

// One tensor entry over a data area of `data_size` zero bytes.
std::vector<uint8_t> one_tensor(const std::string& entry, size_t data_size) {
  return safetensors_bytes(R"({"w":)" + entry + "}", std::vector<uint8_t>(data_size));
}

void write_bytes(const fs::path& p, const std::vector<uint8_t>& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

TEST(Safetensors, SeedGivesItsTensorsMetadataAndValues) {
  const auto bytes = testing::seed_safetensors_bytes();
  const SafetensorsFile f = SafetensorsFile::parse(bytes, "seed.safetensors");
  ASSERT_EQ(f.tensors().size(), 6u);
  ASSERT_EQ(f.metadata().size(), 2u);
  EXPECT_EQ(f.metadata()[0].first, "format");
  EXPECT_EQ(f.metadata()[0].second, "pt");
  const SafetensorsTensor* a = f.find("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->dtype, StDType::F32);
  EXPECT_EQ(a->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a->shape_string(), "[2, 3]");
  EXPECT_EQ(a->data, bytes.data() + f.data_offset() + 24);
  float out[6];
  f.read_floats(*a, 1, 5, out);
  EXPECT_EQ(out[0], -2.0f);
  EXPECT_EQ(out[4], -0.125f);
  f.read_floats(*f.find("b"), 0, 4, out);
  EXPECT_EQ((std::vector<float>(out, out + 4)), (std::vector<float>{1, 2, -1, 0}));
  f.read_floats(*f.find("c"), 0, 4, out);
  EXPECT_EQ((std::vector<float>(out, out + 4)), (std::vector<float>{1, 3, -0.5f, 10}));
  const SafetensorsTensor* s = f.find("s");
  EXPECT_TRUE(s->shape.empty());
  EXPECT_EQ(s->n_elements, 1);
  EXPECT_EQ(f.find("e")->n_elements, 0);
  EXPECT_EQ(f.find("missing"), nullptr);
  // Integer tensors are recognized but not converted.
  try {
    f.read_floats(*f.find("d"), 0, 8, out);
    FAIL() << "read I8 as floats";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("seed.safetensors: tensor 'd' has dtype I8"), std::string::npos) << e.what();
  }
}

// tensors() and metadata() keep the header's order, not the JSON parser's sorted one.
TEST(Safetensors, TensorsAndMetadataKeepTheHeaderOrder) {
  const SafetensorsFile seed = SafetensorsFile::parse(testing::seed_safetensors_bytes(), "seed.safetensors");
  std::vector<std::string> names;
  for (const SafetensorsTensor& t : seed.tensors()) names.push_back(t.name);
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "c", "d", "s", "e"}));
  const auto bytes = safetensors_bytes(R"({"z":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},"__metadata__":{"x":"1","b":"2"},)"
                                       R"("y":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})",
                                       std::vector<uint8_t>(2));
  const SafetensorsFile f = SafetensorsFile::parse(bytes, "order.safetensors");
  ASSERT_EQ(f.tensors().size(), 2u);
  EXPECT_EQ(f.tensors()[0].name, "z");
  EXPECT_EQ(f.tensors()[1].name, "y");
  EXPECT_EQ(f.find("y")->begin, 0u);
  EXPECT_EQ(f.metadata(), (std::vector<std::pair<std::string, std::string>>{{"x", "1"}, {"b", "2"}}));
}

TEST(Safetensors, EveryDtypeNameIsKnown) {
  for (const char* name : {"F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U64", "U32", "U16", "U8", "BOOL", "F8_E4M3", "F8_E5M2"}) {
    StDType t;
    ASSERT_TRUE(st_dtype_from_name(name, &t)) << name;
    EXPECT_STREQ(st_dtype_name(t), name);
  }
  StDType t;
  EXPECT_FALSE(st_dtype_from_name("f32", &t));  // the header's spelling is upper case
  EXPECT_EQ(st_dtype_size(StDType::F8_E4M3), 1u);
  EXPECT_EQ(st_dtype_size(StDType::F64), 8u);
}

TEST(Safetensors, DamageIsRefusedWithTheFileAndProblem) {
  struct Case {
    const char* what;
    std::vector<uint8_t> bytes;
    const char* message;
  };
  const auto seed = testing::seed_safetensors_bytes();
  std::vector<uint8_t> past_eof = seed;
  past_eof[0] = 0xff;
  past_eof[1] = 0x7f;  // 32767 header bytes in a file of ~400
  std::vector<uint8_t> huge = seed;
  huge[6] = 1;  // 2^48 + ...
  std::vector<uint8_t> cut(seed.begin(), seed.end() - 10);
  const Case cases[] = {
      {"too short", {1, 0, 0}, "truncated: 3 bytes, too short for the 8-byte header length"},
      {"header length past the end", past_eof, "header length 32767 extends past the end of the file"},
      {"header length beyond the limit", huge, "exceeds the limit of 104857600 bytes"},
      {"truncated data", cut, "extend past the end of the data area"},
      {"bad JSON", safetensors_bytes(R"({"w": {"dtype": "F32",)", {}), "the JSON header is invalid"},
      {"not an object", safetensors_bytes("[1, 2]", {}), "the JSON header is an array, not an object"},
      {"overlap", safetensors_bytes(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                    R"("y":{"dtype":"F16","shape":[2],"data_offsets":[4,8]}})",
                                    std::vector<uint8_t>(8)),
       "tensors 'x' [0, 8) and 'y' [4, 8) overlap in the data area"},
      {"shape/size mismatch", one_tensor(R"({"dtype":"F32","shape":[2,3],"data_offsets":[0,20]})", 24),
       "tensor 'w': shape [2, 3] of F32 needs 24 bytes but data_offsets [0, 20] hold 20"},
      {"unknown dtype", one_tensor(R"({"dtype":"F7","shape":[1],"data_offsets":[0,1]})", 1), "tensor 'w': unknown dtype 'F7'"},
      {"offsets outside the file", one_tensor(R"({"dtype":"F32","shape":[4],"data_offsets":[16,32]})", 20),
       "tensor 'w': data_offsets [16, 32] extend past the end of the data area (20 bytes"},
      {"begin after end", one_tensor(R"({"dtype":"F32","shape":[0],"data_offsets":[8,4]})", 8), "begin after they end"},
      {"negative dim", one_tensor(R"({"dtype":"F32","shape":[-1],"data_offsets":[0,4]})", 4),
       "field 'shape' holds a negative integer"},
      {"fractional dim", one_tensor(R"({"dtype":"F32","shape":[1.5],"data_offsets":[0,4]})", 4),
       "field 'shape' holds a non-integer number"},
      {"overflowing shape", one_tensor(R"({"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]})", 4),
       "element count of its shape overflows"},
      {"bytes overflow", one_tensor(R"({"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,8]})", 8),
       "tensor 'w': shape [4611686018427387904] x 8-byte F64 overflows a 64-bit byte count"},
      {"missing dtype", one_tensor(R"({"shape":[1],"data_offsets":[0,4]})", 4), "field 'dtype' is missing"},
      {"missing shape", one_tensor(R"({"dtype":"F32","data_offsets":[0,4]})", 4), "field 'shape' is missing"},
      {"bad offsets", one_tensor(R"({"dtype":"F32","shape":[1],"data_offsets":[0]})", 4), "field 'data_offsets' must be [begin, end]"},
      {"entry not an object", one_tensor("3", 0), "tensor 'w' is a non-negative integer, not an object"},
      {"duplicate name", safetensors_bytes(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                                           R"("w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
                                           std::vector<uint8_t>(2)),
       "tensor 'w' is listed twice"},
      {"metadata value", safetensors_bytes(R"({"__metadata__":{"format":1}})", {}), "'__metadata__' key 'format' is a non-negative integer, not a string"},
      {"metadata kind", safetensors_bytes(R"({"__metadata__":[]})", {}), "'__metadata__' is an array"},
      {"deep nesting", safetensors_bytes(std::string(100, '[') + std::string(100, ']'), {}), "nests deeper than 16 levels"},
      {"empty name", safetensors_bytes(R"({"":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", {0}), "a tensor has an empty name"},
  };
  for (const Case& c : cases) {
    const std::string message = parse_error(c.bytes);
    EXPECT_EQ(message.rfind("bad.safetensors: ", 0), 0u) << c.what << ": " << message;
    EXPECT_NE(message.find(c.message), std::string::npos) << c.what << ": " << message;
  }
}

TEST(Safetensors, OpensFromDiskAndNamesMissingFiles) {
  const fs::path dir = testing::scratch_dir("safetensors_open");
  write_bytes(dir / "x.safetensors", testing::seed_safetensors_bytes());
  const SafetensorsFile f = SafetensorsFile::open((dir / "x.safetensors").string());
  EXPECT_EQ(f.tensors().size(), 6u);
  EXPECT_EQ(f.path(), (dir / "x.safetensors").string());
  try {
    SafetensorsFile::open((dir / "nope.safetensors").string());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("nope.safetensors: cannot open"), std::string::npos) << e.what();
  }
}

// A two-shard folder: "p" and "q" in shard 1, "r" in shard 2.
fs::path sharded_folder(const std::string& name, const std::string& weight_map) {
  const fs::path dir = testing::scratch_dir(name);
  write_bytes(dir / "model-00001-of-00002.safetensors",
              safetensors_bytes(R"({"p":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"q":{"dtype":"F16","shape":[2],"data_offsets":[8,12]}})",
                                std::vector<uint8_t>(12)));
  write_bytes(dir / "model-00002-of-00002.safetensors",
              safetensors_bytes(R"({"r":{"dtype":"BF16","shape":[1,3],"data_offsets":[0,6]}})", std::vector<uint8_t>(6)));
  std::ofstream(dir / kSafetensorsIndexFile) << R"({"metadata":{"total_size":18},"weight_map":)" << weight_map << "}";
  return dir;
}

const char* const kGoodMap =
    R"({"p":"model-00001-of-00002.safetensors","q":"model-00001-of-00002.safetensors","r":"model-00002-of-00002.safetensors"})";

std::string open_error(const fs::path& dir) {
  try {
    SafetensorsFolder::open(dir.string());
  } catch (const Error& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(SafetensorsFolder, ShardedFolderMapsEveryTensorToItsShard) {
  const fs::path dir = sharded_folder("st_sharded", kGoodMap);
  const SafetensorsFolder folder = SafetensorsFolder::open(dir.string());
  ASSERT_EQ(folder.files().size(), 2u);
  EXPECT_EQ(folder.names(), (std::vector<std::string>{"p", "q", "r"}));
  const auto* r = folder.find("r");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->tensor->shape, (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(r->file->path(), (dir / "model-00002-of-00002.safetensors").string());
  EXPECT_EQ(folder.find("s"), nullptr);
  const auto files = SafetensorsFolder::weight_files(dir.string());
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0], (dir / kSafetensorsIndexFile).string());
}

// The index's order, not the JSON parser's sorted one: names, and shards in order of first mention.
TEST(SafetensorsFolder, NamesAndShardsKeepTheIndexOrder) {
  const fs::path dir = sharded_folder(
      "st_index_order", R"({"r":"model-00002-of-00002.safetensors","q":"model-00001-of-00002.safetensors","p":"model-00001-of-00002.safetensors"})");
  const SafetensorsFolder folder = SafetensorsFolder::open(dir.string());
  EXPECT_EQ(folder.names(), (std::vector<std::string>{"r", "q", "p"}));
  ASSERT_EQ(folder.files().size(), 2u);
  EXPECT_EQ(folder.files()[0]->path(), (dir / "model-00002-of-00002.safetensors").string());
  EXPECT_EQ(SafetensorsFolder::weight_files(dir.string()),
            (std::vector<std::string>{(dir / kSafetensorsIndexFile).string(), (dir / "model-00002-of-00002.safetensors").string(),
                                      (dir / "model-00001-of-00002.safetensors").string()}));
}

TEST(SafetensorsFolder, SingleFileFolder) {
  const fs::path dir = testing::scratch_dir("st_single");
  write_bytes(dir / "model.safetensors", testing::seed_safetensors_bytes());
  const SafetensorsFolder folder = SafetensorsFolder::open(dir.string());
  EXPECT_EQ(folder.names().size(), 6u);
  EXPECT_EQ(SafetensorsFolder::weight_files(dir.string()), (std::vector<std::string>{(dir / "model.safetensors").string()}));
}

TEST(SafetensorsFolder, BadIndexesAndShardsAreRefused) {
  {
    const std::string e = open_error(sharded_folder(
        "st_missing_shard", R"({"p":"model-00001-of-00002.safetensors","r":"model-00003-of-00003.safetensors"})"));
    EXPECT_NE(e.find("model.safetensors.index.json: shard 'model-00003-of-00003.safetensors' (holding tensor 'r') does not exist"),
              std::string::npos) << e;
  }
  {
    const std::string e = open_error(sharded_folder("st_wrong_shard", R"({"p":"model-00002-of-00002.safetensors"})"));
    EXPECT_NE(e.find("tensor 'p' is mapped to shard 'model-00002-of-00002.safetensors', which does not hold it"), std::string::npos) << e;
  }
  {
    const std::string e = open_error(sharded_folder("st_escape", R"({"p":"../model-00001-of-00002.safetensors"})"));
    EXPECT_NE(e.find("field 'weight_map.p' is '../model-00001-of-00002.safetensors', not a file name inside the model folder"),
              std::string::npos) << e;
  }
  {
    const std::string e = open_error(sharded_folder("st_map_kind", "[1]"));
    EXPECT_NE(e.find("field 'weight_map' is an array, not a map"), std::string::npos) << e;
  }
  {
    const fs::path dir = sharded_folder("st_bad_json", kGoodMap);
    std::ofstream(dir / kSafetensorsIndexFile) << R"({"weight_map": {"p": )";
    const std::string e = open_error(dir);
    EXPECT_NE(e.find("model.safetensors.index.json: invalid JSON at byte"), std::string::npos) << e;
  }
  {
    // A shard that is itself damaged is named.
    const fs::path dir = sharded_folder("st_bad_shard", kGoodMap);
    write_bytes(dir / "model-00002-of-00002.safetensors", {5, 0, 0, 0, 0, 0, 0, 0, '{'});
    const std::string e = open_error(dir);
    EXPECT_NE(e.find("model-00002-of-00002.safetensors: header length 5 extends past the end of the file"), std::string::npos) << e;
  }
  {
    const fs::path dir = testing::scratch_dir("st_none");
    std::ofstream(dir / "pytorch_model.bin") << "x";
    const std::string e = open_error(dir);
    EXPECT_NE(e.find("has PyTorch pickle weights (pytorch_model.bin) but no model.safetensors"), std::string::npos) << e;
    fs::remove(dir / "pytorch_model.bin");
    EXPECT_NE(open_error(dir).find("no model.safetensors or model.safetensors.index.json"), std::string::npos);
  }
}

}  // namespace
}  // namespace nomoat
