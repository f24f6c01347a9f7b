// Jinja2's built-in filters, tests and globals as Hugging Face's chat
// template environment has them (tojson overridden to call json.dumps,
// raise_exception and strftime_now added). Names Jinja2 knows but nomoat
// does not implement (wordwrap, urlize, random, ...) are recognized at parse
// time and fail with a clear message if a render reaches them.
#pragma once

#include <string_view>

#include "chat/jinja_value.h"

namespace nomoat::jinja {

struct Scope;

// Known to Jinja2 (or added by transformers): the parser accepts the name.
bool jinja_has_filter(std::string_view name);
bool jinja_has_test(std::string_view name);

using FilterFn = Value (*)(Evaluator& ev, const Value& subject, CallArgs& args);
using TestFn = bool (*)(Evaluator& ev, const Value& subject, CallArgs& args);
// Null when nomoat does not implement the filter/test.
FilterFn find_filter(std::string_view name);
TestFn find_test(std::string_view name);

// range, namespace, dict, joiner, cycler, lipsum, raise_exception, strftime_now.
void add_globals(Scope& scope);

Value make_namespace(Evaluator& ev, CallArgs& args);  // namespace(...)

// The object namespace() makes: attributes a template may assign with
// {% set ns.attr = value %}.
class Namespace : public Object {
 public:
  std::string type_name() const override { return "Namespace"; }
  std::string module() const override { return "jinja2.utils"; }
  std::string repr() const override;
  Value attribute(const std::string& name) override;
  void set(const std::string& name, Value value);
  uint32_t nesting_depth() const override { return depth_; }
  void clear_references() override { attrs_ = DictData(); }

 private:
  DictData attrs_;
  uint32_t depth_ = 1;
  friend Value make_namespace(Evaluator& ev, CallArgs& args);
};

}  // namespace nomoat::jinja
