#include "chat/jinja_value.h"

#include <algorithm>
#include <cmath>

#include "chat/py_text.h"

namespace nomoat::jinja {
namespace {

struct UndefinedData {
  std::string message;
};

const std::string& empty_string() {
  static const std::string empty;
  return empty;
}

std::string join_repr(const std::vector<Value>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    out += repr(items[i]);
  }
  return out;
}

// Exact comparison of two numbers of any kind (int64 fits long double's mantissa).
int compare_numbers(const Value& a, const Value& b) {
  if (a.is_integral() && b.is_integral()) return a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int();
  const long double x = a.is_float() ? static_cast<long double>(a.as_float()) : static_cast<long double>(a.as_int());
  const long double y = b.is_float() ? static_cast<long double>(b.as_float()) : static_cast<long double>(b.as_int());
  if (x < y) return -1;
  if (x > y) return 1;
  return x == y ? 0 : 2;  // 2: unordered (nan)
}

}  // namespace

// ---------------------------------------------------------------- Value

Value Value::undefined(std::string message, bool security) {
  Value v;
  v.markup_ = security;
  v.ptr_ = std::make_shared<const UndefinedData>(UndefinedData{std::move(message)});
  return v;
}

Value Value::none() {
  Value v;
  v.kind_ = Kind::kNone;
  return v;
}

Value Value::boolean(bool b) {
  Value v;
  v.kind_ = Kind::kBool;
  v.int_ = b ? 1 : 0;
  return v;
}

Value Value::integer(int64_t i) {
  Value v;
  v.kind_ = Kind::kInt;
  v.int_ = i;
  return v;
}

Value Value::number(double d) {
  Value v;
  v.kind_ = Kind::kFloat;
  v.float_ = d;
  return v;
}

Value Value::string(std::string s, bool markup) {
  Value v;
  v.kind_ = Kind::kString;
  v.markup_ = markup;
  v.ptr_ = std::make_shared<const std::string>(std::move(s));
  return v;
}

uint32_t container_depth(uint32_t inner) {
  if (inner >= kMaxValueDepth) template_fail("a value nested deeper than ", kMaxValueDepth, " levels");
  return inner + 1;
}

uint32_t Value::depth() const {
  switch (kind_) {
    case Kind::kList: return list_data().depth;
    case Kind::kDict: return dict().depth;
    case Kind::kIterator: return iter().depth;
    case Kind::kObject: return object().nesting_depth();
    default: return 0;
  }
}

Value Value::list(std::vector<Value> items, ListFlavor flavor) {
  uint32_t inner = 0;
  for (const Value& item : items) inner = std::max(inner, item.depth());
  Value v;
  v.kind_ = Kind::kList;
  auto data = std::make_shared<ListData>();
  data->depth = container_depth(inner);
  data->items = std::move(items);
  data->flavor = flavor;
  v.ptr_ = std::move(data);
  return v;
}

Value Value::range(int64_t start, int64_t stop, int64_t step) {
  Value v;
  v.kind_ = Kind::kList;
  auto data = std::make_shared<ListData>();
  data->flavor = ListFlavor::kRange;
  data->start = start;
  data->stop = stop;
  data->step = step;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) data->items.push_back(integer(i));
  v.ptr_ = std::move(data);
  return v;
}

Value Value::dict(DictData d) {
  uint32_t inner = 0;
  for (const auto& [key, value] : d.entries) inner = std::max({inner, key.depth(), value.depth()});
  d.depth = container_depth(inner);
  Value v;
  v.kind_ = Kind::kDict;
  v.ptr_ = std::make_shared<const DictData>(std::move(d));
  return v;
}

Value Value::object(std::shared_ptr<Object> o) {
  Value v;
  v.kind_ = Kind::kObject;
  v.ptr_ = std::move(o);
  return v;
}

Value Value::iterator(std::string type_name, std::function<std::optional<Value>()> next, uint32_t depth) {
  if (depth > kMaxValueDepth) template_fail("a value nested deeper than ", kMaxValueDepth, " levels");
  Value v;
  v.kind_ = Kind::kIterator;
  v.ptr_ = std::make_shared<IteratorData>(IteratorData{std::move(type_name), std::move(next), depth});
  return v;
}

