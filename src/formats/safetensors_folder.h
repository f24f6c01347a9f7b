// The weights of a Hugging Face model folder: one model.safetensors, or the
// shards that model.safetensors.index.json maps each tensor to.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "formats/safetensors.h"

namespace nomoat {

inline constexpr const char* kSafetensorsSingleFile = "model.safetensors";
inline constexpr const char* kSafetensorsIndexFile = "model.safetensors.index.json";

class SafetensorsFolder {
 public:
  struct Entry {
    const SafetensorsFile* file;
    const SafetensorsTensor* tensor;
  };

  // Opens and validates every file. Sharded: the index's weight_map must be
  // a map of tensor name -> shard file name (a plain name inside `dir`),
  // every shard must exist and be valid, and every mapped tensor must be in
  // its shard. Throws Error naming the file and the problem.
  static SafetensorsFolder open(const std::string& dir);

  // The files open() reads (the index first when sharded), without opening
  // the shards; throws Error when the folder has no safetensors weights.
  static std::vector<std::string> weight_files(const std::string& dir);

  const Entry* find(std::string_view name) const;
  // Tensor names: in header order, or in the index's order when sharded.
  const std::vector<std::string>& names() const { return names_; }
  const std::vector<std::unique_ptr<SafetensorsFile>>& files() const { return files_; }

 private:
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::unordered_map<std::string, Entry> entries_;
  std::vector<std::string> names_;
};

}  // namespace nomoat
