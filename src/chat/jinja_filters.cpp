// Jinja2's built-in filters with Python semantics, plus Hugging Face's tojson.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <unordered_set>

#include "chat/jinja_args.h"
#include "chat/jinja_builtins.h"
#include "chat/jinja_eval.h"
#include "chat/jinja_json.h"
#include "chat/jinja_methods.h"
#include "chat/jinja_ops.h"
#include "chat/py_text.h"

namespace nomoat::jinja {
namespace {

// soft_str: str(value), except that a Markup string stays Markup.
Value soft_str(const Value& v) { return v.is_string() ? v : Value::string(to_str(v)); }

std::string filter_name(const char* name) { return cat("filter '", name, "'"); }

// Jinja2's attribute path ("a.b.0"): dotted parts, all-digit parts as ints.
std::vector<Value> attribute_parts(const Value& attribute) {
  std::vector<Value> parts;
  if (attribute.is_none()) return parts;
  if (!attribute.is_string()) return {attribute};
  for (const std::string& p : py_split(attribute.str(), std::string("."), -1)) {
    const bool digits = !p.empty() && std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; });
    parts.push_back(digits ? Value::integer(std::stoll(p)) : Value::string(p));
  }
  return parts;
}

Value lower_if_string(const Value& v) { return v.is_string() ? Value::string(py_lower(v.str())) : v; }

// make_attrgetter: follows the path with sandboxed item lookup.
Value follow(const Value& item, const std::vector<Value>& parts, const Value* fallback, bool ignore_case) {
  Value v = item;
  for (const Value& part : parts) {
    v = get_item(v, part);
    if (fallback != nullptr && v.is_undefined()) v = *fallback;
  }
  return ignore_case ? lower_if_string(v) : v;
}

// Python's sort: stable, using only `<` (a merge sort gives the same order).
void stable_sort(std::vector<std::pair<Value, Value>>& items, bool reverse) {
  if (items.size() < 2) return;
  std::vector<std::pair<Value, Value>> tmp(items.size());
  for (size_t width = 1; width < items.size(); width *= 2) {
    for (size_t lo = 0; lo < items.size(); lo += 2 * width) {
      const size_t mid = std::min(lo + width, items.size()), hi = std::min(lo + 2 * width, items.size());
      size_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) {
        // reverse=True keeps stability: Python sorts as if comparisons were flipped.
        const bool take_right = reverse ? less_than(items[i].first, items[j].first)
                                        : less_than(items[j].first, items[i].first);
        tmp[k++] = take_right ? items[j++] : items[i++];
      }
      while (i < mid) tmp[k++] = items[i++];
      while (j < hi) tmp[k++] = items[j++];
    }
    items.swap(tmp);
  }
}

// A lazily evaluated generator; `depth` counts what it holds.
Value generator(std::function<std::optional<Value>()> next, uint32_t depth) {
  return Value::iterator("generator", std::move(next), depth);
}

// The depth of a generator holding `v` and the call's arguments.
uint32_t held_depth(const Value& v, const CallArgs& args = {}) {
  uint32_t inner = v.depth();
  for (const Value& a : args.positional) inner = std::max(inner, a.depth());
  for (const auto& [k, a] : args.keyword) inner = std::max(inner, a.depth());
  return container_depth(inner);
}

// ---------------------------------------------------------------- strings

Value f_upper(Evaluator&, const Value& v, CallArgs& args) {
  Args(filter_name("upper"), args, {});
  const Value s = soft_str(v);
  return Value::string(py_upper(s.str()), s.markup());
}

Value f_lower(Evaluator&, const Value& v, CallArgs& args) {
  Args(filter_name("lower"), args, {});
  const Value s = soft_str(v);
  return Value::string(py_lower(s.str()), s.markup());
}

Value f_capitalize(Evaluator&, const Value& v, CallArgs& args) {
  Args(filter_name("capitalize"), args, {});
  const Value s = soft_str(v);
  return Value::string(py_capitalize(s.str()), s.markup());
}

bool is_word_boundary(char32_t c) { return py_isspace(c) || c == '-' || c == '(' || c == '{' || c == '[' || c == '<'; }

