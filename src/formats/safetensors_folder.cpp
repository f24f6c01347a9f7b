#include "formats/safetensors_folder.h"

#include <algorithm>
#include <filesystem>

#include "base/error.h"
#include "formats/json_file.h"

namespace nomoat {
namespace {

namespace fs = std::filesystem;

// tensor -> shard, in the index's order, validated as names only.
struct WeightMap {
  std::vector<std::pair<std::string, std::string>> entries;
  std::vector<std::string> shards;  // distinct, in order of first mention
};

WeightMap read_weight_map(const fs::path& index) {
  const JsonFile f = JsonFile::read(index.string(), "weight_map");
  const auto map = f.root.find("weight_map");
  if (map == f.root.end()) f.bad("weight_map", "is missing");
  if (!map->is_object()) f.bad("weight_map", "is " + json_kind(*map) + ", not a map of tensor name -> shard file");
  if (map->empty()) f.bad("weight_map", "is empty");
  WeightMap m;
  for (const std::string& tensor : f.ordered_keys) {
    const auto found = map->find(tensor);
    if (found == map->end()) continue;  // listed only in an earlier, repeated weight_map
    const nlohmann::json& shard = *found;
    const std::string field = "weight_map." + tensor.substr(0, 200);
    if (!shard.is_string()) f.bad(field, "is " + json_kind(shard) + ", not a shard file name");
    const std::string name = shard.get<std::string>();
    // Shards live beside the index: a path elsewhere is refused.
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
        name.find('\\') != std::string::npos) {
      f.bad(field, "is '" + name.substr(0, 200) + "', not a file name inside the model folder");
    }
    if (std::find(m.shards.begin(), m.shards.end(), name) == m.shards.end()) m.shards.push_back(name);
    m.entries.emplace_back(tensor, name);
  }
  return m;
}

[[noreturn]] void no_weights(const fs::path& dir) {
  if (fs::exists(dir / "pytorch_model.bin") || fs::exists(dir / "pytorch_model.bin.index.json")) {
    fail(dir.string(), ": has PyTorch pickle weights (pytorch_model.bin) but no ", kSafetensorsSingleFile,
         "; only safetensors weights are read");
  }
  fail(dir.string(), ": no ", kSafetensorsSingleFile, " or ", kSafetensorsIndexFile, " (not a Hugging Face model folder?)");
}

}  // namespace

std::vector<std::string> SafetensorsFolder::weight_files(const std::string& dir_name) {
  const fs::path dir(dir_name);
  if (fs::exists(dir / kSafetensorsIndexFile)) {
    std::vector<std::string> files = {(dir / kSafetensorsIndexFile).string()};
    for (const std::string& shard : read_weight_map(dir / kSafetensorsIndexFile).shards) files.push_back((dir / shard).string());
    return files;
  }
  if (fs::exists(dir / kSafetensorsSingleFile)) return {(dir / kSafetensorsSingleFile).string()};
  no_weights(dir);
}

SafetensorsFolder SafetensorsFolder::open(const std::string& dir_name) {
  const fs::path dir(dir_name);
  SafetensorsFolder folder;
  const fs::path index = dir / kSafetensorsIndexFile;
  if (!fs::exists(index)) {
    if (!fs::exists(dir / kSafetensorsSingleFile)) no_weights(dir);
    folder.files_.push_back(std::make_unique<SafetensorsFile>(SafetensorsFile::open((dir / kSafetensorsSingleFile).string())));
    const SafetensorsFile* f = folder.files_.back().get();
    for (const SafetensorsTensor& t : f->tensors()) {
      folder.entries_.emplace(t.name, Entry{f, &t});
      folder.names_.push_back(t.name);
    }
    return folder;
  }
  const WeightMap map = read_weight_map(index);
  std::unordered_map<std::string, const SafetensorsFile*> shards;
  for (const std::string& shard : map.shards) {
    const fs::path path = dir / shard;
    if (!fs::is_regular_file(path)) {
      const auto holder = std::find_if(map.entries.begin(), map.entries.end(), [&](const auto& e) { return e.second == shard; });
      fail(index.string(), ": shard '", shard, "' (holding tensor '", holder->first, "') does not exist in ", dir.string());
    }
    folder.files_.push_back(std::make_unique<SafetensorsFile>(SafetensorsFile::open(path.string())));
    shards.emplace(shard, folder.files_.back().get());
  }
  for (const auto& [tensor, shard] : map.entries) {
    const SafetensorsFile* f = shards.at(shard);
    const SafetensorsTensor* t = f->find(tensor);
    if (t == nullptr) fail(index.string(), ": tensor '", tensor, "' is mapped to shard '", shard, "', which does not hold it");
    folder.entries_.emplace(tensor, Entry{f, t});
    folder.names_.push_back(tensor);
  }
  return folder;
}

const SafetensorsFolder::Entry* SafetensorsFolder::find(std::string_view name) const {
  const auto it = entries_.find(std::string(name));
  return it == entries_.end() ? nullptr : &it->second;
}

}  // namespace nomoat
