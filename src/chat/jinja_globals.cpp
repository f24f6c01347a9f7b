// The global functions a chat template can call: Jinja2's range, dict,
// namespace, joiner, cycler (lipsum is refused: it is random text), and
// transformers' raise_exception and strftime_now.
#include <algorithm>
#include <ctime>
#include <memory>

#include "chat/jinja_args.h"
#include "chat/jinja_builtins.h"
#include "chat/jinja_eval.h"
#include "chat/py_text.h"

namespace nomoat::jinja {
namespace {

// Jinja2's sandbox refuses ranges longer than this.
constexpr int64_t kMaxRange = 100000;

class BuiltinFunction : public Object {
 public:
  using Fn = Value (*)(Evaluator&, CallArgs&);
  BuiltinFunction(std::string name, Fn fn) : name_(std::move(name)), fn_(fn) {}
  std::string type_name() const override { return "function"; }
  bool is_callable() const override { return true; }
  Value call(Evaluator& ev, CallArgs& args) override { return fn_(ev, args); }

 private:
  std::string name_;
  Fn fn_;
};

// dict(*args, **kwargs): a mapping or pairs, then keywords.
DictData build_dict(const CallArgs& args, const char* what) {
  if (args.positional.size() > 1) template_fail(what, " expected at most 1 argument, got ", args.positional.size());
  DictData d;
  if (!args.positional.empty()) {
    const Value& src = args.positional[0];
    if (src.is_dict()) {
      d = src.dict();
    } else {
      ValueIterator it(src);
      size_t index = 0;
      while (auto pair = it.next()) {
        const std::vector<Value> kv = to_vector(*pair);
        if (kv.size() != 2) {
          template_fail("dictionary update sequence element #", index, " has length ", kv.size(), "; 2 is required");
        }
        d.set(kv[0], kv[1]);
        ++index;
      }
    }
  }
  for (const auto& [k, v] : args.keyword) d.set(Value::string(k), v);
  return d;
}

Value g_range(Evaluator&, CallArgs& args) {
  if (!args.keyword.empty()) template_fail("range() takes no keyword arguments");
  const auto& p = args.positional;
  if (p.empty() || p.size() > 3) template_fail("range expected 1 to 3 arguments, got ", p.size());
  for (const Value& v : p) {
    if (v.is_undefined()) fail_undefined(v);
    if (!v.is_integral()) template_fail("'", type_name(v), "' object cannot be interpreted as an integer");
  }
  const int64_t start = p.size() == 1 ? 0 : p[0].as_int();
  const int64_t stop = p.size() == 1 ? p[0].as_int() : p[1].as_int();
  const int64_t step = p.size() == 3 ? p[2].as_int() : 1;
  if (step == 0) template_fail("range() arg 3 must not be zero");
  const long double span = step > 0 ? static_cast<long double>(stop) - start : static_cast<long double>(start) - stop;
  const long double count = span <= 0 ? 0 : (span + std::abs(static_cast<long double>(step)) - 1) / std::abs(static_cast<long double>(step));
  if (count > kMaxRange) {
    template_fail("Range too big. The sandbox blocks ranges larger than MAX_RANGE (", kMaxRange, ").");
  }
  return Value::range(start, stop, step);
}

Value g_dict(Evaluator&, CallArgs& args) { return Value::dict(build_dict(args, "dict")); }

Value g_raise_exception(Evaluator&, CallArgs& args) {
  const Args a("raise_exception", args, {"message"}, 1);
  throw TemplateError(to_str(a[0]));
}

// datetime.now().strftime(fmt) for a naive local time: %f is the
// microseconds (0 here), %z and %Z are empty; the rest is C strftime.
Value g_strftime_now(Evaluator& ev, CallArgs& args) {
  const Args a("strftime_now", args, {"format"}, 1);
  const std::string& format = a.str_at(0);
  std::string fixed;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%' || i + 1 == format.size()) {
      fixed.push_back(format[i]);
      continue;
    }
    const char c = format[++i];
    if (c == 'f') {
      fixed += "000000";
    } else if (c != 'z' && c != 'Z') {
      fixed.push_back('%');
      fixed.push_back(c);
    }
  }
  const std::time_t now = ev.now();
  std::tm tm{};
  localtime_r(&now, &tm);
  if (fixed.empty()) return Value::string("");
  for (size_t size = 256; size <= (size_t{1} << 20); size *= 4) {
    std::string buf(size, '\0');
    const size_t n = std::strftime(buf.data(), buf.size(), fixed.c_str(), &tm);
    if (n > 0) {
      buf.resize(n);
      if (!is_valid_utf8(buf)) template_fail("strftime_now produced text that is not UTF-8");
      return Value::string(std::move(buf));
    }
  }
  return Value::string("");  // strftime gives nothing for formats like "%p" in some locales
}

