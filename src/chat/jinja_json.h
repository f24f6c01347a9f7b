// Python's json.dumps over template values, which Hugging Face's `tojson`
// filter calls (ensure_ascii=False by default, Python's separators and
// float text), so tool schemas print byte for byte as transformers prints them.
#pragma once

#include <optional>
#include <string>

#include "chat/jinja_value.h"

namespace nomoat::jinja {

struct JsonDumpOptions {
  bool ensure_ascii = false;
  std::optional<std::string> indent;  // unset: one line
  std::optional<std::pair<std::string, std::string>> separators;  // unset: Python's defaults
  bool sort_keys = false;
};

// Throws TemplateError for values JSON cannot hold (undefined, namespaces, ...).
std::string py_json_dumps(const Value& v, const JsonDumpOptions& options);

}  // namespace nomoat::jinja
