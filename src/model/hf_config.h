// A Hugging Face model folder's config.json: typed look-ups whose errors
// name the file and the field. A field set to null counts as absent (HF
// writes null for "not used", e.g. "rope_scaling": null).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "formats/json_file.h"

namespace nomoat {

class HfConfig {
 public:
  // Reads DIR/config.json. Throws Error when it is missing or not JSON.
  static HfConfig load(const std::string& dir);

  const std::string& path() const { return file_.path; }
  // "architectures"[0], e.g. "LlamaForCausalLM".
  std::string architecture() const;

  // A top-level field, or nullptr when absent or null.
  const nlohmann::json* find(std::string_view key) const;
  bool has(std::string_view key) const { return find(key) != nullptr; }
  // True when `key` is present and null ("not used"), unlike absent (the class default).
  bool is_null(std::string_view key) const;

  int64_t get_int(std::string_view key) const;  // required, a non-negative integer
  int64_t get_int_or(std::string_view key, int64_t fallback) const;
  double get_float(std::string_view key) const;  // required, any number
  double get_float_or(std::string_view key, double fallback) const;
  bool get_bool_or(std::string_view key, bool fallback) const;
  std::string get_string_or(std::string_view key, const std::string& fallback) const;

  // Typed reads of a value found elsewhere in the file (`field` names it in errors).
  int64_t as_int(const nlohmann::json& v, std::string_view field) const;
  double as_float(const nlohmann::json& v, std::string_view field) const;
  std::vector<double> as_floats(const nlohmann::json& v, std::string_view field) const;
  std::string as_string(const nlohmann::json& v, std::string_view field) const;
  // The value of `key` inside the object `obj` (nullptr when absent or null).
  static const nlohmann::json* member(const nlohmann::json& obj, std::string_view key);

  // Throws Error "<path>: field '<field>' <problem>".
  [[noreturn]] void bad(std::string_view field, std::string_view problem) const { file_.bad(field, problem); }

 private:
  JsonFile file_;
};

}  // namespace nomoat
