// Values inside the template interpreter, with the Python semantics that
// Jinja2 inherits: str()/repr() printing, truthiness, equality and ordering
// across int/float/bool, insertion-ordered dicts, one-shot iterators
// (generators) and Jinja2's Undefined, which prints as '' but fails when used.
//
// Lists and dicts are immutable once built (HF renders in Jinja2's immutable
// sandbox), so they are shared by pointer; namespaces and loop objects are
// the only mutable things a template sees.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/error.h"

namespace nomoat::jinja {

// A failure while parsing or rendering; `line` is the template line (0
// until the interpreter knows which node it came from).
class TemplateError : public std::runtime_error {
 public:
  explicit TemplateError(const std::string& message, int line = 0) : std::runtime_error(message), line(line) {}
  int line;
};

template <typename... Parts>
[[noreturn]] void template_fail(const Parts&... parts) {
  throw TemplateError(cat(parts...));
}

// Values nest at most this deep (lists in lists, namespaces holding
// namespaces, ...): printing, comparing and freeing them recurse, and a
// template could otherwise build one deep enough to overflow the stack.
// (Python's own recursion limit stops such values at about 1000.)
inline constexpr uint32_t kMaxValueDepth = 512;

class Value;
class Object;
class Evaluator;
struct ListData;
struct DictData;
struct IteratorData;

enum class Kind : uint8_t { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kDict, kObject, kIterator };

// Python sequence types that share the list representation.
enum class ListFlavor : uint8_t { kList, kTuple, kRange, kDictKeys, kDictValues, kDictItems };

// Arguments of a call: f(a, b, key=c).
struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
};

class Value {
 public:
  Value() = default;  // undefined
  static Value undefined(std::string message, bool security = false);
  static Value none();
  static Value boolean(bool b);
  static Value integer(int64_t i);
  static Value number(double d);
  static Value string(std::string s, bool markup = false);
  static Value list(std::vector<Value> items, ListFlavor flavor = ListFlavor::kList);
  static Value tuple(std::vector<Value> items) { return list(std::move(items), ListFlavor::kTuple); }
  static Value range(int64_t start, int64_t stop, int64_t step);
  static Value dict(DictData d);
  static Value object(std::shared_ptr<Object> o);
  // A one-shot iterator (a Python generator): `next` returns nullopt when done.
  // `depth`: 1 + the depth of the values it holds (kMaxValueDepth applies).
  static Value iterator(std::string type_name, std::function<std::optional<Value>()> next, uint32_t depth = 1);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_int() const { return kind_ == Kind::kInt; }
  bool is_float() const { return kind_ == Kind::kFloat; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_list() const { return kind_ == Kind::kList; }
  bool is_dict() const { return kind_ == Kind::kDict; }
  bool is_object() const { return kind_ == Kind::kObject; }
  bool is_iterator() const { return kind_ == Kind::kIterator; }
  // Python's numbers.Number: bool, int, float.
  bool is_number() const { return kind_ == Kind::kBool || kind_ == Kind::kInt || kind_ == Kind::kFloat; }
  // int or bool (bool is an int subclass in Python).
  bool is_integral() const { return kind_ == Kind::kBool || kind_ == Kind::kInt; }
  bool is_sequence_of(ListFlavor f) const;

  bool as_bool() const { return int_ != 0; }
  int64_t as_int() const { return int_; }
  double as_float() const { return kind_ == Kind::kFloat ? float_ : static_cast<double>(int_); }
  const std::string& str() const;
  bool markup() const { return markup_; }  // a |safe (Markup) string
  const std::vector<Value>& items() const;
  const ListData& list_data() const;
  ListFlavor flavor() const;
  const DictData& dict() const;
  Object& object() const { return *std::static_pointer_cast<Object>(std::const_pointer_cast<void>(ptr_)); }
  std::shared_ptr<Object> object_ptr() const {
    return std::static_pointer_cast<Object>(std::const_pointer_cast<void>(ptr_));
  }
  IteratorData& iter() const {
    return *std::static_pointer_cast<IteratorData>(std::const_pointer_cast<void>(ptr_));
  }
  // Undefined: the message raised when it is used; whether it is a sandbox refusal.
  std::string undefined_message() const;
  bool undefined_is_security() const { return markup_; }
  const void* identity() const { return ptr_.get(); }
  // How deep containers nest inside this value (0 for scalars).
  uint32_t depth() const;

 private:
  Kind kind_ = Kind::kUndefined;
  bool markup_ = false;  // strings: Markup; undefined: a sandbox refusal
  union {
    int64_t int_ = 0;
    double float_;
  };
  std::shared_ptr<const void> ptr_;
};

struct ListData {
  std::vector<Value> items;
  ListFlavor flavor = ListFlavor::kList;
  int64_t start = 0, stop = 0, step = 1;  // kRange: what repr() prints
  uint32_t depth = 1;
};

// Insertion-ordered dict keyed by any hashable value.
struct DictData {
  std::vector<std::pair<Value, Value>> entries;
  std::unordered_map<std::string, size_t> index;  // hash_key(key) -> entry
  uint32_t depth = 1;                             // set by Value::dict

