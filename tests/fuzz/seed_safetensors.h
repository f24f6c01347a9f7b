// A small safetensors file with every part of the format: metadata, float
// and integer dtypes, a scalar, an empty tensor and tensors out of offset
// order. The fuzzer, the mutation tests and the reader's tests start from it.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace nomoat::testing {

// 8-byte little-endian length + `header` + `data`.
inline std::vector<uint8_t> safetensors_bytes(const std::string& header, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> out(8 + header.size() + data.size());
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<uint8_t>(n >> (8 * i));
  if (!header.empty()) std::memcpy(out.data() + 8, header.data(), header.size());
  if (!data.empty()) std::memcpy(out.data() + 8 + header.size(), data.data(), data.size());
  return out;
}

// Tensors: "a" F32 [2, 3] at [24, 48), "b" F16 [4] at [0, 8), "c" BF16 [2, 2]
// at [8, 16), "d" I8 [8] at [16, 24), "s" F32 scalar [] at [48, 52), "e" F32 [0, 4] empty.
inline std::vector<uint8_t> seed_safetensors_bytes() {
  const std::string header =
      R"({"__metadata__":{"format":"pt","note":"seed"},)"
      R"("a":{"dtype":"F32","shape":[2,3],"data_offsets":[24,48]},)"
      R"("b":{"dtype":"F16","shape":[4],"data_offsets":[0,8]},)"
      R"("c":{"dtype":"BF16","shape":[2,2],"data_offsets":[8,16]},)"
      R"("d":{"dtype":"I8","shape":[8],"data_offsets":[16,24]},)"
      R"("s":{"dtype":"F32","shape":[],"data_offsets":[48,52]},)"
      R"("e":{"dtype":"F32","shape":[0,4],"data_offsets":[52,52]}}    )";  // trailing spaces: the format's padding
  std::vector<uint8_t> data(52);
  const uint16_t b[4] = {0x3c00, 0x4000, 0xbc00, 0x0000};        // 1, 2, -1, 0
  const uint16_t c[4] = {0x3f80, 0x4040, 0xbf00, 0x4120};        // 1, 3, -0.5, 10
  const float a[6] = {1.5f, -2.0f, 3.25f, 0.0f, 100.0f, -0.125f};
  const float s = 7.0f;
  std::memcpy(data.data(), b, 8);
  std::memcpy(data.data() + 8, c, 8);
  for (int i = 0; i < 8; ++i) data[16 + static_cast<size_t>(i)] = static_cast<uint8_t>(i - 4);
  std::memcpy(data.data() + 24, a, 24);
  std::memcpy(data.data() + 48, &s, 4);
  return safetensors_bytes(header, data);
}

}  // namespace nomoat::testing
