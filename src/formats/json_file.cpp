#include "formats/json_file.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/error.h"

namespace nomoat {

JsonFile JsonFile::read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot open (", std::filesystem::exists(path) ? "unreadable" : "no such file", ")");
  std::stringstream text;
  text << in.rdbuf();
  JsonFile f{path, {}};
  try {
    f.root = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::parse_error& e) {
    fail(path, ": invalid JSON at byte ", static_cast<uint64_t>(e.byte), " (", std::string(e.what()).substr(0, 200), ")");
  }
  if (!f.root.is_object()) fail(path, ": the top level is ", json_kind(f.root), ", not a JSON object");
  return f;
}

void JsonFile::bad(std::string_view field, std::string_view problem) const { fail(path, ": field '", field, "' ", problem); }

std::string json_kind(const nlohmann::json& j) {
  if (j.is_number_unsigned()) return "a non-negative integer";
  if (j.is_number_integer()) return "a negative integer";
  if (j.is_number_float()) return "a non-integer number";
  if (j.is_string()) return "a string";
  if (j.is_array()) return "an array";
  if (j.is_object()) return "an object";
  if (j.is_boolean()) return "a boolean";
  return "null";
}

}  // namespace nomoat
