// The safetensors fuzz target's inputs, run in the normal suite: every
// truncation of a valid file, flipped bytes, huge header lengths and random
// mutations must give a clean nomoat::Error or a valid file, never a crash,
// hang or huge allocation.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "base/error.h"
#include "formats/safetensors.h"
#include "fuzz/seed_safetensors.h"

namespace nomoat {
namespace {

// Parses and touches everything the reader returns. True if the file was accepted.
bool parse_and_touch(const std::vector<uint8_t>& bytes) {
  try {
    const SafetensorsFile f = SafetensorsFile::parse(bytes, "mutant.safetensors");
    uint64_t sink = 0;
    for (const auto& t : f.tensors()) {
      EXPECT_LE(t.data + t.nbytes(), bytes.data() + bytes.size()) << t.name;
      EXPECT_EQ(static_cast<uint64_t>(t.n_elements) * st_dtype_size(t.dtype), t.nbytes()) << t.name;
      if (t.nbytes() > 0) sink += t.data[0] + t.data[t.nbytes() - 1];
      if (st_dtype_is_float(t.dtype) && t.n_elements > 0) {
        float v;
        f.read_floats(t, t.n_elements - 1, 1, &v);
        sink += v == v;
      }
    }
    return sink != 1;  // keep the loop from being optimized away
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("mutant.safetensors: ", 0), 0u) << e.what();
    return false;
  }
}

TEST(SafetensorsCorpus, EveryTruncationIsRejected) {
  const auto seed = testing::seed_safetensors_bytes();
  ASSERT_TRUE(parse_and_touch(seed));
  // The seed's tensors cover its whole data area: no cut keeps every tensor.
  for (size_t len = 0; len < seed.size(); ++len) {
    std::vector<uint8_t> cut(seed.begin(), seed.begin() + static_cast<long>(len));
    EXPECT_FALSE(parse_and_touch(cut)) << "accepted a file truncated to " << len << " bytes";
  }
}

TEST(SafetensorsCorpus, FlippedBytesNeverCrash) {
  const auto seed = testing::seed_safetensors_bytes();
  int accepted = 0;
  for (size_t i = 0; i < seed.size(); ++i) {
    for (uint8_t mask : {0x01, 0x08, 0x80, 0xff}) {
      auto m = seed;
      m[i] ^= mask;
      accepted += parse_and_touch(m);
    }
  }
  std::printf("flipped-byte variants accepted: %d of %zu\n", accepted, seed.size() * 4);
}

TEST(SafetensorsCorpus, HugeValuesAtEveryOffsetNeverCrash) {
  const auto seed = testing::seed_safetensors_bytes();
  for (size_t i = 0; i + 8 <= seed.size(); ++i) {
    for (uint64_t v : {~0ull, 1ull << 63, 1ull << 32, 0xffffffffull, 0x3939393939393939ull}) {
      auto m = seed;
      std::memcpy(m.data() + i, &v, 8);
      parse_and_touch(m);
    }
  }
}

TEST(SafetensorsCorpus, RandomMutationsNeverCrash) {
  const auto seed = testing::seed_safetensors_bytes();
  // Bytes that keep a mutant looking like JSON, so mutations get past the parser.
  const std::string json_bytes = "{}[]:,\"0123456789-.eE \\";
  std::mt19937_64 rng(4321);
  for (int iter = 0; iter < 20000; ++iter) {
    auto m = seed;
    const int edits = 1 + static_cast<int>(rng() % 8);
    for (int e = 0; e < edits && !m.empty(); ++e) {
      const size_t at = rng() % m.size();
      const uint8_t byte = rng() % 2 ? static_cast<uint8_t>(json_bytes[rng() % json_bytes.size()]) : static_cast<uint8_t>(rng());
      switch (rng() % 4) {
        case 0: m[at] = byte; break;
        case 1: m.erase(m.begin() + static_cast<long>(at)); break;
        case 2: m.insert(m.begin() + static_cast<long>(at), byte); break;
        default: m.resize(at); break;
      }
    }
    // Keep the header length consistent half the time, so the JSON itself is fuzzed.
    if (iter % 2 == 0 && m.size() >= 8) {
      const uint64_t n = std::min<uint64_t>(m.size() - 8, seed.size() - 8 - 52);
      for (int i = 0; i < 8; ++i) m[static_cast<size_t>(i)] = static_cast<uint8_t>(n >> (8 * i));
    }
    parse_and_touch(m);
  }
}

}  // namespace
}  // namespace nomoat