// Jinja2's own title: upper-case the first character after each run of
// whitespace or -({[< (not str.title, which looks at cased letters).
Value f_title(Evaluator&, const Value& v, CallArgs& args) {
  Args(filter_name("title"), args, {});
  const std::u32string s = to_code_points(soft_str(v).str());
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    const bool boundary = is_word_boundary(s[i]);
    size_t j = i;
    while (j < s.size() && is_word_boundary(s[j]) == boundary) ++j;
    out += py_upper(to_utf8(s.substr(i, 1)));
    out += py_lower(to_utf8(s.substr(i + 1, j - i - 1)));
    i = j;
  }
  return Value::string(std::move(out));
}

Value f_trim(Evaluator&, const Value& v, CallArgs& args) {
  const Args a(filter_name("trim"), args, {"chars"});
  const Value s = soft_str(v);
  std::optional<std::string> chars;
  if (a.given(0)) chars = a.str_at(0);
  return Value::string(py_strip(s.str(), chars, true, true), s.markup());
}

Value f_replace(Evaluator&, const Value& v, CallArgs& args) {
  const Args a(filter_name("replace"), args, {"old", "new", "count"}, 2);
  const int64_t count = a.given(2) ? a.int_at(2) : -1;
  if (a[0].is_undefined()) fail_undefined(a[0]);
  if (a[1].is_undefined()) fail_undefined(a[1]);
  return Value::string(py_replace(to_str(v), to_str(a[0]), to_str(a[1]), count));
}

Value f_center(Evaluator&, const Value& v, CallArgs& args) {
  const Args a(filter_name("center"), args, {"width"});
  const std::u32string s = to_code_points(soft_str(v).str());
  const int64_t width = a.has(0) ? a.int_at(0) : 80;
  const int64_t n = static_cast<int64_t>(s.size());
  if (width <= n) return soft_str(v);
  if (width > static_cast<int64_t>(max_string_bytes())) template_fail("filter 'center': width is too large");
  const int64_t total = width - n;
  const int64_t left = total / 2 + (total & width & 1);
  return Value::string(std::string(static_cast<size_t>(left), ' ') + to_utf8(s) +
                       std::string(static_cast<size_t>(total - left), ' '));
}

Value f_indent(Evaluator&, const Value& v, CallArgs& args) {
  const Args a(filter_name("indent"), args, {"width", "first", "blank"});
  if (v.is_undefined()) fail_undefined(v);
  if (!v.is_string()) template_fail("unsupported operand type(s) for +=: '", type_name(v), "' and 'str'");
  std::string indention = "    ";
  if (a.has(0)) indention = a[0].is_string() ? a[0].str() : std::string(static_cast<size_t>(std::max<int64_t>(0, a.int_at(0))), ' ');
  const bool first = a.has(1) && truthy(a[1]);
  const bool blank = a.has(2) && truthy(a[2]);
  const std::vector<std::string> lines = py_splitlines(v.str() + "\n", false);
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) {
      out += "\n";
      if (blank || !lines[i].empty()) out += indention;
    }
    out += lines[i];
  }
  if (first) out = indention + out;
  return Value::string(std::move(out), v.markup());
}

Value f_wordcount(Evaluator&, const Value& v, CallArgs& args) {
  Args(filter_name("wordcount"), args, {});
  int64_t words = 0;
  bool in_word = false;
  for (char32_t c : to_code_points(to_str(v))) {
    const bool w = c == '_' || py_isalnum(c);
    words += w && !in_word;
    in_word = w;
  }
  return Value::integer(words);
}

Value f_string(Evaluator&, const Value& v, CallArgs& args) {
  Args(filter_name("string"), args, {});
  return soft_str(v);
}

Value f_safe(Evaluator&, const Value& v, CallArgs& args) {
  Args(filter_name("safe"), args, {});
  return Value::string(to_str(v), true);
}

Value f_escape(Evaluator&, const Value& v, CallArgs& args) {
  Args(filter_name("escape"), args, {});
  if (v.is_string() && v.markup()) return v;
  return Value::string(html_escape(to_str(v)), true);
}