bool Value::is_sequence_of(ListFlavor f) const { return kind_ == Kind::kList && flavor() == f; }

const std::string& Value::str() const {
  return kind_ == Kind::kString ? *std::static_pointer_cast<const std::string>(ptr_) : empty_string();
}

const ListData& Value::list_data() const { return *std::static_pointer_cast<const ListData>(ptr_); }
const std::vector<Value>& Value::items() const { return list_data().items; }
ListFlavor Value::flavor() const { return list_data().flavor; }
const DictData& Value::dict() const { return *std::static_pointer_cast<const DictData>(ptr_); }

std::string Value::undefined_message() const {
  if (ptr_ == nullptr) return "undefined value";
  return std::static_pointer_cast<const UndefinedData>(ptr_)->message;
}

// ---------------------------------------------------------------- DictData

const Value* DictData::find(const Value& key) const {
  const auto it = index.find(hash_key(key));
  return it == index.end() ? nullptr : &entries[it->second].second;
}

const Value* DictData::find(const std::string& key) const {
  const auto it = index.find("s" + key);
  return it == index.end() ? nullptr : &entries[it->second].second;
}

void DictData::set(const Value& key, Value value) {
  const auto [it, inserted] = index.emplace(hash_key(key), entries.size());
  if (inserted) {
    entries.emplace_back(key, std::move(value));
  } else {
    entries[it->second].second = std::move(value);
  }
}

// ---------------------------------------------------------------- Object

std::string Object::repr() const { template_fail("cannot print a '", type_name(), "' object"); }

Value Object::attribute(const std::string& name) {
  return Value::undefined(cat(py_repr_string(module() == "builtins" ? type_name() + " object"
                                                                     : module() + "." + type_name() + " object"),
                              " has no attribute ", py_repr_string(name)));
}

Value Object::call(Evaluator&, CallArgs&) { template_fail("'", type_name(), "' object is not callable"); }

// ---------------------------------------------------------------- semantics

std::string type_name(const Value& v) {
  switch (v.kind()) {
    case Kind::kUndefined: return "Undefined";
    case Kind::kNone: return "NoneType";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kFloat: return "float";
    case Kind::kString: return v.markup() ? "Markup" : "str";
    case Kind::kList:
      switch (v.flavor()) {
        case ListFlavor::kList: return "list";
        case ListFlavor::kTuple: return "tuple";
        case ListFlavor::kRange: return "range";
        case ListFlavor::kDictKeys: return "dict_keys";
        case ListFlavor::kDictValues: return "dict_values";
        case ListFlavor::kDictItems: return "dict_items";
      }
      break;
    case Kind::kDict: return "dict";
    case Kind::kObject: return v.object().type_name();
    case Kind::kIterator: return v.iter().type_name;
  }
  return "object";
}

std::string object_type_repr(const Value& v) {
  if (v.is_none()) return "None";
  if (v.is_undefined()) return "jinja2.runtime.Undefined object";
  if (v.is_string() && v.markup()) return "markupsafe.Markup object";
  if (v.is_object() && v.object().module() != "builtins") {
    return v.object().module() + "." + v.object().type_name() + " object";
  }
  return type_name(v) + " object";
}

bool truthy(const Value& v) {
  switch (v.kind()) {
    case Kind::kUndefined:
    case Kind::kNone: return false;
    case Kind::kBool:
    case Kind::kInt: return v.as_int() != 0;
    case Kind::kFloat: return v.as_float() != 0.0;
    case Kind::kString: return !v.str().empty();
    case Kind::kList: return !v.items().empty();
    case Kind::kDict: return v.dict().size() != 0;
    case Kind::kObject: {
      const auto n = v.object().length();
      return !n || *n != 0;
    }
    case Kind::kIterator: return true;
  }
  return true;
}

