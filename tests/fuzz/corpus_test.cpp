// The fuzz target's inputs, run in the normal suite: every truncation of a
// valid file, flipped bytes, huge counts and random mutations must give a
// clean nomoat::Error or a valid file, never a crash, hang or huge allocation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "base/error.h"
#include "formats/gguf.h"
#include "formats/gguf_summary.h"
#include "fuzz/seed_gguf.h"

namespace nomoat {
namespace {

// Parses and touches everything the reader returns. True if the file was accepted.
bool parse_and_touch(const std::vector<uint8_t>& bytes) {
  try {
    const GgufFile f = GgufFile::parse(bytes, "mutant.gguf");
    const GgufSummary s = summarize(f);
    uint64_t sink = s.tensor_bytes;
    for (const auto& t : f.tensors()) {
      EXPECT_LE(t.data + t.nbytes, bytes.data() + bytes.size()) << t.name;
      if (t.nbytes > 0) sink += t.data[0] + t.data[t.nbytes - 1];
    }
    return sink != 1;  // keep the loop from being optimized away
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("mutant.gguf: ", 0), 0u) << e.what();
    return false;
  }
}

TEST(GgufCorpus, EveryTruncationIsRejected) {
  const auto seed = testing::seed_gguf_bytes();
  ASSERT_TRUE(parse_and_touch(seed));
  // Only the zero padding after the last tensor may be cut without losing data.
  const GgufFile f = GgufFile::parse(seed, "seed.gguf");
  uint64_t data_end = 0;
  for (const auto& t : f.tensors()) data_end = std::max(data_end, f.data_offset() + t.offset + t.nbytes);
  for (size_t len = 0; len < data_end; ++len) {
    std::vector<uint8_t> cut(seed.begin(), seed.begin() + static_cast<long>(len));
    EXPECT_FALSE(parse_and_touch(cut)) << "accepted a file truncated to " << len << " bytes";
  }
}

TEST(GgufCorpus, FlippedBytesNeverCrash) {
  const auto seed = testing::seed_gguf_bytes();
  int accepted = 0;
  for (size_t i = 0; i < seed.size(); ++i) {
    for (uint8_t mask : {0x01, 0x80, 0xff}) {
      auto m = seed;
      m[i] ^= mask;
      accepted += parse_and_touch(m);
    }
  }
  std::printf("flipped-byte variants accepted: %d of %zu\n", accepted, seed.size() * 3);
}

TEST(GgufCorpus, HugeValuesAtEveryOffsetNeverCrash) {
  const auto seed = testing::seed_gguf_bytes();
  for (size_t i = 0; i + 8 <= seed.size(); ++i) {
    for (uint64_t v : {~0ull, 1ull << 63, 1ull << 32, 0xffffffffull}) {
      auto m = seed;
      std::memcpy(m.data() + i, &v, 8);
      parse_and_touch(m);
    }
  }
}

TEST(GgufCorpus, RandomMutationsNeverCrash) {
  const auto seed = testing::seed_gguf_bytes();
  std::mt19937_64 rng(1234);
  for (int iter = 0; iter < 20000; ++iter) {
    auto m = seed;
    const int edits = 1 + static_cast<int>(rng() % 8);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % m.size();
      switch (rng() % 4) {
        case 0: m[at] = static_cast<uint8_t>(rng()); break;
        case 1: m.erase(m.begin() + static_cast<long>(at)); break;
        case 2: m.insert(m.begin() + static_cast<long>(at), static_cast<uint8_t>(rng())); break;
        default: m.resize(at); break;
      }
      if (m.empty()) break;
    }
    parse_and_touch(m);
  }
}

}  // namespace
}  // namespace nomoat
