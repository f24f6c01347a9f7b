#include "chat/jinja_ops.h"

#include <cmath>
#include <limits>

#include "chat/jinja_methods.h"
#include "chat/py_text.h"

namespace nomoat::jinja {
namespace {

thread_local size_t string_limit = size_t{64} << 20;

[[noreturn]] void unsupported_operands(const char* op, const Value& a, const Value& b) {
  template_fail("unsupported operand type(s) for ", op, ": '", type_name(a), "' and '", type_name(b), "'");
}

[[noreturn]] void integer_overflow() {
  template_fail("integer overflow: the result does not fit in 64 bits (Python's integers are unbounded)");
}

void check_undefined(const Value& a, const Value& b) {
  if (a.is_undefined()) fail_undefined(a);
  if (b.is_undefined()) fail_undefined(b);
}

Value repeat_sequence(const Value& seq, int64_t times) {
  if (times < 0) times = 0;
  if (seq.is_string()) {
    const std::string& s = seq.str();
    if (!s.empty() && static_cast<uint64_t>(times) > max_string_bytes() / s.size()) {
      template_fail("string repetition would exceed ", max_string_bytes(), " bytes");
    }
    std::string out;
    out.reserve(s.size() * static_cast<size_t>(times));
    for (int64_t i = 0; i < times; ++i) out += s;
    return Value::string(std::move(out), seq.markup());
  }
  const auto& items = seq.items();
  if (!items.empty() && static_cast<uint64_t>(times) > (max_string_bytes() / 16) / items.size()) {
    template_fail("list repetition is too large");
  }
  std::vector<Value> out;
  for (int64_t i = 0; i < times; ++i) out.insert(out.end(), items.begin(), items.end());
  return Value::list(std::move(out), seq.flavor());
}

bool is_plain_sequence(const Value& v) {
  return v.is_list() && (v.flavor() == ListFlavor::kList || v.flavor() == ListFlavor::kTuple);
}

// CPython's float floor division and modulo (results rounded toward -inf).
void float_divmod(double a, double b, double* div, double* mod) {
  double m = std::fmod(a, b);
  double d = (a - m) / b;
  if (m != 0.0) {
    if ((b < 0) != (m < 0)) {
      m += b;
      d -= 1.0;
    }
  } else {
    m = std::copysign(0.0, b);
  }
  double floordiv;
  if (d != 0.0) {
    floordiv = std::floor(d);
    if (d - floordiv > 0.5) floordiv += 1.0;
  } else {
    floordiv = std::copysign(0.0, a / b);
  }
  *div = floordiv;
  *mod = m;
}

Value arithmetic(BinaryOp op, const Value& a, const Value& b) {
  const char* sym = op == BinaryOp::kAdd ? "+" : op == BinaryOp::kSub ? "-" : op == BinaryOp::kMul ? "*"
                    : op == BinaryOp::kDiv ? "/" : op == BinaryOp::kFloorDiv ? "//" : op == BinaryOp::kMod ? "%"
                                                                                                           : "** or pow()";
  if (!a.is_number() || !b.is_number()) unsupported_operands(sym, a, b);
  if (a.is_integral() && b.is_integral()) {
    const int64_t x = a.as_int(), y = b.as_int();
    int64_t r = 0;
    switch (op) {
      case BinaryOp::kAdd:
        if (__builtin_add_overflow(x, y, &r)) integer_overflow();
        return Value::integer(r);
      case BinaryOp::kSub:
        if (__builtin_sub_overflow(x, y, &r)) integer_overflow();
        return Value::integer(r);
      case BinaryOp::kMul:
        if (__builtin_mul_overflow(x, y, &r)) integer_overflow();
        return Value::integer(r);
      case BinaryOp::kDiv:
        if (y == 0) template_fail("division by zero");
        return Value::number(static_cast<double>(static_cast<long double>(x) / static_cast<long double>(y)));
      case BinaryOp::kFloorDiv:
      case BinaryOp::kMod: {
        if (y == 0) template_fail("integer division or modulo by zero");
        if (x == INT64_MIN && y == -1) {
          if (op == BinaryOp::kMod) return Value::integer(0);
          integer_overflow();
        }
        int64_t q = x / y, m = x % y;
        if (m != 0 && ((m < 0) != (y < 0))) {
          m += y;
          q -= 1;
        }
        return Value::integer(op == BinaryOp::kFloorDiv ? q : m);
      }
      case BinaryOp::kPow: {
        if (y < 0) {
          if (x == 0) template_fail("0.0 cannot be raised to a negative power");
          return Value::number(std::pow(static_cast<double>(x), static_cast<double>(y)));
        }
        int64_t result = 1, base = x, e = y;
        while (e > 0) {
          if (e & 1) {
            if (__builtin_mul_overflow(result, base, &result)) integer_overflow();
          }
          e >>= 1;
          if (e > 0 && __builtin_mul_overflow(base, base, &base)) integer_overflow();
        }
        return Value::integer(result);
      }
      default: break;
    }
  }
  const double x = a.as_float(), y = b.as_float();
  switch (op) {
    case BinaryOp::kAdd: return Value::number(x + y);
    case BinaryOp::kSub: return Value::number(x - y);
    case BinaryOp::kMul: return Value::number(x * y);
    case BinaryOp::kDiv:
      if (y == 0) template_fail("float division by zero");
      return Value::number(x / y);
    case BinaryOp::kFloorDiv:
    case BinaryOp::kMod: {
      if (y == 0) template_fail(op == BinaryOp::kMod ? "float modulo" : "float floor division by zero");
      double d, m;
      float_divmod(x, y, &d, &m);
      return Value::number(op == BinaryOp::kFloorDiv ? d : m);
    }
    case BinaryOp::kPow:
      if (x == 0 && y < 0) template_fail("0.0 cannot be raised to a negative power");
      if (x < 0 && std::isfinite(y) && std::trunc(y) != y) {
        template_fail("a negative number to a fractional power is complex, which templates do not support");
      }
      return Value::number(std::pow(x, y));
    default: break;
  }
  unsupported_operands(sym, a, b);
}

// Resolves one slice bound as PySlice_AdjustIndices does.
int64_t adjust_bound(const std::optional<Value>& bound, int64_t length, int64_t step, bool is_start) {
  if (!bound || bound->is_none()) {
    if (step > 0) return is_start ? 0 : length;
    return is_start ? length - 1 : -1;
  }
  int64_t v = bound->as_int();
  if (v < 0) {
    v += length;
    if (v < 0) v = step < 0 ? -1 : 0;
  } else if (v >= length) {
    v = step < 0 ? length - 1 : length;
  }
  return v;
}

}  // namespace

size_t max_string_bytes() { return string_limit; }
StringLimitScope::StringLimitScope(size_t limit) : saved_(string_limit) { string_limit = limit; }
StringLimitScope::~StringLimitScope() { string_limit = saved_; }

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '\'': out += "&#39;"; break;
      case '"': out += "&#34;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

Value binary_op(BinaryOp op, const Value& a, const Value& b) {
  check_undefined(a, b);
  switch (op) {
    case BinaryOp::kAdd:
      if (a.is_string() && b.is_string()) {
        if (a.str().size() + b.str().size() > max_string_bytes()) {
          template_fail("string concatenation would exceed ", max_string_bytes(), " bytes");
        }
        if (a.markup() || b.markup()) {  // Markup escapes the plain side
          return Value::string((a.markup() ? a.str() : html_escape(a.str())) +
                                   (b.markup() ? b.str() : html_escape(b.str())),
                               true);
        }
        return Value::string(a.str() + b.str());
      }
      if (a.is_string()) template_fail("can only concatenate str (not \"", type_name(b), "\") to str");
      if (is_plain_sequence(a)) {
        if (!b.is_list() || a.flavor() != b.flavor()) {
          template_fail("can only concatenate ", type_name(a), " (not \"", type_name(b), "\") to ", type_name(a));
        }
        std::vector<Value> items = a.items();
        items.insert(items.end(), b.items().begin(), b.items().end());
        return Value::list(std::move(items), a.flavor());
      }
      break;
    case BinaryOp::kMul:
      if ((a.is_string() || is_plain_sequence(a)) && b.is_integral()) return repeat_sequence(a, b.as_int());
      if ((b.is_string() || is_plain_sequence(b)) && a.is_integral()) return repeat_sequence(b, a.as_int());
      break;
    case BinaryOp::kMod:
      if (a.is_string()) template_fail("printf-style string formatting ('...' % values) is not supported");
      break;
    default: break;
  }
  return arithmetic(op, a, b);
}

Value negate(const Value& v) {
  if (v.is_undefined()) fail_undefined(v);
  if (v.is_integral()) {
    if (v.as_int() == INT64_MIN) integer_overflow();
    return Value::integer(-v.as_int());
  }
  if (v.is_float()) return Value::number(-v.as_float());
  template_fail("bad operand type for unary -: '", type_name(v), "'");
}

Value unary_plus(const Value& v) {
  if (v.is_undefined()) fail_undefined(v);
  if (v.is_integral()) return Value::integer(v.as_int());
  if (v.is_float()) return v;
  template_fail("bad operand type for unary +: '", type_name(v), "'");
}

bool contains(const Value& container, const Value& item) {
  switch (container.kind()) {
    case Kind::kUndefined: return false;  // iterates as empty
    case Kind::kString:
      if (item.is_undefined()) fail_undefined(item);
      if (!item.is_string()) {
        template_fail("'in <string>' requires string as left operand, not ", type_name(item));
      }
      return container.str().find(item.str()) != std::string::npos;
    case Kind::kDict: return container.dict().find(item) != nullptr;
    case Kind::kList:
      if (container.flavor() == ListFlavor::kDictKeys || container.flavor() == ListFlavor::kDictItems) {
        hash_key(item);  // set-like views need a hashable item
      }
      for (const Value& v : container.items()) {
        if (equal(v, item)) return true;
      }
      return false;
    case Kind::kIterator: {
      ValueIterator it(container);
      while (auto v = it.next()) {
        if (equal(*v, item)) return true;
      }
      return false;
    }
    default: template_fail("argument of type '", type_name(container), "' is not iterable");
  }
}

bool compare(CompareOp op, const Value& a, const Value& b) {
  switch (op) {
    case CompareOp::kEq: return equal(a, b);
    case CompareOp::kNe: return !equal(a, b);
    case CompareOp::kLt: return less_than(a, b, "<");
    case CompareOp::kLe: return less_than(a, b, "<=") || equal(a, b);
    case CompareOp::kGt: return less_than(b, a, ">");
    case CompareOp::kGe: return less_than(b, a, ">=") || equal(a, b);
    case CompareOp::kIn: return contains(b, a);
    case CompareOp::kNotIn: return !contains(b, a);
  }
  return false;
}

Value get_item(const Value& obj, const Value& key) {
  if (obj.is_undefined()) fail_undefined(obj);
  switch (obj.kind()) {
    case Kind::kString:
      if (key.is_integral()) {
        const std::u32string cps = to_code_points(obj.str());
        int64_t i = key.as_int();
        if (i < 0) i += static_cast<int64_t>(cps.size());
        if (i >= 0 && i < static_cast<int64_t>(cps.size())) {
          return Value::string(to_utf8(std::u32string(1, cps[static_cast<size_t>(i)])), obj.markup());
        }
      }
      break;
    case Kind::kList:
      if (key.is_integral() && obj.flavor() != ListFlavor::kDictKeys && obj.flavor() != ListFlavor::kDictValues &&
          obj.flavor() != ListFlavor::kDictItems) {
        const auto& items = obj.items();
        int64_t i = key.as_int();
        if (i < 0) i += static_cast<int64_t>(items.size());
        if (i >= 0 && i < static_cast<int64_t>(items.size())) return items[static_cast<size_t>(i)];
      }
      break;
    case Kind::kDict:
      if (key.is_dict() || (key.is_list() && key.flavor() != ListFlavor::kTuple)) break;  // unhashable: TypeError
      if (const Value* v = obj.dict().find(key)) return *v;
      break;
    default: break;
  }
  if (key.is_string()) {
    if (auto attr = python_attribute(obj, key.str())) return *attr;
    if (obj.is_object()) {
      Value v = obj.object().attribute(key.str());
      if (!v.is_undefined()) return v;
    }
  }
  return missing_item(obj, key);
}

Value get_slice(const Value& obj, const std::optional<Value>& start, const std::optional<Value>& stop,
                const std::optional<Value>& step) {
  if (obj.is_undefined()) fail_undefined(obj);
  for (const auto* bound : {&start, &stop, &step}) {
    if (*bound && (*bound)->is_undefined()) fail_undefined(**bound);
    // Python raises TypeError, which Jinja2's getitem turns into undefined.
    if (*bound && !(*bound)->is_none() && !(*bound)->is_integral()) return Value::undefined("slice indices must be integers or None");
  }
  const int64_t st = step && !step->is_none() ? step->as_int() : 1;
  if (st == 0) template_fail("slice step cannot be zero");
  if (obj.is_string()) {
    const std::u32string cps = to_code_points(obj.str());
    const auto n = static_cast<int64_t>(cps.size());
    std::u32string out;
    const int64_t b = adjust_bound(start, n, st, true), e = adjust_bound(stop, n, st, false);
    for (int64_t i = b; st > 0 ? i < e : i > e; i += st) out.push_back(cps[static_cast<size_t>(i)]);
    return Value::string(to_utf8(out), obj.markup());
  }
  if (obj.is_list() && (obj.flavor() == ListFlavor::kList || obj.flavor() == ListFlavor::kTuple ||
                        obj.flavor() == ListFlavor::kRange)) {
    const auto& items = obj.items();
    const auto n = static_cast<int64_t>(items.size());
    const int64_t b = adjust_bound(start, n, st, true), e = adjust_bound(stop, n, st, false);
    if (obj.flavor() == ListFlavor::kRange) {
      const ListData& r = obj.list_data();
      return Value::range(r.start + b * r.step, r.start + e * r.step, r.step * st);
    }
    std::vector<Value> out;
    for (int64_t i = b; st > 0 ? i < e : i > e; i += st) out.push_back(items[static_cast<size_t>(i)]);
    return Value::list(std::move(out), obj.flavor());
  }
  return Value::undefined(cat(object_type_repr(obj), " cannot be sliced"));
}

}  // namespace nomoat::jinja