Value f_forceescape(Evaluator&, const Value& v, CallArgs& args) {
  Args(filter_name("forceescape"), args, {});
  return Value::string(html_escape(to_str(v)), true);
}

// ---------------------------------------------------------------- numbers

// Python's float(str): optional sign, digits with single underscores between
// them, optional fraction and exponent, or inf/infinity/nan; whitespace around.
std::optional<double> parse_py_float(const std::string& text) {
  std::string s = py_strip(text, std::nullopt, true, true);
  std::string clean;
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) clean.push_back(s[i++]);
  std::string rest = s.substr(i);
  std::string lower = py_lower(rest);
  if (lower == "inf" || lower == "infinity") return clean == "-" ? -INFINITY : INFINITY;
  if (lower == "nan") return NAN;
  auto digits = [&](size_t& k) {
    const size_t start = k;
    while (k < rest.size()) {
      if (rest[k] >= '0' && rest[k] <= '9') {
        clean.push_back(rest[k++]);
      } else if (rest[k] == '_' && k > start && k + 1 < rest.size() && rest[k + 1] >= '0' && rest[k + 1] <= '9' &&
                 rest[k - 1] != '_') {
        ++k;
      } else {
        break;
      }
    }
    return k > start;
  };
  size_t k = 0;
  const bool int_part = digits(k);
  bool frac_part = false;
  if (k < rest.size() && rest[k] == '.') {
    clean.push_back(rest[k++]);
    frac_part = digits(k);
  }
  if (!int_part && !frac_part) return std::nullopt;
  if (k < rest.size() && (rest[k] == 'e' || rest[k] == 'E')) {
    clean.push_back(rest[k++]);
    if (k < rest.size() && (rest[k] == '+' || rest[k] == '-')) clean.push_back(rest[k++]);
    if (!digits(k)) return std::nullopt;
  }
  if (k != rest.size()) return std::nullopt;
  return std::strtod(clean.c_str(), nullptr);
}

// Python's int(str, base) for bases 2..36 (prefix allowed when it matches the base).
std::optional<int64_t> parse_py_int(const std::string& text, int64_t base) {
  std::string s = py_strip(text, std::nullopt, true, true);
  size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  if (i + 1 < s.size() && s[i] == '0') {
    const char p = static_cast<char>(s[i + 1] | 0x20);
    const int64_t prefixed = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 0;
    if (prefixed != 0 && (base == prefixed || base == 0)) {
      base = prefixed;
      i += 2;
      if (i < s.size() && s[i] == '_') ++i;
    }
  }
  if (base == 0) base = 10;
  if (base < 2 || base > 36) template_fail("int() base must be >= 2 and <= 36, or 0");
  if (i >= s.size()) return std::nullopt;
  int64_t value = 0;
  bool last_underscore = true;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '_') {
      if (last_underscore) return std::nullopt;
      last_underscore = true;
      continue;
    }
    const int d = c >= '0' && c <= '9' ? c - '0' : (c | 0x20) >= 'a' && (c | 0x20) <= 'z' ? (c | 0x20) - 'a' + 10 : 99;
    if (d >= base) return std::nullopt;
    if (__builtin_mul_overflow(value, base, &value) || __builtin_add_overflow(value, d, &value)) {
      template_fail("integer overflow: '", text, "' does not fit in 64 bits");
    }
    last_underscore = false;
  }
  if (last_underscore) return std::nullopt;
  return negative ? -value : value;
}

std::optional<int64_t> float_to_int(double d) {
  if (std::isnan(d)) return std::nullopt;  // ValueError: falls back to the default
  if (!std::isfinite(d) || std::fabs(d) >= 9.2e18) template_fail("cannot convert float ", py_repr_float(d), " to integer");
  return static_cast<int64_t>(std::trunc(d));
}

Value f_int(Evaluator&, const Value& v, CallArgs& args) {
  const Args a(filter_name("int"), args, {"default", "base"});
  const Value fallback = a.get(0, Value::integer(0));
  if (v.is_undefined()) fail_undefined(v);
  if (v.is_integral()) return Value::integer(v.as_int());
  if (v.is_float()) {
    if (auto i = float_to_int(v.as_float())) return Value::integer(*i);
    return fallback;
  }
  if (v.is_string()) {
    if (auto i = parse_py_int(v.str(), a.has(1) ? a.int_at(1) : 10)) return Value::integer(*i);
    if (auto d = parse_py_float(v.str())) {
      if (auto i = float_to_int(*d)) return Value::integer(*i);
    }
  }
  return fallback;
}

