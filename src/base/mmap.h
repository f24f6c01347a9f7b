// Read-only memory mapping of a whole file. Weights are used in place, never copied.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace nomoat {

class MappedFile {
 public:
  // Maps `path` read-only. Throws Error naming the file on any failure.
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  const std::string& path() const { return path_; }

  // Hints the kernel that [offset, offset+len) will be read soon (best effort).
  void will_need(size_t offset, size_t len) const;
  // Drops the whole pages inside [offset, offset+len) from this process's
  // memory (best effort). The mapping is read-only and file-backed, so a
  // later read simply faults the bytes back in from the file.
  void drop_pages(size_t offset, size_t len) const;

 private:
  void release();
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace nomoat