std::string repr(const Value& v) {
  switch (v.kind()) {
    case Kind::kUndefined: return "Undefined";
    case Kind::kNone: return "None";
    case Kind::kBool: return v.as_bool() ? "True" : "False";
    case Kind::kInt: return std::to_string(v.as_int());
    case Kind::kFloat: return py_repr_float(v.as_float());
    case Kind::kString: return v.markup() ? "Markup(" + py_repr_string(v.str()) + ")" : py_repr_string(v.str());
    case Kind::kList: {
      const ListData& l = v.list_data();
      switch (l.flavor) {
        case ListFlavor::kList: return "[" + join_repr(l.items) + "]";
        case ListFlavor::kTuple:
          return "(" + join_repr(l.items) + (l.items.size() == 1 ? ",)" : ")");
        case ListFlavor::kRange:
          return cat("range(", l.start, ", ", l.stop, l.step != 1 ? cat(", ", l.step) : std::string(), ")");
        case ListFlavor::kDictKeys: return "dict_keys([" + join_repr(l.items) + "])";
        case ListFlavor::kDictValues: return "dict_values([" + join_repr(l.items) + "])";
        case ListFlavor::kDictItems: return "dict_items([" + join_repr(l.items) + "])";
      }
      break;
    }
    case Kind::kDict: {
      std::string out = "{";
      bool first = true;
      for (const auto& [key, value] : v.dict().entries) {
        if (!first) out += ", ";
        first = false;
        out += repr(key) + ": " + repr(value);
      }
      return out + "}";
    }
    case Kind::kObject: return v.object().repr();
    case Kind::kIterator:
      template_fail("cannot print a '", v.iter().type_name, "' object (its Python text names a memory address; add |list)");
  }
  return "";
}

std::string to_str(const Value& v) {
  switch (v.kind()) {
    case Kind::kUndefined: return "";
    case Kind::kString: return v.str();
    default: return repr(v);
  }
}

bool equal(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) return compare_numbers(a, b) == 0;
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Kind::kUndefined:
    case Kind::kNone: return true;
    case Kind::kString: return a.str() == b.str();
    case Kind::kList: {
      const ListData& x = a.list_data();
      const ListData& y = b.list_data();
      if (x.flavor != y.flavor || x.items.size() != y.items.size()) return false;
      if (x.flavor == ListFlavor::kDictValues) return a.identity() == b.identity();
      for (size_t i = 0; i < x.items.size(); ++i) {
        if (!equal(x.items[i], y.items[i])) return false;
      }
      return true;
    }
    case Kind::kDict: {
      const DictData& x = a.dict();
      const DictData& y = b.dict();
      if (x.size() != y.size()) return false;
      for (const auto& [key, value] : x.entries) {
        const Value* other = y.find(key);
        if (other == nullptr || !equal(value, *other)) return false;
      }
      return true;
    }
    default: return a.identity() == b.identity();
  }
}

bool less_than(const Value& a, const Value& b, const char* op) {
  if (a.is_undefined()) fail_undefined(a);
  if (b.is_undefined()) fail_undefined(b);
  if (a.is_number() && b.is_number()) return compare_numbers(a, b) == -1;
  if (a.is_string() && b.is_string()) return a.str() < b.str();  // UTF-8 byte order is code point order
  if (a.is_list() && b.is_list() && a.flavor() == b.flavor() &&
      (a.flavor() == ListFlavor::kList || a.flavor() == ListFlavor::kTuple)) {
    const auto& x = a.items();
    const auto& y = b.items();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (!equal(x[i], y[i])) return less_than(x[i], y[i], op);
    }
    return x.size() < y.size();
  }
  template_fail("'", op, "' not supported between instances of '", type_name(a), "' and '", type_name(b), "'");
}

std::string hash_key(const Value& v) {
  switch (v.kind()) {
    case Kind::kUndefined: return "u";
    case Kind::kNone: return "n";
    case Kind::kBool:
    case Kind::kInt: return cat('i', v.as_int());
    case Kind::kFloat: {
      const double d = v.as_float();
      if (std::trunc(d) == d && std::fabs(d) < 9.2e18) return cat('i', static_cast<int64_t>(d));
      return cat('f', py_repr_float(d));
    }
    case Kind::kString: return cat('s', v.str());
    case Kind::kList:
      if (v.flavor() == ListFlavor::kTuple) {
        std::string key = cat('t', v.items().size());
        for (const Value& item : v.items()) {
          const std::string k = hash_key(item);
          key += cat(':', k.size(), ':', k);
        }
        return key;
      }
      break;
    case Kind::kObject:
    case Kind::kIterator: return cat("o", std::to_string(reinterpret_cast<uintptr_t>(v.identity())));
    case Kind::kDict: break;
  }
  template_fail("unhashable type: '", type_name(v), "'");
}

