#include "formats/json_file.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_set>

#include "base/error.h"

namespace nomoat {

JsonFile JsonFile::read(const std::string& path, std::string_view ordered_field) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot open (", std::filesystem::exists(path) ? "unreadable" : "no such file", ")");
  std::stringstream text;
  text << in.rdbuf();
  JsonFile f{path, {}, {}};
  // The parser reports keys in the file's order; the parsed object sorts them.
  std::string top_key;
  std::unordered_set<std::string> seen;
  const auto note_key = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    if (ordered_field.empty() || event != nlohmann::json::parse_event_t::key || !parsed.is_string()) return true;
    if (depth == 1) {
      top_key = parsed.get<std::string>();
    } else if (depth == 2 && top_key == ordered_field && seen.insert(parsed.get<std::string>()).second) {
      f.ordered_keys.push_back(parsed.get<std::string>());
    }
    return true;
  };
  try {
    f.root = nlohmann::json::parse(text.str(), note_key);
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
