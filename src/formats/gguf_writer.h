// Writes GGUF version 3 files: metadata in insertion order, tensor data
// aligned and zero-padded, through a temporary file renamed into place.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "formats/gguf_value.h"
#include "tensor/dtype.h"

namespace nomoat {

// Refuses, before any work is done, an output GGUF path that cannot be
// written: a directory, or one whose folder is missing or not writable.
// Throws Error naming the path and the problem.
void check_gguf_output_path(const std::string& path);

class GgufWriter {
 public:
  // Fills `dst` (exactly `nbytes`) with the tensor's encoded data.
  using DataSource = std::function<void(uint8_t* dst, size_t nbytes)>;
  // Called after each tensor is written: (tensors done, total, bytes done, total bytes).
  using Progress = std::function<void(size_t, size_t, uint64_t, uint64_t)>;

  explicit GgufWriter(uint32_t alignment = kGgufDefaultAlignment);

  // Adds or replaces a key (a replaced key keeps its original position).
  void set(const std::string& key, GgufValue value);
  void remove(const std::string& key);
  const GgufValue* find(const std::string& key) const;

  // Adds a tensor; dims[0] is the innermost dimension.
  void add_tensor(const std::string& name, DType type, std::vector<int64_t> dims, DataSource source);
  // Adds a tensor whose encoded bytes already exist (kept by reference until write()).
  void add_tensor_bytes(const std::string& name, DType type, std::vector<int64_t> dims,
                        const void* data);

  // Copies every key and tensor of `file` (data referenced in place).
  void copy_from(const GgufFile& file);

  // Writes to `path` via `path.partial`; an interrupted write leaves no half
  // file at `path`, and a failed one, or one stopped by SIGINT, SIGTERM or
  // SIGHUP (base/partial_file.h), removes `path.partial`.
  void write(const std::string& path, const Progress& progress = nullptr) const;
  // The whole file in memory (tests and small files).
  std::vector<uint8_t> to_bytes() const;

  uint64_t data_size() const;  // bytes of the data section, padding included

 private:
  struct Tensor {
    std::string name;
    DType type;
    std::vector<int64_t> dims;
    uint64_t nbytes;
    uint64_t offset;
    DataSource source;
  };
  std::vector<uint8_t> header_bytes() const;
  uint64_t aligned(uint64_t n) const { return (n + alignment_ - 1) / alignment_ * alignment_; }

  uint32_t alignment_;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::vector<Tensor> tensors_;
  uint64_t next_offset_ = 0;
};

}  // namespace nomoat