Value f_float(Evaluator&, const Value& v, CallArgs& args) {
  const Args a(filter_name("float"), args, {"default"});
  if (v.is_undefined()) fail_undefined(v);
  if (v.is_number()) return Value::number(v.as_float());
  if (v.is_string()) {
    if (auto d = parse_py_float(v.str())) return Value::number(*d);
  }
  return a.get(0, Value::number(0.0));
}

Value f_abs(Evaluator&, const Value& v, CallArgs& args) {
  Args(filter_name("abs"), args, {});
  if (v.is_integral()) {
    if (v.as_int() == INT64_MIN) template_fail("integer overflow in abs()");
    return Value::integer(v.as_int() < 0 ? -v.as_int() : v.as_int());
  }
  if (v.is_float()) return Value::number(std::fabs(v.as_float()));
  template_fail("bad operand type for abs(): '", type_name(v), "'");
}

// Python's round(x, ndigits): correctly rounded, ties to even.
double py_round(double x, int64_t ndigits) {
  if (!std::isfinite(x) || ndigits > 323) return x;
  if (ndigits >= 0) {
    std::vector<char> buf(400);
    std::snprintf(buf.data(), buf.size(), "%.*f", static_cast<int>(ndigits), x);
    return std::strtod(buf.data(), nullptr);
  }
  if (ndigits < -308) return std::copysign(0.0, x);
  const double m = std::pow(10.0, static_cast<double>(-ndigits));
  return std::nearbyint(x / m) * m;
}

// round(int, -n): to a multiple of 10**n, ties to even, staying an int.
int64_t round_int(int64_t x, int64_t ndigits) {
  if (ndigits < -18) return 0;
  int64_t m = 1;
  for (int64_t i = 0; i < -ndigits; ++i) m *= 10;
  int64_t q = x / m, r = x % m;
  if (r < 0) {
    r += m;
    q -= 1;
  }
  if (2 * r > m || (2 * r == m && (q & 1))) ++q;
  int64_t out = 0;
  if (__builtin_mul_overflow(q, m, &out)) template_fail("integer overflow in round()");
  return out;
}

Value f_round(Evaluator&, const Value& v, CallArgs& args) {
  const Args a(filter_name("round"), args, {"precision", "method"});
  const int64_t precision = a.has(0) ? a.int_at(0) : 0;
  const std::string method = a.has(1) ? a.str_at(1) : "common";
  if (method != "common" && method != "ceil" && method != "floor") {
    template_fail("method must be common, ceil or floor");
  }
  if (!v.is_number()) {
    if (v.is_undefined()) fail_undefined(v);
    template_fail("type ", type_name(v), " doesn't define __round__ method");
  }
  if (method == "common") {
    if (v.is_integral()) {
      if (precision >= 0) return Value::integer(v.as_int());
      return Value::integer(round_int(v.as_int(), precision));
    }
    return Value::number(py_round(v.as_float(), precision));
  }
  const double scale = std::pow(10.0, static_cast<double>(precision));
  const double scaled = v.as_float() * scale;
  return Value::number((method == "ceil" ? std::ceil(scaled) : std::floor(scaled)) / scale);
}

// ---------------------------------------------------------------- sequences

Value f_length(Evaluator&, const Value& v, CallArgs& args) {
  Args(filter_name("length"), args, {});
  return Value::integer(length(v));
}

Value f_list(Evaluator&, const Value& v, CallArgs& args) {
  Args(filter_name("list"), args, {});
  return Value::list(to_vector(v));
}

Value f_first(Evaluator&, const Value& v, CallArgs& args) {
  Args(filter_name("first"), args, {});
  ValueIterator it(v);
  if (auto item = it.next()) return *item;
  return Value::undefined("No first item, sequence was empty.");
}

