// GGUF model files (versions 2 and 3): validated parsing of the header,
// metadata and tensor table, with tensor data used in place from a mapping.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "formats/gguf_value.h"
#include "tensor/dtype.h"

namespace nomoat {

class MappedFile;

inline constexpr uint32_t kGgufDefaultAlignment = 32;
inline constexpr int kGgufMaxDims = 4;
inline constexpr size_t kGgufMaxTensorName = 64;
inline constexpr size_t kGgufMaxKeyLength = 65535;
inline constexpr int kGgufMaxArrayDepth = 8;

struct GgufTensorInfo {
  std::string name;
  std::vector<int64_t> dims;  // dims[0] is the innermost (contiguous) dimension
  DType type;
  uint64_t offset = 0;        // from the start of the data section
  uint64_t nbytes = 0;
  int64_t n_elements = 0;
  const uint8_t* data = nullptr;  // points into the file's bytes

  int64_t rows() const { return dims.empty() || dims[0] == 0 ? 0 : n_elements / dims[0]; }
  std::string shape_string() const;  // "[4096, 32000]"
};

class GgufFile {
 public:
  using Metadata = std::vector<std::pair<std::string, GgufValue>>;

  // Maps and validates `path`. Throws Error naming the file and what is wrong.
  static GgufFile open(const std::string& path);
  // Validates bytes owned by the caller (tests, fuzzing); `name` is used in errors.
  static GgufFile parse(std::span<const uint8_t> bytes, std::string name);

  GgufFile(GgufFile&&) noexcept;
  GgufFile& operator=(GgufFile&&) noexcept;
  ~GgufFile();

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }
  uint64_t file_size() const { return bytes_.size(); }
  std::span<const uint8_t> bytes() const { return bytes_; }

  const Metadata& metadata() const { return metadata_; }
  const GgufValue* find(std::string_view key) const;
  // Typed getters: throw Error naming the file and key when absent or mistyped.
  const GgufValue& get(std::string_view key) const;
  std::string get_string(std::string_view key) const;
  uint64_t get_u64(std::string_view key) const;
  // With a default when the key is absent (still an error when mistyped).
  std::string get_string_or(std::string_view key, std::string fallback) const;
  uint64_t get_u64_or(std::string_view key, uint64_t fallback) const;
  double get_f64_or(std::string_view key, double fallback) const;
  bool get_bool_or(std::string_view key, bool fallback) const;

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(std::string_view name) const;

  // general.architecture, or "" when absent.
  std::string architecture() const;

  // Whole pages of [p, p + len) inside a mapped file leave the process's
  // memory (they are read back from the file if touched again); no-op for
  // parsed buffers. Used once weights have been copied into another layout.
  void drop_pages(const uint8_t* p, size_t len) const;

 private:
  GgufFile() = default;
  void parse_all();

  std::string path_;
  std::unique_ptr<MappedFile> mapping_;
  std::span<const uint8_t> bytes_;
  uint32_t version_ = 0;
  uint32_t alignment_ = kGgufDefaultAlignment;
  uint64_t data_offset_ = 0;
  Metadata metadata_;
  std::unordered_map<std::string, size_t> key_index_;
  std::vector<GgufTensorInfo> tensors_;
  std::unordered_map<std::string, size_t> tensor_index_;
};

}  // namespace nomoat
