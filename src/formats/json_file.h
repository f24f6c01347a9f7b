// A JSON file read whole, for the small configuration files of model
// folders (config.json, model.safetensors.index.json, ...). Errors name the
// file and the field.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace nomoat {

struct JsonFile {
  std::string path;
  nlohmann::json root;

  // Reads and parses `path`; its top level must be an object. Throws Error
  // naming the file (missing, unreadable, invalid JSON at byte N).
  static JsonFile read(const std::string& path);

  // Throws Error "<path>: field '<field>' <problem>".
  [[noreturn]] void bad(std::string_view field, std::string_view problem) const;
};

// "a string", "an array", "a non-negative integer", ... for error messages.
std::string json_kind(const nlohmann::json& value);

}  // namespace nomoat