// reversed(): lists, tuples, ranges, dicts and views; generators are not reversible.
std::vector<Value> reversed_items(const Value& v, const char* what) {
  if (v.is_iterator()) template_fail("'", type_name(v), "' object is not reversible");
  if (!v.is_list() && !v.is_dict() && !v.is_string() && !v.is_undefined()) {
    template_fail(what, ": '", type_name(v), "' object is not reversible");
  }
  std::vector<Value> items = to_vector(v);
  std::reverse(items.begin(), items.end());
  return items;
}

Value f_last(Evaluator&, const Value& v, CallArgs& args) {
  Args(filter_name("last"), args, {});
  const std::vector<Value> items = reversed_items(v, "filter 'last'");
  if (items.empty()) return Value::undefined("No last item, sequence was empty.");
  return items.front();
}

Value f_reverse(Evaluator&, const Value& v, CallArgs& args) {
  Args(filter_name("reverse"), args, {});
  if (v.is_string()) {
    std::u32string s = to_code_points(v.str());
    std::reverse(s.begin(), s.end());
    return Value::string(to_utf8(s), v.markup());
  }
  if (v.is_iterator()) {  // not reversible: Jinja2 falls back to a reversed list
    std::vector<Value> items = to_vector(v);
    std::reverse(items.begin(), items.end());
    return Value::list(std::move(items));
  }
  auto items = std::make_shared<std::vector<Value>>(reversed_items(v, "filter 'reverse'"));
  auto pos = std::make_shared<size_t>(0);
  const std::string kind = v.is_dict() ? "dict_reversekeyiterator" : type_name(v) + "_reverseiterator";
  return Value::iterator(
      kind,
      [items, pos]() -> std::optional<Value> {
        if (*pos >= items->size()) return std::nullopt;
        return (*items)[(*pos)++];
      },
      held_depth(v));
}

Value f_join(Evaluator&, const Value& v, CallArgs& args) {
  const Args a(filter_name("join"), args, {"d", "attribute"});
  const std::string sep = a.has(0) ? to_str(a[0]) : "";
  const std::vector<Value> parts = a.given(1) ? attribute_parts(a[1]) : std::vector<Value>{};
  std::string out;
  bool first = true;
  ValueIterator it(v);
  while (auto item = it.next()) {
    if (!first) out += sep;
    first = false;
    out += to_str(a.given(1) ? follow(*item, parts, nullptr, false) : *item);
    if (out.size() > max_string_bytes()) template_fail("joined string would exceed ", max_string_bytes(), " bytes");
  }
  return Value::string(std::move(out));
}

Value f_default(Evaluator&, const Value& v, CallArgs& args) {
  const Args a(filter_name("default"), args, {"default_value", "boolean"});
  const bool boolean = a.has(1) && truthy(a[1]);
  if (v.is_undefined() || (boolean && !truthy(v))) return a.get(0, Value::string(""));
  return v;
}

Value f_items(Evaluator&, const Value& v, CallArgs& args) {
  Args(filter_name("items"), args, {});
  if (v.is_undefined()) return generator([] { return std::optional<Value>(); }, 1);
  if (!v.is_dict()) template_fail("Can only get item pairs from a mapping.");
  auto entries = std::make_shared<std::vector<Value>>();
  for (const auto& [k, x] : v.dict().entries) entries->push_back(Value::tuple({k, x}));
  auto pos = std::make_shared<size_t>(0);
  return generator(
      [entries, pos]() -> std::optional<Value> {
        if (*pos >= entries->size()) return std::nullopt;
        return (*entries)[(*pos)++];
      },
      held_depth(v));
}

Value f_dictsort(Evaluator&, const Value& v, CallArgs& args) {
  const Args a(filter_name("dictsort"), args, {"case_sensitive", "by", "reverse"});
  if (v.is_undefined()) fail_undefined(v);
  if (!v.is_dict()) template_fail("'", type_name(v), "' object has no attribute 'items'");
  const bool case_sensitive = a.has(0) && truthy(a[0]);
  const std::string by = a.has(1) ? a.str_at(1) : "key";
  if (by != "key" && by != "value") template_fail("You can only sort by either \"key\" or \"value\"");
  std::vector<std::pair<Value, Value>> keyed;
  for (const auto& [k, x] : v.dict().entries) {
    const Value& key = by == "key" ? k : x;
    keyed.emplace_back(case_sensitive ? key : lower_if_string(key), Value::tuple({k, x}));
  }
  stable_sort(keyed, a.has(2) && truthy(a[2]));
  std::vector<Value> out;
  for (auto& [key, item] : keyed) out.push_back(std::move(item));
  return Value::list(std::move(out));
}

