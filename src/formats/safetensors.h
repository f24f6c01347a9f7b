// safetensors files (Hugging Face's weight format): validated parsing of the
// 8-byte header length, the JSON header and its tensor table, with tensor
// data used in place from a read-only mapping.
//
// Layout: u64 little-endian N, N bytes of JSON (an object: tensor name ->
// {"dtype", "shape", "data_offsets": [begin, end]}, plus an optional
// "__metadata__" map of strings), then the data area; offsets count from
// the data area's first byte. Shapes are outermost first (row-major).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace nomoat {

class MappedFile;

// Headers beyond this are refused before anything is parsed (the format's
// reference implementation has the same 100 MB bound).
inline constexpr uint64_t kSafetensorsMaxHeader = 100ull << 20;
// JSON nesting deeper than this is refused (a valid header nests 3 levels).
inline constexpr int kSafetensorsMaxJsonDepth = 16;

enum class StDType { F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL, F8_E4M3, F8_E5M2 };

// "BF16", as the header spells it.
const char* st_dtype_name(StDType t);
// Bytes per element.
size_t st_dtype_size(StDType t);
// The dtype a header names; false when unknown.
bool st_dtype_from_name(std::string_view name, StDType* out);
// F32, F16 and BF16: the types conversion reads.
bool st_dtype_is_float(StDType t);

struct SafetensorsTensor {
  std::string name;
  StDType dtype = StDType::F32;
  std::vector<int64_t> shape;  // outermost first
  uint64_t begin = 0, end = 0;  // data_offsets, relative to the data area
  int64_t n_elements = 1;
  const uint8_t* data = nullptr;  // into the file's bytes

  uint64_t nbytes() const { return end - begin; }
  std::string shape_string() const;  // "[4096, 11008]"
};

class SafetensorsFile {
 public:
  // Maps and validates `path`. Throws Error naming the file and what is wrong.
  static SafetensorsFile open(const std::string& path);
  // Validates bytes owned by the caller (tests, fuzzing); `name` is used in errors.
  static SafetensorsFile parse(std::span<const uint8_t> bytes, std::string name);

  SafetensorsFile(SafetensorsFile&&) noexcept;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept;
  ~SafetensorsFile();

  const std::string& path() const { return path_; }
  uint64_t header_size() const { return header_size_; }
  uint64_t data_offset() const { return 8 + header_size_; }
  uint64_t file_size() const { return bytes_.size(); }

  // In header order.
  const std::vector<SafetensorsTensor>& tensors() const { return tensors_; }
  const SafetensorsTensor* find(std::string_view name) const;
  // "__metadata__", in header order.
  const std::vector<std::pair<std::string, std::string>>& metadata() const { return metadata_; }

  // Elements [first, first + n) of `t` (a tensor of this file) as floats.
  // F32, F16 and BF16 only: other dtypes throw Error naming the file, the
  // tensor and its dtype.
  void read_floats(const SafetensorsTensor& t, int64_t first, int64_t n, float* out) const;

 private:
  SafetensorsFile() = default;
  void parse_all();

  std::string path_;
  std::unique_ptr<MappedFile> mapping_;
  std::span<const uint8_t> bytes_;
  uint64_t header_size_ = 0;
  std::vector<SafetensorsTensor> tensors_;
  std::unordered_map<std::string, size_t> index_;
  std::vector<std::pair<std::string, std::string>> metadata_;
};

}  // namespace nomoat
