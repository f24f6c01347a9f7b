// Binds a call's arguments to a Python-style signature (positional, then
// by keyword), failing the way Python does for too many or unknown ones.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/jinja_value.h"

namespace nomoat::jinja {

class Args {
 public:
  // `what` names the callee in errors ("filter 'indent'", "str.split").
  // The first `required` names must be given.
  Args(std::string what, const CallArgs& args, std::initializer_list<std::string_view> names, size_t required = 0)
      : what_(std::move(what)), names_(names), slots_(names.size()) {
    if (args.positional.size() > names_.size()) {
      template_fail(what_, " takes at most ", names_.size(), " argument", names_.size() == 1 ? "" : "s", " (",
                    args.positional.size(), " given)");
    }
    for (size_t i = 0; i < args.positional.size(); ++i) slots_[i] = args.positional[i];
    for (const auto& [key, value] : args.keyword) {
      size_t i = 0;
      while (i < names_.size() && names_[i] != key) ++i;
      if (i == names_.size()) template_fail(what_, " got an unexpected keyword argument '", key, "'");
      if (slots_[i]) template_fail(what_, " got multiple values for argument '", key, "'");
      slots_[i] = value;
    }
    for (size_t i = 0; i < required && i < names_.size(); ++i) {
      if (!slots_[i]) template_fail(what_, " missing required argument '", names_[i], "'");
    }
  }

  bool has(size_t i) const { return slots_[i].has_value(); }
  // Given and not None.
  bool given(size_t i) const { return slots_[i].has_value() && !slots_[i]->is_none(); }
  const Value& operator[](size_t i) const {
    static const Value kMissing{};
    return slots_[i] ? *slots_[i] : kMissing;
  }
  Value get(size_t i, Value fallback) const { return slots_[i] ? *slots_[i] : std::move(fallback); }
  const std::string& what() const { return what_; }

  // Argument i as an int (bool counts); fails naming the argument otherwise.
  int64_t int_at(size_t i) const {
    const Value& v = (*this)[i];
    if (v.is_undefined()) fail_undefined(v);
    if (!v.is_integral()) {
      template_fail(what_, ": argument '", names_[i], "' must be an integer, not '", type_name(v), "'");
    }
    return v.as_int();
  }
  // Argument i as a str; fails naming the argument otherwise.
  const std::string& str_at(size_t i) const {
    const Value& v = (*this)[i];
    if (v.is_undefined()) fail_undefined(v);
    if (!v.is_string()) template_fail(what_, ": argument '", names_[i], "' must be a string, not '", type_name(v), "'");
    return v.str();
  }

 private:
  std::string what_;
  std::vector<std::string_view> names_;
  std::vector<std::optional<Value>> slots_;
};

}  // namespace nomoat::jinja