Value f_sort(Evaluator&, const Value& v, CallArgs& args) {
  const Args a(filter_name("sort"), args, {"reverse", "case_sensitive", "attribute"});
  const bool case_sensitive = a.has(1) && truthy(a[1]);
  std::vector<std::vector<Value>> paths;  // one per comma-separated attribute
  if (a.given(2)) {
    if (a[2].is_string()) {
      for (const std::string& part : py_split(a[2].str(), std::string(","), -1)) {
        paths.push_back(attribute_parts(Value::string(part)));
      }
    } else {
      paths.push_back(attribute_parts(a[2]));
    }
  }
  std::vector<std::pair<Value, Value>> keyed;
  ValueIterator it(v);
  while (auto item = it.next()) {
    std::vector<Value> key;
    if (paths.empty()) {
      key.push_back(case_sensitive ? *item : lower_if_string(*item));
    } else {
      for (const auto& path : paths) key.push_back(follow(*item, path, nullptr, !case_sensitive));
    }
    // make_multi_attrgetter yields a list of keys (one element without attribute).
    keyed.emplace_back(Value::list(std::move(key)), *item);
  }
  stable_sort(keyed, a.has(0) && truthy(a[0]));
  std::vector<Value> out;
  for (auto& [key, item] : keyed) out.push_back(std::move(item));
  return Value::list(std::move(out));
}

Value f_unique(Evaluator&, const Value& v, CallArgs& args) {
  const Args a(filter_name("unique"), args, {"case_sensitive", "attribute"});
  const bool ignore_case = !(a.has(0) && truthy(a[0]));
  const std::vector<Value> parts = a.given(1) ? attribute_parts(a[1]) : std::vector<Value>{};
  auto items = std::make_shared<ValueIterator>(v);
  auto seen = std::make_shared<std::unordered_set<std::string>>();
  return generator(
      [items, seen, parts, ignore_case]() -> std::optional<Value> {
        while (auto item = items->next()) {
          if (seen->insert(hash_key(follow(*item, parts, nullptr, ignore_case))).second) return item;
        }
        return std::nullopt;
      },
      held_depth(v, args));
}

Value min_max(const Value& v, CallArgs& args, const char* name, bool want_max) {
  const Args a(filter_name(name), args, {"case_sensitive", "attribute"});
  const bool ignore_case = !(a.has(0) && truthy(a[0]));
  const std::vector<Value> parts = a.given(1) ? attribute_parts(a[1]) : std::vector<Value>{};
  ValueIterator it(v);
  std::optional<Value> best, best_key;
  while (auto item = it.next()) {
    Value key = follow(*item, parts, nullptr, ignore_case);
    if (!best || (want_max ? less_than(*best_key, key) : less_than(key, *best_key))) {
      best = *item;
      best_key = std::move(key);
    }
  }
  if (!best) return Value::undefined("No aggregated item, sequence was empty.");
  return *best;
}
Value f_min(Evaluator&, const Value& v, CallArgs& args) { return min_max(v, args, "min", false); }
Value f_max(Evaluator&, const Value& v, CallArgs& args) { return min_max(v, args, "max", true); }

Value f_sum(Evaluator&, const Value& v, CallArgs& args) {
  const Args a(filter_name("sum"), args, {"attribute", "start"});
  const std::vector<Value> parts = a.given(0) ? attribute_parts(a[0]) : std::vector<Value>{};
  Value total = a.get(1, Value::integer(0));
  if (total.is_string()) template_fail("sum() can't sum strings [use ''.join(seq) instead]");
  ValueIterator it(v);
  while (auto item = it.next()) total = binary_op(BinaryOp::kAdd, total, follow(*item, parts, nullptr, false));
  return total;
}

