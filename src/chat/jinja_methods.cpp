#include "chat/jinja_methods.h"

#include <algorithm>
#include <string_view>

#include "chat/jinja_args.h"
#include "chat/jinja_ops.h"
#include "chat/py_text.h"

namespace nomoat::jinja {
namespace {

struct Method {
  const char* name;
  NativeFn fn;  // null: exists in Python, not implemented here
};

// ------------------------------------------------------------------ str

std::optional<std::string> optional_chars(const Args& a, size_t i) {
  if (!a.given(i)) return std::nullopt;
  return a.str_at(i);
}

Value str_result(const Value& self, std::string s) { return Value::string(std::move(s), self.markup()); }

// The code-point range [start, end) a str method's optional start/end arguments select.
std::pair<int64_t, int64_t> sub_range(const Args& a, size_t i, int64_t n) {
  auto bound = [&](size_t k, int64_t fallback) {
    if (!a.given(k)) return fallback;
    int64_t v = a.int_at(k);
    if (v < 0) v = std::max<int64_t>(0, v + n);
    return std::min(v, n);
  };
  return {bound(i, 0), bound(i + 1, n)};
}

// Index (in code points) of `sub` in s[start:end], searching from the left or right; -1 if absent.
int64_t find_in(const Value& self, CallArgs& args, const char* what, bool from_right) {
  const Args a(what, args, {"sub", "start", "end"}, 1);
  const std::u32string s = to_code_points(self.str());
  const std::u32string sub = to_code_points(a.str_at(0));
  const auto [start, end] = sub_range(a, 1, static_cast<int64_t>(s.size()));
  if (end - start < static_cast<int64_t>(sub.size())) return -1;
  const std::u32string_view window = std::u32string_view(s).substr(static_cast<size_t>(start),
                                                                     static_cast<size_t>(end - start));
  const size_t at = from_right ? window.rfind(sub) : window.find(sub);
  return at == std::u32string_view::npos ? -1 : start + static_cast<int64_t>(at);
}

Value s_find(Evaluator&, const Value& self, CallArgs& args) { return Value::integer(find_in(self, args, "str.find", false)); }
Value s_rfind(Evaluator&, const Value& self, CallArgs& args) { return Value::integer(find_in(self, args, "str.rfind", true)); }
Value s_index(Evaluator&, const Value& self, CallArgs& args) {
  const int64_t i = find_in(self, args, "str.index", false);
  if (i < 0) template_fail("substring not found");
  return Value::integer(i);
}
Value s_rindex(Evaluator&, const Value& self, CallArgs& args) {
  const int64_t i = find_in(self, args, "str.rindex", true);
  if (i < 0) template_fail("substring not found");
  return Value::integer(i);
}

Value s_count(Evaluator&, const Value& self, CallArgs& args) {
  const Args a("str.count", args, {"sub", "start", "end"}, 1);
  const std::u32string s = to_code_points(self.str());
  const auto [start, end] = sub_range(a, 1, static_cast<int64_t>(s.size()));
  if (start > end) return Value::integer(0);
  return Value::integer(py_count(to_utf8(std::u32string_view(s).substr(static_cast<size_t>(start),
                                                                       static_cast<size_t>(end - start))),
                                 a.str_at(0)));
}

// startswith/endswith: a str or a tuple of them, within the optional range.
Value affix_test(const Value& self, CallArgs& args, const char* what, bool at_start) {
  const Args a(what, args, {"prefix", "start", "end"}, 1);
  const std::u32string s = to_code_points(self.str());
  const auto [start, end] = sub_range(a, 1, static_cast<int64_t>(s.size()));
  std::vector<std::string> options;
  const Value& p = a[0];
  if (p.is_sequence_of(ListFlavor::kTuple)) {
    for (const Value& item : p.items()) {
      if (!item.is_string()) template_fail(what, ": tuple for ", what, " must only contain str, not ", type_name(item));
      options.push_back(item.str());
    }
  } else if (p.is_string()) {
    options.push_back(p.str());
  } else {
    if (p.is_undefined()) fail_undefined(p);
    template_fail(what, " first arg must be str or a tuple of str, not ", type_name(p));
  }
  if (start > end) return Value::boolean(false);
  const std::string window = to_utf8(std::u32string_view(s).substr(static_cast<size_t>(start),
                                                                   static_cast<size_t>(end - start)));
  for (const std::string& o : options) {
    if (o.size() > window.size()) continue;
    if (at_start ? window.compare(0, o.size(), o) == 0 : window.compare(window.size() - o.size(), o.size(), o) == 0) {
      return Value::boolean(true);
    }
  }
  return Value::boolean(false);
}
Value s_startswith(Evaluator&, const Value& self, CallArgs& args) { return affix_test(self, args, "str.startswith", true); }
Value s_endswith(Evaluator&, const Value& self, CallArgs& args) { return affix_test(self, args, "str.endswith", false); }

Value strip_kind(const Value& self, CallArgs& args, const char* what, bool left, bool right) {
  const Args a(what, args, {"chars"});
  return str_result(self, py_strip(self.str(), optional_chars(a, 0), left, right));
}
Value s_strip(Evaluator&, const Value& self, CallArgs& args) { return strip_kind(self, args, "str.strip", true, true); }
Value s_lstrip(Evaluator&, const Value& self, CallArgs& args) { return strip_kind(self, args, "str.lstrip", true, false); }
Value s_rstrip(Evaluator&, const Value& self, CallArgs& args) { return strip_kind(self, args, "str.rstrip", false, true); }

Value split_kind(const Value& self, CallArgs& args, const char* what, bool from_right) {
  const Args a(what, args, {"sep", "maxsplit"});
  const std::optional<std::string> sep = optional_chars(a, 0);
  if (sep && sep->empty()) template_fail("empty separator");
  const int64_t maxsplit = a.has(1) ? a.int_at(1) : -1;
  const auto parts = from_right ? py_rsplit(self.str(), sep, maxsplit) : py_split(self.str(), sep, maxsplit);
  std::vector<Value> out;
  for (const auto& p : parts) out.push_back(str_result(self, p));
  return Value::list(std::move(out));
}
Value s_split(Evaluator&, const Value& self, CallArgs& args) { return split_kind(self, args, "str.split", false); }
Value s_rsplit(Evaluator&, const Value& self, CallArgs& args) { return split_kind(self, args, "str.rsplit", true); }

Value s_splitlines(Evaluator&, const Value& self, CallArgs& args) {
  const Args a("str.splitlines", args, {"keepends"});
  std::vector<Value> out;
  for (const auto& p : py_splitlines(self.str(), a.has(0) && truthy(a[0]))) out.push_back(str_result(self, p));
  return Value::list(std::move(out));
}

Value s_replace(Evaluator&, const Value& self, CallArgs& args) {
  const Args a("str.replace", args, {"old", "new", "count"}, 2);
  std::string old = a.str_at(0), replacement = a.str_at(1);
  if (self.markup()) {  // Markup escapes plain arguments
    if (!a[0].markup()) old = html_escape(old);
    if (!a[1].markup()) replacement = html_escape(replacement);
  }
  return str_result(self, py_replace(self.str(), old, replacement, a.has(2) ? a.int_at(2) : -1));
}

Value s_join(Evaluator&, const Value& self, CallArgs& args) {
  const Args a("str.join", args, {"iterable"}, 1);
  std::string out;
  size_t index = 0;
  ValueIterator it(a[0]);
  while (auto item = it.next()) {
    if (!item->is_string()) {
      template_fail("sequence item ", index, ": expected str instance, ", type_name(*item), " found");
    }
    if (index++ > 0) out += self.str();
    out += self.markup() && !item->markup() ? html_escape(item->str()) : item->str();
    if (out.size() > max_string_bytes()) template_fail("joined string would exceed ", max_string_bytes(), " bytes");
  }
  return str_result(self, std::move(out));
}

Value s_upper(Evaluator&, const Value& self, CallArgs& args) {
  Args("str.upper", args, {});
  return str_result(self, py_upper(self.str()));
}
Value s_lower(Evaluator&, const Value& self, CallArgs& args) {
  Args("str.lower", args, {});
  return str_result(self, py_lower(self.str()));
}
Value s_title(Evaluator&, const Value& self, CallArgs& args) {
  Args("str.title", args, {});
  return str_result(self, py_title(self.str()));
}
Value s_capitalize(Evaluator&, const Value& self, CallArgs& args) {
  Args("str.capitalize", args, {});
  return str_result(self, py_capitalize(self.str()));
}
Value s_swapcase(Evaluator&, const Value& self, CallArgs& args) {
  Args("str.swapcase", args, {});
  return str_result(self, py_swapcase(self.str()));
}

// ljust / rjust / center: pad to `width` code points with `fillchar`.
Value pad(const Value& self, CallArgs& args, const char* what, int where) {
  const Args a(what, args, {"width", "fillchar"}, 1);
  const int64_t width = a.int_at(0);
  std::u32string fill = U" ";
  if (a.has(1)) {
    fill = to_code_points(a.str_at(1));
    if (fill.size() != 1) template_fail("The fill character must be exactly one character long");
  }
  const std::u32string s = to_code_points(self.str());
  const int64_t n = static_cast<int64_t>(s.size());
  if (width <= n) return self;
  if (width > static_cast<int64_t>(max_string_bytes())) template_fail(what, ": width is too large");
  const int64_t total = width - n;
  int64_t left = where < 0 ? 0 : where > 0 ? total : total / 2 + (total & width & 1);
  const int64_t right = total - left;
  return str_result(self, to_utf8(std::u32string(static_cast<size_t>(left), fill[0]) + s +
                                  std::u32string(static_cast<size_t>(right), fill[0])));
}
Value s_ljust(Evaluator&, const Value& self, CallArgs& args) { return pad(self, args, "str.ljust", -1); }
Value s_rjust(Evaluator&, const Value& self, CallArgs& args) { return pad(self, args, "str.rjust", 1); }
Value s_center(Evaluator&, const Value& self, CallArgs& args) { return pad(self, args, "str.center", 0); }

Value s_zfill(Evaluator&, const Value& self, CallArgs& args) {
  const Args a("str.zfill", args, {"width"}, 1);
  std::u32string s = to_code_points(self.str());
  const int64_t width = a.int_at(0);
  if (width <= static_cast<int64_t>(s.size())) return self;
  if (width > static_cast<int64_t>(max_string_bytes())) template_fail("str.zfill: width is too large");
  const size_t fill = static_cast<size_t>(width) - s.size();
  const size_t at = !s.empty() && (s[0] == '+' || s[0] == '-') ? 1 : 0;
  s.insert(at, fill, U'0');
  return str_result(self, to_utf8(s));
}

Value partition_kind(const Value& self, CallArgs& args, const char* what, bool from_right) {
  const Args a(what, args, {"sep"}, 1);
  const std::string& sep = a.str_at(0);
  if (sep.empty()) template_fail("empty separator");
  const std::string& s = self.str();
  const size_t at = from_right ? s.rfind(sep) : s.find(sep);
  if (at == std::string::npos) {
    return from_right ? Value::tuple({str_result(self, ""), str_result(self, ""), self})
                      : Value::tuple({self, str_result(self, ""), str_result(self, "")});
  }
  return Value::tuple({str_result(self, s.substr(0, at)), str_result(self, sep), str_result(self, s.substr(at + sep.size()))});
}
Value s_partition(Evaluator&, const Value& self, CallArgs& args) { return partition_kind(self, args, "str.partition", false); }
Value s_rpartition(Evaluator&, const Value& self, CallArgs& args) { return partition_kind(self, args, "str.rpartition", true); }

Value s_removeprefix(Evaluator&, const Value& self, CallArgs& args) {
  const Args a("str.removeprefix", args, {"prefix"}, 1);
  const std::string& p = a.str_at(0);
  const std::string& s = self.str();
  return s.compare(0, p.size(), p) == 0 && p.size() <= s.size() ? str_result(self, s.substr(p.size())) : self;
}
Value s_removesuffix(Evaluator&, const Value& self, CallArgs& args) {
  const Args a("str.removesuffix", args, {"suffix"}, 1);
  const std::string& p = a.str_at(0);
  const std::string& s = self.str();
  if (p.empty() || p.size() > s.size() || s.compare(s.size() - p.size(), p.size(), p) != 0) return self;
  return str_result(self, s.substr(0, s.size() - p.size()));
}

// The str.is*() predicates: true when non-empty and every code point passes.
template <bool (*Pred)(char32_t)>
Value char_predicate(Evaluator&, const Value& self, CallArgs& args) {
  Args("str predicate", args, {});
  const std::u32string s = to_code_points(self.str());
  if (s.empty()) return Value::boolean(false);
  return Value::boolean(std::all_of(s.begin(), s.end(), Pred));
}
bool is_ascii_char(char32_t c) { return c < 0x80; }

Value s_isascii(Evaluator&, const Value& self, CallArgs& args) {
  Args("str.isascii", args, {});
  const std::u32string s = to_code_points(self.str());
  return Value::boolean(std::all_of(s.begin(), s.end(), is_ascii_char));
}
Value s_islower(Evaluator&, const Value& self, CallArgs& args) {
  Args("str.islower", args, {});
  return Value::boolean(py_islower(self.str()));
}
Value s_isupper(Evaluator&, const Value& self, CallArgs& args) {
  Args("str.isupper", args, {});
  return Value::boolean(py_isupper(self.str()));
}
Value s_isprintable(Evaluator&, const Value& self, CallArgs& args) {
  Args("str.isprintable", args, {});
  const std::u32string s = to_code_points(self.str());
  return Value::boolean(std::all_of(s.begin(), s.end(), py_isprintable));
}

// str.format with automatic ({}), numbered ({0}) and named ({name}) fields
// and !s / !r conversions; format specs (after ':') are refused.
Value s_format(Evaluator&, const Value& self, CallArgs& args) {
  const std::string& f = self.str();
  std::string out;
  size_t auto_index = 0;
  bool used_auto = false, used_manual = false;
  for (size_t i = 0; i < f.size(); ++i) {
    const char c = f[i];
    if (c == '}') {
      if (i + 1 < f.size() && f[i + 1] == '}') {
        out.push_back('}');
        ++i;
        continue;
      }
      template_fail("Single '}' encountered in format string");
    }
    if (c != '{') {
      out.push_back(c);
      continue;
    }
    if (i + 1 < f.size() && f[i + 1] == '{') {
      out.push_back('{');
      ++i;
      continue;
    }
    const size_t close = f.find('}', i);
    if (close == std::string::npos) template_fail("Single '{' encountered in format string");
    std::string field = f.substr(i + 1, close - i - 1);
    i = close;
    char conversion = 's';
    if (const size_t bang = field.find('!'); bang != std::string::npos) {
      if (bang + 2 != field.size() || (field[bang + 1] != 's' && field[bang + 1] != 'r')) {
        template_fail("str.format: conversion in '{", field, "}' is not supported");
      }
      conversion = field[bang + 1];
      field.resize(bang);
    }
    if (field.find_first_of(":.[") != std::string::npos) {
      template_fail("str.format: the field '{", field, "}' (format specs, attributes, indexes) is not supported");
    }
    Value v;
    if (field.empty()) {
      if (used_manual) template_fail("cannot switch from manual field specification to automatic field numbering");
      used_auto = true;
      if (auto_index >= args.positional.size()) template_fail("Replacement index ", auto_index, " out of range");
      v = args.positional[auto_index++];
    } else if (std::all_of(field.begin(), field.end(), [](char d) { return d >= '0' && d <= '9'; })) {
      if (used_auto) template_fail("cannot switch from automatic field numbering to manual field specification");
      used_manual = true;
      const size_t k = std::stoul(field);
      if (k >= args.positional.size()) template_fail("Replacement index ", k, " out of range");
      v = args.positional[k];
    } else {
      auto it = std::find_if(args.keyword.begin(), args.keyword.end(), [&](const auto& kv) { return kv.first == field; });
      if (it == args.keyword.end()) template_fail("KeyError: '", field, "'");
      v = it->second;
    }
    out += conversion == 'r' ? repr(v) : to_str(v);
  }
  return str_result(self, std::move(out));
}

constexpr Method kStrMethods[] = {
    {"capitalize", s_capitalize}, {"casefold", nullptr}, {"center", s_center}, {"count", s_count},
    {"encode", nullptr}, {"endswith", s_endswith}, {"expandtabs", nullptr}, {"find", s_find},
    {"format", s_format}, {"format_map", nullptr}, {"index", s_index},
    {"isalnum", char_predicate<py_isalnum>}, {"isalpha", char_predicate<py_isalpha>}, {"isascii", s_isascii},
    {"isdecimal", char_predicate<py_isdecimal_char>}, {"isdigit", char_predicate<py_isdigit_char>},
    {"isidentifier", nullptr}, {"islower", s_islower}, {"isnumeric", nullptr}, {"isprintable", s_isprintable},
    {"isspace", char_predicate<py_isspace>}, {"istitle", nullptr}, {"isupper", s_isupper}, {"join", s_join},
    {"ljust", s_ljust}, {"lower", s_lower}, {"lstrip", s_lstrip}, {"maketrans", nullptr},
    {"partition", s_partition}, {"removeprefix", s_removeprefix}, {"removesuffix", s_removesuffix},
    {"replace", s_replace}, {"rfind", s_rfind}, {"rindex", s_rindex}, {"rjust", s_rjust},
    {"rpartition", s_rpartition}, {"rsplit", s_rsplit}, {"rstrip", s_rstrip}, {"split", s_split},
    {"splitlines", s_splitlines}, {"startswith", s_startswith}, {"strip", s_strip}, {"swapcase", s_swapcase},
    {"title", s_title}, {"translate", nullptr}, {"upper", s_upper}, {"zfill", s_zfill},
};
// Markup (|safe strings) adds these.
constexpr Method kMarkupMethods[] = {{"escape", nullptr}, {"striptags", nullptr}, {"unescape", nullptr}};

// ------------------------------------------------------------------ dict

Value d_get(Evaluator&, const Value& self, CallArgs& args) {
  const Args a("dict.get", args, {"key", "default"}, 1);
  if (const Value* v = self.dict().find(a[0])) return *v;
  return a.has(1) ? a[1] : Value::none();
}

Value dict_view(const Value& self, CallArgs& args, const char* what, ListFlavor flavor) {
  Args(what, args, {});
  std::vector<Value> out;
  for (const auto& [k, v] : self.dict().entries) {
    out.push_back(flavor == ListFlavor::kDictKeys ? k : flavor == ListFlavor::kDictValues ? v : Value::tuple({k, v}));
  }
  return Value::list(std::move(out), flavor);
}
Value d_items(Evaluator&, const Value& self, CallArgs& args) { return dict_view(self, args, "dict.items", ListFlavor::kDictItems); }
Value d_keys(Evaluator&, const Value& self, CallArgs& args) { return dict_view(self, args, "dict.keys", ListFlavor::kDictKeys); }
Value d_values(Evaluator&, const Value& self, CallArgs& args) {
  return dict_view(self, args, "dict.values", ListFlavor::kDictValues);
}
Value d_copy(Evaluator&, const Value& self, CallArgs& args) {
  Args("dict.copy", args, {});
  return Value::dict(self.dict());
}

constexpr Method kDictMethods[] = {{"copy", d_copy}, {"fromkeys", nullptr}, {"get", d_get},
                                   {"items", d_items}, {"keys", d_keys},     {"values", d_values}};
// Methods that would change the dict: the immutable sandbox refuses them.
constexpr const char* kDictMutators[] = {"clear", "pop", "popitem", "setdefault", "update"};

// ------------------------------------------------------------------ list, tuple, range

Value l_index(Evaluator&, const Value& self, CallArgs& args) {
  const Args a("index", args, {"value", "start", "stop"}, 1);
  const auto& items = self.items();
  const auto [start, end] = sub_range(a, 1, static_cast<int64_t>(items.size()));
  for (int64_t i = start; i < end; ++i) {
    if (equal(items[static_cast<size_t>(i)], a[0])) return Value::integer(i);
  }
  template_fail(repr(a[0]), " is not in ", type_name(self));
}
Value l_count(Evaluator&, const Value& self, CallArgs& args) {
  const Args a("count", args, {"value"}, 1);
  int64_t n = 0;
  for (const Value& v : self.items()) n += equal(v, a[0]);
  return Value::integer(n);
}
Value l_copy(Evaluator&, const Value& self, CallArgs& args) {
  Args("list.copy", args, {});
  return Value::list(self.items());
}

constexpr Method kListMethods[] = {{"clear", nullptr}, {"copy", l_copy}, {"count", l_count},
                                   {"index", l_index}, {"pop", nullptr}};
constexpr const char* kListMutators[] = {"append", "extend", "insert", "remove", "reverse", "sort"};
constexpr Method kTupleMethods[] = {{"count", l_count}, {"index", l_index}};

// ------------------------------------------------------------------ numbers

Value f_is_integer(Evaluator&, const Value& self, CallArgs& args) {
  Args("float.is_integer", args, {});
  const double d = self.as_float();
  return Value::boolean(std::isfinite(d) && std::trunc(d) == d);
}

constexpr Method kIntMethods[] = {{"as_integer_ratio", nullptr}, {"bit_count", nullptr}, {"bit_length", nullptr},
                                  {"conjugate", nullptr},        {"from_bytes", nullptr}, {"to_bytes", nullptr}};
constexpr Method kFloatMethods[] = {{"as_integer_ratio", nullptr}, {"conjugate", nullptr}, {"fromhex", nullptr},
                                    {"hex", nullptr}, {"is_integer", f_is_integer}};

template <size_t N>
const Method* find_method(const Method (&table)[N], const std::string& name) {
  for (const Method& m : table) {
    if (name == m.name) return &m;
  }
  return nullptr;
}

template <size_t N>
bool is_listed(const char* const (&names)[N], const std::string& name) {
  for (const char* n : names) {
    if (name == n) return true;
  }
  return false;
}

Value unsafe(const Value& obj, const std::string& name) {
  return Value::undefined(
      cat("access to attribute ", py_repr_string(name), " of ", py_repr_string(type_name(obj)), " object is unsafe."),
      true);
}

}  // namespace

Value BoundMethod::call(Evaluator& ev, CallArgs& args) {
  if (fn_ == nullptr) template_fail(owner_, ".", name_, "() is not supported in chat templates");
  return fn_(ev, self_, args);
}

std::optional<Value> python_attribute(const Value& obj, const std::string& name) {
  if (name.size() > 4 && name.compare(0, 2, "__") == 0 && name.compare(name.size() - 2, 2, "__") == 0) {
    return unsafe(obj, name);  // Python internals: the sandbox refuses every one
  }
  auto bind = [&](const Method* m) -> std::optional<Value> {
    if (m == nullptr) return std::nullopt;
    return Value::object(std::make_shared<BoundMethod>(obj, type_name(obj), name, m->fn));
  };
  switch (obj.kind()) {
    case Kind::kString:
      if (obj.markup()) {
        if (auto m = bind(find_method(kMarkupMethods, name))) return m;
      }
      return bind(find_method(kStrMethods, name));
    case Kind::kDict:
      if (is_listed(kDictMutators, name)) return unsafe(obj, name);
      return bind(find_method(kDictMethods, name));
    case Kind::kList:
      switch (obj.flavor()) {
        case ListFlavor::kList:
          if (is_listed(kListMutators, name)) return unsafe(obj, name);
          return bind(find_method(kListMethods, name));
        case ListFlavor::kTuple: return bind(find_method(kTupleMethods, name));
        case ListFlavor::kRange:
          if (name == "start") return Value::integer(obj.list_data().start);
          if (name == "stop") return Value::integer(obj.list_data().stop);
          if (name == "step") return Value::integer(obj.list_data().step);
          return bind(find_method(kTupleMethods, name));
        default: return std::nullopt;
      }
    case Kind::kBool:
    case Kind::kInt:
      if (name == "real" || name == "numerator") return Value::integer(obj.as_int());
      if (name == "imag") return Value::integer(0);
      if (name == "denominator") return Value::integer(1);
      return bind(find_method(kIntMethods, name));
    case Kind::kFloat:
      if (name == "real") return Value::number(obj.as_float());
      if (name == "imag") return Value::number(0.0);
      return bind(find_method(kFloatMethods, name));
    default: return std::nullopt;
  }
}

Value get_attr(const Value& obj, const std::string& name) {
  if (obj.is_undefined()) fail_undefined(obj);
  if (obj.is_object()) {
    if (name.size() > 4 && name.compare(0, 2, "__") == 0 && name.compare(name.size() - 2, 2, "__") == 0) {
      return unsafe(obj, name);
    }
    return obj.object().attribute(name);
  }
  if (auto attr = python_attribute(obj, name)) return *attr;
  if (obj.is_dict()) {
    if (const Value* v = obj.dict().find(name)) return *v;
  }
  return missing_attribute(obj, name);
}

}  // namespace nomoat::jinja