  const Value* find(const Value& key) const;
  const Value* find(const std::string& key) const;  // a str key
  void set(const Value& key, Value value);          // replaces in place, else appends
  size_t size() const { return entries.size(); }
};

struct IteratorData {
  std::string type_name;  // "generator", "list_reverseiterator", ...
  std::function<std::optional<Value>()> next;
  uint32_t depth = 1;
};

// Objects with attributes and/or a call operator: namespaces, loop
// contexts, macros, bound methods, global functions.
class Object {
 public:
  virtual ~Object() = default;
  virtual std::string type_name() const = 0;  // Python's type(x).__name__
  virtual std::string module() const { return "builtins"; }  // type(x).__module__
  virtual std::string repr() const;           // fails by default: no stable repr
  virtual Value attribute(const std::string& name);
  virtual bool is_callable() const { return false; }
  virtual Value call(Evaluator& ev, CallArgs& args);
  virtual std::optional<int64_t> length() const { return std::nullopt; }
  // 1 + the depth of the values it holds (0: holds none).
  virtual uint32_t nesting_depth() const { return 0; }
  // Drops the values it holds (run when a render ends: breaks reference
  // cycles a template made through namespaces).
  virtual void clear_references() {}
};

// Fails when a container holding values of depth `inner` would nest too deep.
uint32_t container_depth(uint32_t inner);

// ---- Python semantics

std::string type_name(const Value& v);         // 'str', 'int', 'dict', 'NoneType', ...
std::string object_type_repr(const Value& v);  // Jinja2's "dict object", "None", ...
bool truthy(const Value& v);
std::string to_str(const Value& v);  // str(v); '' for undefined
std::string repr(const Value& v);
bool equal(const Value& a, const Value& b);
// a < b; throws "'<' not supported between instances of ..." (op names the operator)
bool less_than(const Value& a, const Value& b, const char* op = "<");
// Identity of a hashable value for dict keys and sets; throws for unhashable types.
std::string hash_key(const Value& v);
int64_t length(const Value& v);  // len(v)
// Python iteration: str yields code points, dict its keys, undefined nothing.
class ValueIterator {
 public:
  explicit ValueIterator(const Value& v);
  std::optional<Value> next();

 private:
  Value source_;
  size_t pos_ = 0;
  std::string text_;  // strings: the text being split into code points
};
std::vector<Value> to_vector(const Value& v);  // list(v)
// Throws the UndefinedError (or SecurityError) an undefined value carries.
[[noreturn]] void fail_undefined(const Value& v);
// The undefined value for a missing attribute / item of `obj`.
Value missing_attribute(const Value& obj, const std::string& name);
Value missing_item(const Value& obj, const Value& key);

Value from_json(const nlohmann::ordered_json& j);

}  // namespace nomoat::jinja