Value f_batch(Evaluator&, const Value& v, CallArgs& args) {
  const Args a(filter_name("batch"), args, {"linecount", "fill_with"}, 1);
  const int64_t count = a.int_at(0);
  if (count <= 0) template_fail("filter 'batch': linecount must be positive");
  const std::optional<Value> fill = a.given(1) ? std::optional<Value>(a[1]) : std::nullopt;
  auto items = std::make_shared<ValueIterator>(v);
  return generator([items, count, fill]() -> std::optional<Value> {
    std::vector<Value> row;
    while (static_cast<int64_t>(row.size()) < count) {
      auto item = items->next();
      if (!item) break;
      row.push_back(std::move(*item));
    }
    if (row.empty()) return std::nullopt;
    while (fill && static_cast<int64_t>(row.size()) < count) row.push_back(*fill);
    return Value::list(std::move(row));
  }, held_depth(v, args));
}

Value f_attr(Evaluator&, const Value& v, CallArgs& args) {
  const Args a(filter_name("attr"), args, {"name"}, 1);
  const std::string& name = a.str_at(0);
  if (v.is_undefined()) fail_undefined(v);
  if (v.is_object()) return get_attr(v, name);
  if (python_attribute(v, name)) return get_attr(v, name);
  return missing_attribute(v, name);  // dict keys are not attributes
}

// ---------------------------------------------------------------- map / select

Value f_map(Evaluator& ev, const Value& v, CallArgs& args) {
  auto source = std::make_shared<std::optional<ValueIterator>>();
  auto started = std::make_shared<bool>(false);
  const Value value = v;
  CallArgs rest = args;
  Evaluator* evp = &ev;
  return generator([=]() mutable -> std::optional<Value> {
    if (!*started) {
      *started = true;
      if (!truthy(value)) return std::nullopt;
      source->emplace(value);
    }
    if (!source->has_value()) return std::nullopt;
    auto item = (*source)->next();
    if (!item) return std::nullopt;
    auto attr = std::find_if(rest.keyword.begin(), rest.keyword.end(), [](const auto& kv) { return kv.first == "attribute"; });
    if (rest.positional.empty() && attr != rest.keyword.end()) {
      std::optional<Value> fallback;
      for (const auto& [k, x] : rest.keyword) {
        if (k == "default") {
          fallback = x;
        } else if (k != "attribute") {
          template_fail("Unexpected keyword argument '", k, "'");
        }
      }
      const Value* fb = fallback && !fallback->is_none() ? &*fallback : nullptr;
      return follow(*item, attribute_parts(attr->second), fb, false);
    }
    if (rest.positional.empty()) template_fail("map requires a filter argument");
    if (!rest.positional[0].is_string()) template_fail("map: the filter name must be a string");
    CallArgs filter_args;
    filter_args.positional.assign(rest.positional.begin() + 1, rest.positional.end());
    filter_args.keyword = rest.keyword;
    return evp->call_filter(rest.positional[0].str(), *item, filter_args);
  }, held_depth(v, args));
}

Value select_or_reject(Evaluator& ev, const Value& v, CallArgs& args, bool keep_if_true, bool lookup_attr) {
  auto source = std::make_shared<std::optional<ValueIterator>>();
  auto started = std::make_shared<bool>(false);
  const Value value = v;
  const CallArgs rest = args;
  Evaluator* evp = &ev;
  return generator([=]() -> std::optional<Value> {
    if (!*started) {
      *started = true;
      if (!truthy(value)) return std::nullopt;
      if (lookup_attr && rest.positional.empty()) template_fail("Missing parameter for attribute name");
      source->emplace(value);
    }
    if (!source->has_value()) return std::nullopt;
    const size_t off = lookup_attr ? 1 : 0;
    const std::vector<Value> parts = lookup_attr ? attribute_parts(rest.positional[0]) : std::vector<Value>{};
    while (auto item = (*source)->next()) {
      const Value subject = lookup_attr ? follow(*item, parts, nullptr, false) : *item;
      bool pass;
      if (rest.positional.size() > off) {
        if (!rest.positional[off].is_string()) template_fail("the test name must be a string");
        CallArgs test_args;
        test_args.positional.assign(rest.positional.begin() + static_cast<long>(off) + 1, rest.positional.end());
        test_args.keyword = rest.keyword;
        pass = evp->call_test(rest.positional[off].str(), subject, test_args);
      } else {
        pass = truthy(subject);
      }
      if (pass == keep_if_true) return item;
    }
    return std::nullopt;
  }, held_depth(v, args));
}
Value f_select(Evaluator& ev, const Value& v, CallArgs& a) { return select_or_reject(ev, v, a, true, false); }
Value f_reject(Evaluator& ev, const Value& v, CallArgs& a) { return select_or_reject(ev, v, a, false, false); }
Value f_selectattr(Evaluator& ev, const Value& v, CallArgs& a) { return select_or_reject(ev, v, a, true, true); }
Value f_rejectattr(Evaluator& ev, const Value& v, CallArgs& a) { return select_or_reject(ev, v, a, false, true); }

