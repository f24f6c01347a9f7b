// Python's operators on template values: arithmetic with int/float
// promotion, floor division and modulo rounding toward -inf, sequence
// concatenation and repetition, membership, subscripts and slices, and
// Jinja2's sandboxed item lookup (a failed lookup gives undefined).
#pragma once

#include <optional>

#include "chat/jinja_ast.h"
#include "chat/jinja_value.h"

namespace nomoat::jinja {

// The longest string one operation may build during the current render
// (RenderLimits::max_string_bytes): a template cannot grow one without bound.
size_t max_string_bytes();
class StringLimitScope {  // sets it for one render
 public:
  explicit StringLimitScope(size_t limit);
  ~StringLimitScope();
  StringLimitScope(const StringLimitScope&) = delete;
  StringLimitScope& operator=(const StringLimitScope&) = delete;

 private:
  size_t saved_;
};

Value binary_op(BinaryOp op, const Value& a, const Value& b);  // not and/or
Value negate(const Value& v);
Value unary_plus(const Value& v);
bool contains(const Value& container, const Value& item);  // `item in container`
bool compare(CompareOp op, const Value& a, const Value& b);

// obj[key] as Jinja2's sandbox does it (falls back to attributes for str keys).
Value get_item(const Value& obj, const Value& key);
// obj[start:stop:step] for str, list, tuple and range; unset bounds are nullopt.
Value get_slice(const Value& obj, const std::optional<Value>& start, const std::optional<Value>& stop,
                const std::optional<Value>& step);

// Markup's HTML escaping (& < > ' ").
std::string html_escape(std::string_view s);

}  // namespace nomoat::jinja
