// Attribute access as Jinja2's immutable sandbox resolves it: the Python
// attributes of str, dict, list, tuple, int, float and range (methods come
// back as bound method objects; those that would mutate a dict or list come
// back as an undefined that raises SecurityError when used), then dict keys,
// then undefined.
#pragma once

#include <optional>
#include <string>

#include "chat/jinja_value.h"

namespace nomoat::jinja {

// obj.name
Value get_attr(const Value& obj, const std::string& name);

// The Python attribute `name` of obj's builtin type, nullopt if the type has
// none. Implemented methods come back callable; the others raise a clear
// "not supported" error when called.
std::optional<Value> python_attribute(const Value& obj, const std::string& name);

// A method or function implemented natively.
using NativeFn = Value (*)(Evaluator& ev, const Value& self, CallArgs& args);

// A method bound to its receiver (str.split, dict.items, loop.cycle, ...).
class BoundMethod : public Object {
 public:
  BoundMethod(Value self, std::string owner, std::string name, NativeFn fn)
      : self_(std::move(self)), owner_(std::move(owner)), name_(std::move(name)), fn_(fn),
        depth_(container_depth(self_.depth())) {}
  std::string type_name() const override { return "builtin_function_or_method"; }
  bool is_callable() const override { return true; }
  Value call(Evaluator& ev, CallArgs& args) override;
  uint32_t nesting_depth() const override { return depth_; }

 private:
  Value self_;
  std::string owner_, name_;
  NativeFn fn_;  // null: a Python method nomoat does not implement
  uint32_t depth_;
};

}  // namespace nomoat::jinja
