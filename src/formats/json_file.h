// A JSON file read whole, for the small configuration files of model
// folders (config.json, model.safetensors.index.json, ...). Errors name the
// file and the field.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace nomoat {

struct JsonFile {
  std::string path;
  nlohmann::json root;  // objects' members sorted by key (nlohmann::json's order)
  // The member names of the top-level object `ordered_field` given to
  // read(), in the file's order (a repeated name once, where it first appears).
  std::vector<std::string> ordered_keys;

  // Reads and parses `path`; its top level must be an object. Throws Error
  // naming the file (missing, unreadable, invalid JSON at byte N).
  // `ordered_field` (optional): a top-level object whose member order to
  // keep in ordered_keys.
  static JsonFile read(const std::string& path, std::string_view ordered_field = {});

  // Throws Error "<path>: field '<field>' <problem>".
  [[noreturn]] void bad(std::string_view field, std::string_view problem) const;
};

// "a string", "an array", "a non-negative integer", ... for error messages.
std::string json_kind(const nlohmann::json& value);

}  // namespace nomoat