int64_t length(const Value& v) {
  switch (v.kind()) {
    case Kind::kUndefined: return 0;
    case Kind::kString: return code_point_count(v.str());
    case Kind::kList: return static_cast<int64_t>(v.items().size());
    case Kind::kDict: return static_cast<int64_t>(v.dict().size());
    case Kind::kObject:
      if (const auto n = v.object().length()) return *n;
      break;
    default: break;
  }
  template_fail("object of type '", type_name(v), "' has no len()");
}

ValueIterator::ValueIterator(const Value& v) : source_(v) {
  switch (v.kind()) {
    case Kind::kUndefined:
    case Kind::kList:
    case Kind::kDict:
    case Kind::kIterator: break;
    case Kind::kString: text_ = v.str(); break;
    default: template_fail("'", type_name(v), "' object is not iterable");
  }
}

std::optional<Value> ValueIterator::next() {
  switch (source_.kind()) {
    case Kind::kList:
      if (pos_ < source_.items().size()) return source_.items()[pos_++];
      return std::nullopt;
    case Kind::kDict:
      if (pos_ < source_.dict().size()) return source_.dict().entries[pos_++].first;
      return std::nullopt;
    case Kind::kString: {
      if (pos_ >= text_.size()) return std::nullopt;
      size_t end = pos_ + 1;
      while (end < text_.size() && (static_cast<unsigned char>(text_[end]) & 0xC0) == 0x80) ++end;
      Value ch = Value::string(text_.substr(pos_, end - pos_));  // iterating a Markup yields plain str
      pos_ = end;
      return ch;
    }
    case Kind::kIterator: return source_.iter().next();
    default: return std::nullopt;
  }
}

std::vector<Value> to_vector(const Value& v) {
  if (v.is_list()) return v.items();
  std::vector<Value> out;
  ValueIterator it(v);
  while (auto item = it.next()) out.push_back(std::move(*item));
  return out;
}

void fail_undefined(const Value& v) { throw TemplateError(v.undefined_message()); }

Value missing_attribute(const Value& obj, const std::string& name) {
  return Value::undefined(cat(py_repr_string(object_type_repr(obj)), " has no attribute ", py_repr_string(name)));
}

Value missing_item(const Value& obj, const Value& key) {
  if (key.is_string()) return missing_attribute(obj, key.str());
  return Value::undefined(cat(object_type_repr(obj), " has no element ", repr(key)));
}

namespace {

Value from_json_at(const nlohmann::ordered_json& j, uint32_t depth) {
  if (depth > kMaxValueDepth) template_fail("the input nests deeper than ", kMaxValueDepth, " levels");
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null: return Value::none();
    case nlohmann::ordered_json::value_t::boolean: return Value::boolean(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer: return Value::integer(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      const uint64_t u = j.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) template_fail("integer ", u, " in the input is too large");
      return Value::integer(static_cast<int64_t>(u));
    }
    case nlohmann::ordered_json::value_t::number_float: return Value::number(j.get<double>());
    case nlohmann::ordered_json::value_t::string: return Value::string(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      std::vector<Value> items;
      items.reserve(j.size());
      for (const auto& item : j) items.push_back(from_json_at(item, depth + 1));
      return Value::list(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      DictData d;
      for (const auto& [key, value] : j.items()) d.set(Value::string(key), from_json_at(value, depth + 1));
      return Value::dict(std::move(d));
    }
    default: template_fail("unsupported JSON value in the input");
  }
}

}  // namespace

Value from_json(const nlohmann::ordered_json& j) { return from_json_at(j, 0); }

}  // namespace nomoat::jinja