Value g_lipsum(Evaluator&, CallArgs&) { template_fail("lipsum() (random text) is not supported in chat templates"); }

class Joiner : public Object {
 public:
  explicit Joiner(std::string sep) : sep_(std::move(sep)) {}
  std::string type_name() const override { return "Joiner"; }
  std::string module() const override { return "jinja2.utils"; }
  bool is_callable() const override { return true; }
  Value call(Evaluator&, CallArgs& args) override {
    Args("joiner", args, {});
    if (!used_) {
      used_ = true;
      return Value::string("");
    }
    return Value::string(sep_);
  }

 private:
  std::string sep_;
  bool used_ = false;
};

Value g_joiner(Evaluator&, CallArgs& args) {
  const Args a("joiner", args, {"sep"});
  return Value::object(std::make_shared<Joiner>(a.has(0) ? a.str_at(0) : ", "));
}

class Cycler : public Object, public std::enable_shared_from_this<Cycler> {
 public:
  explicit Cycler(std::vector<Value> items) : items_(std::move(items)) {
    for (const Value& v : items_) depth_ = std::max(depth_, container_depth(v.depth()));
  }
  uint32_t nesting_depth() const override { return depth_; }
  std::string type_name() const override { return "Cycler"; }
  std::string module() const override { return "jinja2.utils"; }
  Value attribute(const std::string& name) override;
  Value next() {
    const Value v = items_[pos_];
    pos_ = (pos_ + 1) % items_.size();
    return v;
  }
  Value current() const { return items_[pos_]; }
  void reset() { pos_ = 0; }

 private:
  std::vector<Value> items_;
  size_t pos_ = 0;
  uint32_t depth_ = 1;
};

class CyclerMethod : public Object {
 public:
  CyclerMethod(std::shared_ptr<Cycler> c, bool is_next) : cycler_(std::move(c)), is_next_(is_next) {}
  std::string type_name() const override { return "method"; }
  bool is_callable() const override { return true; }
  Value call(Evaluator&, CallArgs& args) override {
    Args(is_next_ ? "cycler.next" : "cycler.reset", args, {});
    if (is_next_) return cycler_->next();
    cycler_->reset();
    return Value::none();
  }

 private:
  std::shared_ptr<Cycler> cycler_;
  bool is_next_;
};

Value Cycler::attribute(const std::string& name) {
  if (name == "current") return current();
  if (name == "next" || name == "reset") {
    return Value::object(std::make_shared<CyclerMethod>(shared_from_this(), name == "next"));
  }
  return Object::attribute(name);
}

Value g_cycler(Evaluator&, CallArgs& args) {
  if (args.positional.empty()) template_fail("at least one item has to be provided");
  return Value::object(std::make_shared<Cycler>(args.positional));
}

Value g_namespace(Evaluator& ev, CallArgs& args) { return make_namespace(ev, args); }

}  // namespace

Value make_namespace(Evaluator& ev, CallArgs& args) {
  auto ns = std::make_shared<Namespace>();
  const Value attrs = Value::dict(build_dict(args, "namespace"));
  ns->attrs_ = attrs.dict();
  ns->depth_ = attrs.depth();
  ev.track(ns);
  return Value::object(ns);
}

void Namespace::set(const std::string& name, Value value) {
  depth_ = std::max(depth_, container_depth(value.depth()));
  attrs_.set(Value::string(name), std::move(value));
}

std::string Namespace::repr() const {
  // A namespace can hold itself; Python prints the inner one as {...}.
  thread_local std::vector<const Namespace*> printing;
  if (std::find(printing.begin(), printing.end(), this) != printing.end()) return "<Namespace {...}>";
  printing.push_back(this);
  std::string text;
  try {
    text = "<Namespace " + jinja::repr(Value::dict(attrs_)) + ">";
  } catch (...) {
    printing.pop_back();
    throw;
  }
  printing.pop_back();
  return text;
}

Value Namespace::attribute(const std::string& name) {
  if (const Value* v = attrs_.find(name)) return *v;
  return Object::attribute(name);
}

void add_globals(Scope& scope) {
  const std::pair<const char*, BuiltinFunction::Fn> functions[] = {
      {"range", g_range},       {"dict", g_dict},     {"namespace", g_namespace},
      {"joiner", g_joiner},     {"cycler", g_cycler}, {"lipsum", g_lipsum},
      {"raise_exception", g_raise_exception},         {"strftime_now", g_strftime_now},
  };
  for (const auto& [name, fn] : functions) {
    scope.vars[name] = Value::object(std::make_shared<BuiltinFunction>(name, fn));
  }
}

}  // namespace nomoat::jinja