// ---------------------------------------------------------------- tojson

// transformers' tojson: json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False).
Value f_tojson(Evaluator&, const Value& v, CallArgs& args) {
  const Args a(filter_name("tojson"), args, {"ensure_ascii", "indent", "separators", "sort_keys"});
  JsonDumpOptions o;
  o.ensure_ascii = a.has(0) && truthy(a[0]);
  if (a.given(1)) {
    if (a[1].is_string()) {
      o.indent = a[1].str();
    } else {
      o.indent = std::string(static_cast<size_t>(std::clamp<int64_t>(a.int_at(1), 0, 1 << 16)), ' ');
    }
  }
  if (a.given(2)) {
    const Value& s = a[2];
    if (!s.is_list() || s.items().size() != 2 || !s.items()[0].is_string() || !s.items()[1].is_string()) {
      template_fail("filter 'tojson': separators must be a pair of strings");
    }
    o.separators = std::make_pair(s.items()[0].str(), s.items()[1].str());
  }
  o.sort_keys = a.has(3) && truthy(a[3]);
  return Value::string(py_json_dumps(v, o));
}

struct FilterEntry {
  const char* name;
  FilterFn fn;  // null: known to Jinja2, not implemented
};

constexpr FilterEntry kFilters[] = {
    {"abs", f_abs}, {"attr", f_attr}, {"batch", f_batch}, {"capitalize", f_capitalize}, {"center", f_center},
    {"count", f_length}, {"d", f_default}, {"default", f_default}, {"dictsort", f_dictsort}, {"e", f_escape},
    {"escape", f_escape}, {"filesizeformat", nullptr}, {"first", f_first}, {"float", f_float},
    {"forceescape", f_forceescape}, {"format", nullptr}, {"groupby", nullptr}, {"indent", f_indent},
    {"int", f_int}, {"items", f_items}, {"join", f_join}, {"last", f_last}, {"length", f_length},
    {"list", f_list}, {"lower", f_lower}, {"map", f_map}, {"max", f_max}, {"min", f_min}, {"pprint", nullptr},
    {"random", nullptr}, {"reject", f_reject}, {"rejectattr", f_rejectattr}, {"replace", f_replace},
    {"reverse", f_reverse}, {"round", f_round}, {"safe", f_safe}, {"select", f_select},
    {"selectattr", f_selectattr}, {"slice", nullptr}, {"sort", f_sort}, {"string", f_string},
    {"striptags", nullptr}, {"sum", f_sum}, {"title", f_title}, {"tojson", f_tojson}, {"trim", f_trim},
    {"truncate", nullptr}, {"unique", f_unique}, {"upper", f_upper}, {"urlencode", nullptr},
    {"urlize", nullptr}, {"wordcount", f_wordcount}, {"wordwrap", nullptr}, {"xmlattr", nullptr},
};

const FilterEntry* find_entry(std::string_view name) {
  for (const FilterEntry& e : kFilters) {
    if (name == e.name) return &e;
  }
  return nullptr;
}

}  // namespace

bool jinja_has_filter(std::string_view name) { return find_entry(name) != nullptr; }

FilterFn find_filter(std::string_view name) {
  const FilterEntry* e = find_entry(name);
  return e ? e->fn : nullptr;
}

}  // namespace nomoat::jinja
