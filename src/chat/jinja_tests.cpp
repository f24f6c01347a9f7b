// Jinja2's built-in tests (`x is defined`, `x is string`, ...).
#include "chat/jinja_args.h"
#include "chat/jinja_builtins.h"
#include "chat/jinja_ops.h"
#include "chat/py_text.h"

namespace nomoat::jinja {
namespace {

bool no_args(const char* name, CallArgs& args) {
  Args(cat("test '", name, "'"), args, {});
  return true;
}

bool t_defined(Evaluator&, const Value& v, CallArgs& a) { return no_args("defined", a) && !v.is_undefined(); }
bool t_undefined(Evaluator&, const Value& v, CallArgs& a) { return no_args("undefined", a) && v.is_undefined(); }
bool t_none(Evaluator&, const Value& v, CallArgs& a) { return no_args("none", a) && v.is_none(); }
bool t_boolean(Evaluator&, const Value& v, CallArgs& a) { return no_args("boolean", a) && v.is_bool(); }
bool t_true(Evaluator&, const Value& v, CallArgs& a) { return no_args("true", a) && v.is_bool() && v.as_bool(); }
bool t_false(Evaluator&, const Value& v, CallArgs& a) { return no_args("false", a) && v.is_bool() && !v.as_bool(); }
bool t_integer(Evaluator&, const Value& v, CallArgs& a) { return no_args("integer", a) && v.is_int(); }
bool t_float(Evaluator&, const Value& v, CallArgs& a) { return no_args("float", a) && v.is_float(); }
bool t_number(Evaluator&, const Value& v, CallArgs& a) { return no_args("number", a) && v.is_number(); }
bool t_string(Evaluator&, const Value& v, CallArgs& a) { return no_args("string", a) && v.is_string(); }
bool t_mapping(Evaluator&, const Value& v, CallArgs& a) { return no_args("mapping", a) && v.is_dict(); }
bool t_escaped(Evaluator&, const Value& v, CallArgs& a) { return no_args("escaped", a) && v.is_string() && v.markup(); }

// len() and __getitem__: str, list, tuple, range, dict, and Undefined (which has both).
bool t_sequence(Evaluator&, const Value& v, CallArgs& a) {
  no_args("sequence", a);
  if (v.is_undefined() || v.is_string() || v.is_dict()) return true;
  return v.is_list() && (v.flavor() == ListFlavor::kList || v.flavor() == ListFlavor::kTuple ||
                         v.flavor() == ListFlavor::kRange);
}

bool t_iterable(Evaluator&, const Value& v, CallArgs& a) {
  no_args("iterable", a);
  if (v.is_object()) return v.object().type_name() == "LoopContext";
  return v.is_undefined() || v.is_string() || v.is_list() || v.is_dict() || v.is_iterator();
}

bool t_callable(Evaluator&, const Value& v, CallArgs& a) {
  no_args("callable", a);
  return v.is_undefined() || (v.is_object() && v.object().is_callable());
}

bool t_lower(Evaluator&, const Value& v, CallArgs& a) { return no_args("lower", a) && py_islower(to_str(v)); }
bool t_upper(Evaluator&, const Value& v, CallArgs& a) { return no_args("upper", a) && py_isupper(to_str(v)); }

bool t_odd(Evaluator&, const Value& v, CallArgs& a) {
  no_args("odd", a);
  return equal(binary_op(BinaryOp::kMod, v, Value::integer(2)), Value::integer(1));
}
bool t_even(Evaluator&, const Value& v, CallArgs& a) {
  no_args("even", a);
  return equal(binary_op(BinaryOp::kMod, v, Value::integer(2)), Value::integer(0));
}
bool t_divisibleby(Evaluator&, const Value& v, CallArgs& args) {
  const Args a("test 'divisibleby'", args, {"num"}, 1);
  return equal(binary_op(BinaryOp::kMod, v, a[0]), Value::integer(0));
}

template <CompareOp Op>
bool t_compare(Evaluator&, const Value& v, CallArgs& args) {
  const Args a("comparison test", args, {"other"}, 1);
  return compare(Op, v, a[0]);
}

bool t_in(Evaluator&, const Value& v, CallArgs& args) {
  const Args a("test 'in'", args, {"seq"}, 1);
  return contains(a[0], v);
}

// `is sameas` is Python's identity; only the singletons have a defined one.
bool t_sameas(Evaluator&, const Value& v, CallArgs& args) {
  const Args a("test 'sameas'", args, {"other"}, 1);
  const Value& o = a[0];
  auto singleton = [](const Value& x) { return x.is_none() || x.is_bool(); };
  if (singleton(v) || singleton(o)) return v.kind() == o.kind() && (v.is_none() || v.as_bool() == o.as_bool());
  auto by_reference = [](const Value& x) { return x.is_object() || x.is_list() || x.is_dict() || x.is_iterator(); };
  if (by_reference(v)) return v.identity() == o.identity();
  if (by_reference(o)) return false;
  template_fail("test 'sameas' is only supported against none, true and false");
}

bool t_filter(Evaluator&, const Value& v, CallArgs& a) {
  return no_args("filter", a) && v.is_string() && jinja_has_filter(v.str());
}
bool t_test(Evaluator&, const Value& v, CallArgs& a) {
  return no_args("test", a) && v.is_string() && jinja_has_test(v.str());
}

struct TestEntry {
  const char* name;
  TestFn fn;
};

constexpr TestEntry kTests[] = {
    {"odd", t_odd}, {"even", t_even}, {"divisibleby", t_divisibleby}, {"defined", t_defined},
    {"undefined", t_undefined}, {"filter", t_filter}, {"test", t_test}, {"none", t_none},
    {"boolean", t_boolean}, {"false", t_false}, {"true", t_true}, {"integer", t_integer}, {"float", t_float},
    {"lower", t_lower}, {"upper", t_upper}, {"string", t_string}, {"mapping", t_mapping}, {"number", t_number},
    {"sequence", t_sequence}, {"iterable", t_iterable}, {"callable", t_callable}, {"sameas", t_sameas},
    {"escaped", t_escaped}, {"in", t_in}, {"==", t_compare<CompareOp::kEq>}, {"eq", t_compare<CompareOp::kEq>},
    {"equalto", t_compare<CompareOp::kEq>}, {"!=", t_compare<CompareOp::kNe>}, {"ne", t_compare<CompareOp::kNe>},
    {">", t_compare<CompareOp::kGt>}, {"gt", t_compare<CompareOp::kGt>},
    {"greaterthan", t_compare<CompareOp::kGt>}, {"ge", t_compare<CompareOp::kGe>},
    {">=", t_compare<CompareOp::kGe>}, {"<", t_compare<CompareOp::kLt>}, {"lt", t_compare<CompareOp::kLt>},
    {"lessthan", t_compare<CompareOp::kLt>}, {"<=", t_compare<CompareOp::kLe>},
    {"le", t_compare<CompareOp::kLe>},
};

const TestEntry* find_entry(std::string_view name) {
  for (const TestEntry& e : kTests) {
    if (name == e.name) return &e;
  }
  return nullptr;
}

}  // namespace

bool jinja_has_test(std::string_view name) { return find_entry(name) != nullptr; }

TestFn find_test(std::string_view name) {
  const TestEntry* e = find_entry(name);
  return e ? e->fn : nullptr;
}

}  // namespace nomoat::jinja
