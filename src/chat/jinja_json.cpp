#include "chat/jinja_json.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "chat/py_text.h"

namespace nomoat::jinja {
namespace {

class Dumper {
 public:
  explicit Dumper(const JsonDumpOptions& o) : options_(o) {
    if (o.separators) {
      item_sep_ = o.separators->first;
      key_sep_ = o.separators->second;
    } else {
      item_sep_ = o.indent ? "," : ", ";
      key_sep_ = ": ";
    }
  }

  void value(const Value& v, int level) {
    switch (v.kind()) {
      case Kind::kNone: out_ += "null"; return;
      case Kind::kBool: out_ += v.as_bool() ? "true" : "false"; return;
      case Kind::kInt: out_ += std::to_string(v.as_int()); return;
      case Kind::kFloat: out_ += float_text(v.as_float()); return;
      case Kind::kString: string(v.str()); return;
      case Kind::kList:
        if (v.flavor() == ListFlavor::kList || v.flavor() == ListFlavor::kTuple) return array(v.items(), level);
        break;
      case Kind::kDict: return object(v.dict(), level);
      default: break;
    }
    template_fail("Object of type ", type_name(v), " is not JSON serializable");
  }

  std::string take() { return std::move(out_); }

 private:
  static std::string float_text(double d) {
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
    return py_repr_float(d);
  }

  void newline(int level) {
    if (!options_.indent) return;
    out_.push_back('\n');
    for (int i = 0; i < level; ++i) out_ += *options_.indent;
  }

  void string(const std::string& s) {
    out_.push_back('"');
    char buf[16];
    for (char32_t c : to_code_points(s)) {
      switch (c) {
        case '"': out_ += "\\\""; break;
        case '\\': out_ += "\\\\"; break;
        case '\n': out_ += "\\n"; break;
        case '\r': out_ += "\\r"; break;
        case '\t': out_ += "\\t"; break;
        case '\b': out_ += "\\b"; break;
        case '\f': out_ += "\\f"; break;
        default:
          if (c < 0x20 || (options_.ensure_ascii && c > 0x7F)) {
            if (c > 0xFFFF) {
              const char32_t v = c - 0x10000;
              std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", static_cast<unsigned>(0xD800 + (v >> 10)),
                            static_cast<unsigned>(0xDC00 + (v & 0x3FF)));
            } else {
              std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
            }
            out_ += buf;
          } else {
            std::u32string one(1, c);
            out_ += to_utf8(one);
          }
      }
    }
    out_.push_back('"');
  }

  void array(const std::vector<Value>& items, int level) {
    if (items.empty()) {
      out_ += "[]";
      return;
    }
    out_.push_back('[');
    for (size_t i = 0; i < items.size(); ++i) {
      if (i > 0) out_ += item_sep_;
      newline(level + 1);
      value(items[i], level + 1);
    }
    newline(level);
    out_.push_back(']');
  }

  std::string key_text(const Value& k) {
    switch (k.kind()) {
      case Kind::kString: return k.str();
      case Kind::kNone: return "null";
      case Kind::kBool: return k.as_bool() ? "true" : "false";
      case Kind::kInt: return std::to_string(k.as_int());
      case Kind::kFloat: return float_text(k.as_float());
      default: template_fail("keys must be str, int, float, bool or None, not ", type_name(k));
    }
  }

  void object(const DictData& d, int level) {
    if (d.size() == 0) {
      out_ += "{}";
      return;
    }
    std::vector<const std::pair<Value, Value>*> entries;
    for (const auto& e : d.entries) entries.push_back(&e);
    if (options_.sort_keys) {
      std::stable_sort(entries.begin(), entries.end(),
                       [](const auto* a, const auto* b) { return less_than(a->first, b->first); });
    }
    out_.push_back('{');
    for (size_t i = 0; i < entries.size(); ++i) {
      if (i > 0) out_ += item_sep_;
      newline(level + 1);
      string(key_text(entries[i]->first));
      out_ += key_sep_;
      value(entries[i]->second, level + 1);
    }
    newline(level);
    out_.push_back('}');
  }

  const JsonDumpOptions& options_;
  std::string item_sep_, key_sep_;
  std::string out_;
};

}  // namespace

std::string py_json_dumps(const Value& v, const JsonDumpOptions& options) {
  Dumper d(options);
  d.value(v, 0);
  return d.take();
}

}  // namespace nomoat::jinja
