#include "model/hf_config.h"

#include <filesystem>

#include "base/error.h"

namespace nomoat {

using Json = nlohmann::json;

HfConfig HfConfig::load(const std::string& dir) {
  const std::string path = (std::filesystem::path(dir) / "config.json").string();
  if (!std::filesystem::exists(path)) fail(dir, ": no config.json (not a Hugging Face model folder?)");
  HfConfig c;
  c.file_ = JsonFile::read(path);
  return c;
}

std::string HfConfig::architecture() const {
  const Json* a = find("architectures");
  if (a == nullptr) bad("architectures", "is missing (which model class is this?)");
  if (!a->is_array() || a->empty() || !(*a)[0].is_string()) bad("architectures", "must be a non-empty list of class names");
  if (a->size() > 1) bad("architectures", "names " + std::to_string(a->size()) + " classes; one is supported");
  return (*a)[0].get<std::string>();
}

const Json* HfConfig::member(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  const auto it = obj.find(key);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

const Json* HfConfig::find(std::string_view key) const { return member(file_.root, key); }

bool HfConfig::is_null(std::string_view key) const {
  const auto it = file_.root.find(key);
  return it != file_.root.end() && it->is_null();
}

int64_t HfConfig::as_int(const Json& v, std::string_view field) const {
  if (!v.is_number_unsigned() || v.get<uint64_t>() > (1ull << 53)) bad(field, "is " + json_kind(v) + ", not a size");
  return static_cast<int64_t>(v.get<uint64_t>());
}

double HfConfig::as_float(const Json& v, std::string_view field) const {
  if (!v.is_number()) bad(field, "is " + json_kind(v) + ", not a number");
  return v.get<double>();
}

std::vector<double> HfConfig::as_floats(const Json& v, std::string_view field) const {
  if (!v.is_array()) bad(field, "is " + json_kind(v) + ", not a list of numbers");
  std::vector<double> out;
  for (size_t i = 0; i < v.size(); ++i) out.push_back(as_float(v[i], std::string(field) + "[" + std::to_string(i) + "]"));
  return out;
}

std::string HfConfig::as_string(const Json& v, std::string_view field) const {
  if (!v.is_string()) bad(field, "is " + json_kind(v) + ", not a string");
  return v.get<std::string>();
}

int64_t HfConfig::get_int(std::string_view key) const {
  const Json* v = find(key);
  if (v == nullptr) bad(key, "is missing");
  return as_int(*v, key);
}

int64_t HfConfig::get_int_or(std::string_view key, int64_t fallback) const {
  const Json* v = find(key);
  return v == nullptr ? fallback : as_int(*v, key);
}

double HfConfig::get_float(std::string_view key) const {
  const Json* v = find(key);
  if (v == nullptr) bad(key, "is missing");
  return as_float(*v, key);
}

double HfConfig::get_float_or(std::string_view key, double fallback) const {
  const Json* v = find(key);
  return v == nullptr ? fallback : as_float(*v, key);
}

bool HfConfig::get_bool_or(std::string_view key, bool fallback) const {
  const Json* v = find(key);
  if (v == nullptr) return fallback;
  if (!v->is_boolean()) bad(key, "is " + json_kind(*v) + ", not true or false");
  return v->get<bool>();
}

std::string HfConfig::get_string_or(std::string_view key, const std::string& fallback) const {
  const Json* v = find(key);
  return v == nullptr ? fallback : as_string(*v, key);
}

}  // namespace nomoat
