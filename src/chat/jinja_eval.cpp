#include "chat/jinja_eval.h"

#include <algorithm>

#include "chat/jinja_builtins.h"
#include "chat/jinja_loop.h"
#include "chat/jinja_methods.h"
#include "chat/jinja_ops.h"
#include "chat/py_text.h"

namespace nomoat::jinja {
namespace {

// A macro (or a call block's `caller`) with the scope it was defined in.
// The scope is held weakly: it holds the macro, and a cycle would leak.
class MacroObject : public Object {
 public:
  MacroObject(const MacroStmt& def, const ScopePtr& closure) : def_(def), closure_(closure) {}
  std::string type_name() const override { return "Macro"; }
  std::string module() const override { return "jinja2.runtime"; }
  std::string repr() const override { return "<Macro " + py_repr_string(def_.name) + ">"; }
  bool is_callable() const override { return true; }
  Value call(Evaluator& ev, CallArgs& args) override {
    const ScopePtr closure = closure_.lock();
    if (!closure) template_fail("macro '", def_.name, "' called after the block that defined it ended");
    return ev.call_macro(def_, closure, args);
  }
  Value attribute(const std::string& name) override {
    if (name == "name") return Value::string(def_.name);
    if (name == "catch_kwargs") return Value::boolean(def_.uses_kwargs);
    if (name == "catch_varargs") return Value::boolean(def_.uses_varargs);
    if (name == "caller") return Value::boolean(def_.uses_caller);
    if (name == "arguments") {
      std::vector<Value> names;
      for (const auto& p : def_.params) names.push_back(Value::string(p));
      return Value::tuple(std::move(names));
    }
    return Object::attribute(name);
  }

 private:
  const MacroStmt& def_;
  std::weak_ptr<Scope> closure_;
};

Value undefined_name(const std::string& name) { return Value::undefined(py_repr_string(name) + " is undefined"); }

}  // namespace

void Evaluator::step() {
  if (++steps_ > limits_.max_steps) {
    template_fail("rendering stopped after ", limits_.max_steps, " steps (a loop that does not end?)");
  }
}

void Evaluator::write(std::string& out, std::string_view text) const {
  if (out.size() + text.size() > limits_.max_output_bytes) {
    template_fail("the output would exceed ", limits_.max_output_bytes >> 20, " MiB");
  }
  out.append(text);
}

std::string Evaluator::render(const Template& t, const std::vector<std::pair<std::string, Value>>& context) {
  auto globals = std::make_shared<Scope>(nullptr);
  add_globals(*globals);
  auto root = std::make_shared<Scope>(globals);
  for (const auto& [name, value] : context) root->vars[name] = value;
  const StringLimitScope string_limit(limits_.max_string_bytes);
  // Break the reference cycles a template can make (a namespace holding itself).
  struct ReleaseAtEnd {
    std::vector<std::weak_ptr<Object>>& objects;
    ~ReleaseAtEnd() {
      for (auto& weak : objects) {
        if (auto o = weak.lock()) o->clear_references();
      }
      objects.clear();
    }
  } release{mutable_objects_};
  std::string out;
  exec(t.body, root, out);
  return out;
}

Evaluator::Flow Evaluator::exec(const StmtList& body, const ScopePtr& scope, std::string& out) {
  for (const StmtPtr& s : body) {
    const Flow f = exec_stmt(*s, scope, out);
    if (f != Flow::kNormal) return f;
  }
  return Flow::kNormal;
}

std::string Evaluator::capture(const StmtList& body, const ScopePtr& parent) {
  std::string out;
  exec(body, std::make_shared<Scope>(parent), out);
  return out;
}

Evaluator::Flow Evaluator::exec_stmt(const Stmt& s, const ScopePtr& scope, std::string& out) {
  step();
  try {
    switch (s.kind) {
      case StmtKind::kText: write(out, static_cast<const TextStmt&>(s).text); break;
      case StmtKind::kPrint: write(out, to_str(eval(*static_cast<const PrintStmt&>(s).expr, scope))); break;
      case StmtKind::kIf: {
        const auto& node = static_cast<const IfStmt&>(s);
        for (const auto& [test, body] : node.branches) {
          if (truthy(eval(*test, scope))) return exec(body, scope, out);
        }
        return exec(node.else_body, scope, out);
      }
      case StmtKind::kFor: return exec_for(static_cast<const ForStmt&>(s), scope, out);
      case StmtKind::kSet: {
        const auto& node = static_cast<const SetStmt&>(s);
        assign(node.target, eval(*node.value, scope), scope);
        break;
      }
      case StmtKind::kSetBlock: {
        const auto& node = static_cast<const SetBlockStmt&>(s);
        Value v = Value::string(capture(node.body, scope));
        if (node.filter) v = eval_filter(static_cast<const FilterExpr&>(*node.filter), scope, &v);
        assign(node.target, v, scope);
        break;
      }
      case StmtKind::kMacro: {
        const auto& node = static_cast<const MacroStmt&>(s);
        scope->vars[node.name] = Value::object(std::make_shared<MacroObject>(node, scope));
        break;
      }
      case StmtKind::kCallBlock: {
        const auto& node = static_cast<const CallBlockStmt&>(s);
        const Value callee = eval(*node.call->callee, scope);
        CallArgs args = eval_args(node.call->args, scope);
        args.keyword.emplace_back("caller", Value::object(std::make_shared<MacroObject>(node.caller, scope)));
        write(out, to_str(call(callee, args)));
        break;
      }
      case StmtKind::kFilterBlock: {
        const auto& node = static_cast<const FilterBlockStmt&>(s);
        const Value body = Value::string(capture(node.body, scope));
        write(out, to_str(eval_filter(static_cast<const FilterExpr&>(*node.filter), scope, &body)));
        break;
      }
      case StmtKind::kWith: {
        const auto& node = static_cast<const WithStmt&>(s);
        auto inner = std::make_shared<Scope>(scope);
        std::vector<Value> values;
        for (const auto& v : node.values) values.push_back(eval(*v, scope));
        for (size_t i = 0; i < node.targets.size(); ++i) assign(node.targets[i], values[i], inner);
        return exec(node.body, inner, out);
      }
      case StmtKind::kBreak: return Flow::kBreak;
      case StmtKind::kContinue: return Flow::kContinue;
    }
  } catch (TemplateError& e) {
    if (e.line == 0) e.line = s.line;
    throw;
  }
  return Flow::kNormal;
}

Evaluator::Flow Evaluator::exec_for(const ForStmt& f, const ScopePtr& scope, std::string& out) {
  const Value iterable = eval(*f.iterable, scope);
  auto items = std::make_shared<ValueIterator>(iterable);
  std::optional<int64_t> known_length;
  if (!f.filter && (iterable.is_list() || iterable.is_dict() || iterable.is_string() || iterable.is_undefined())) {
    known_length = length(iterable);
  }
  LoopContext::Pull pull;
  if (f.filter) {
    // The condition sees the candidate bound to the loop target, over the
    // scope the loop runs in (it is evaluated lazily, as Jinja2 does).
    std::weak_ptr<Scope> weak_scope = scope;
    pull = [this, items, &f, weak_scope]() -> std::optional<Value> {
      const ScopePtr outer = weak_scope.lock();
      if (!outer) template_fail("a loop's items were read after the loop's block ended");
      while (auto item = items->next()) {
        auto test_scope = std::make_shared<Scope>(outer);
        assign(f.target, *item, test_scope);
        if (truthy(eval(*f.filter, test_scope))) return item;
      }
      return std::nullopt;
    };
  } else {
    pull = [items] { return items->next(); };
  }
  auto loop = std::make_shared<LoopContext>(std::move(pull), known_length, container_depth(iterable.depth()));
  const Value loop_value = Value::object(loop);
  // Jinja2 runs `else` unless some iteration reached the end of the body
  // (an iteration left by break or continue does not count).
  bool run_else = true;
  while (auto item = loop->advance()) {
    step();
    auto body_scope = std::make_shared<Scope>(scope);
    body_scope->vars["loop"] = loop_value;
    assign(f.target, *item, body_scope);
    const Flow flow = exec(f.body, body_scope, out);
    if (flow == Flow::kBreak) break;
    if (flow == Flow::kNormal) run_else = false;
  }
  if (run_else && !f.else_body.empty()) exec(f.else_body, std::make_shared<Scope>(scope), out);
  return Flow::kNormal;
}

void Evaluator::assign(const Target& t, const Value& v, const ScopePtr& scope) {
  switch (t.kind) {
    case Target::Kind::kName: scope->vars[t.name] = v; return;
    case Target::Kind::kTuple: {
      const std::vector<Value> items = to_vector(v);
      if (items.size() < t.items.size()) {
        throw TemplateError(cat("not enough values to unpack (expected ", t.items.size(), ", got ", items.size(), ")"),
                            t.line);
      }
      if (items.size() > t.items.size()) {
        throw TemplateError(cat("too many values to unpack (expected ", t.items.size(), ")"), t.line);
      }
      for (size_t i = 0; i < items.size(); ++i) assign(t.items[i], items[i], scope);
      return;
    }
    case Target::Kind::kNamespaceAttr: {
      const Value* ns = scope->find(t.name);
      if (ns == nullptr) throw TemplateError(cat(py_repr_string(t.name), " is undefined"), t.line);
      auto* target = ns->is_object() ? dynamic_cast<Namespace*>(&ns->object()) : nullptr;
      if (target == nullptr) throw TemplateError("cannot assign attribute on non-namespace object", t.line);
      target->set(t.attr, v);
      return;
    }
  }
}

CallArgs Evaluator::eval_args(const CallArgsExpr& a, const ScopePtr& scope) {
  CallArgs args;
  for (const auto& p : a.positional) args.positional.push_back(eval(*p, scope));
  if (a.star_args) {
    for (Value& v : to_vector(eval(*a.star_args, scope))) args.positional.push_back(std::move(v));
  }
  for (const auto& [k, v] : a.keyword) args.keyword.emplace_back(k, eval(*v, scope));
  if (a.star_kwargs) {
    const Value d = eval(*a.star_kwargs, scope);
    if (!d.is_dict()) template_fail("argument after ** must be a mapping, not ", type_name(d));
    for (const auto& [k, v] : d.dict().entries) {
      if (!k.is_string()) template_fail("keywords must be strings");
      args.keyword.emplace_back(k.str(), v);
    }
  }
  return args;
}

Value Evaluator::call(const Value& callee, CallArgs& args) {
  if (callee.is_undefined()) fail_undefined(callee);
  if (callee.is_object() && callee.object().is_callable()) return callee.object().call(*this, args);
  template_fail("'", type_name(callee), "' object is not callable");
}

Value Evaluator::call_filter(const std::string& name, const Value& subject, CallArgs& args) {
  const FilterFn f = find_filter(name);
  if (f == nullptr) {
    if (!jinja_has_filter(name)) template_fail("no filter named '", name, "'");
    template_fail("filter '", name, "' is not supported in chat templates");
  }
  return f(*this, subject, args);
}

bool Evaluator::call_test(const std::string& name, const Value& subject, CallArgs& args) {
  const TestFn t = find_test(name);
  if (t == nullptr) {
    if (!jinja_has_test(name)) template_fail("no test named '", name, "'");
    template_fail("test '", name, "' is not supported in chat templates");
  }
  return t(*this, subject, args);
}

Value Evaluator::call_macro(const MacroStmt& m, const ScopePtr& closure, CallArgs& args) {
  if (call_depth_ >= limits_.max_call_depth) {
    template_fail("macro calls nested deeper than ", limits_.max_call_depth, " (endless recursion?)");
  }
  auto scope = std::make_shared<Scope>(closure);
  const size_t n = m.params.size();
  const size_t given = std::min(n, args.positional.size());
  std::vector<std::optional<Value>> values(n);
  for (size_t i = 0; i < given; ++i) values[i] = args.positional[i];
  // Keyword arguments fill the parameters not given by position.
  std::vector<std::pair<std::string, Value>> rest;
  for (auto& [key, value] : args.keyword) {
    size_t i = given;
    while (i < n && m.params[i] != key) ++i;
    if (i < n && !values[i]) {
      values[i] = value;
    } else {
      rest.emplace_back(key, value);
    }
  }
  const bool param_named_caller = std::find(m.params.begin(), m.params.end(), "caller") != m.params.end();
  if (m.uses_caller && !param_named_caller) {
    Value caller = Value::none();
    for (auto it = rest.begin(); it != rest.end(); ++it) {
      if (it->first == "caller") {
        caller = it->second;
        rest.erase(it);
        break;
      }
    }
    scope->vars["caller"] = caller;
  }
  if (m.uses_kwargs) {
    DictData kw;
    for (auto& [k, v] : rest) kw.set(Value::string(k), v);
    scope->vars["kwargs"] = Value::dict(std::move(kw));
  } else if (!rest.empty()) {
    if (rest.front().first == "caller" || std::any_of(rest.begin(), rest.end(), [](const auto& kv) {
          return kv.first == "caller";
        })) {
      template_fail("macro '", m.name, "' was invoked with two values for the special caller argument");
    }
    template_fail("macro '", m.name, "' takes no keyword argument '", rest.front().first, "'");
  }
  if (m.uses_varargs) {
    std::vector<Value> extra;
    for (size_t i = n; i < args.positional.size(); ++i) extra.push_back(args.positional[i]);
    scope->vars["varargs"] = Value::tuple(std::move(extra));
  } else if (args.positional.size() > n) {
    template_fail("macro '", m.name, "' takes not more than ", n, " argument(s)");
  }
  // Parameters in order; a missing one takes its default, evaluated in the
  // macro's scope so it can use the parameters before it.
  const size_t first_default = n - m.defaults.size();
  for (size_t i = 0; i < n; ++i) {
    if (values[i]) {
      scope->vars[m.params[i]] = *values[i];
    } else if (i >= first_default) {
      scope->vars[m.params[i]] = eval(*m.defaults[i - first_default], scope);
    } else {
      scope->vars[m.params[i]] = Value::undefined("parameter " + py_repr_string(m.params[i]) + " was not provided");
    }
  }
  ++call_depth_;
  std::string out;
  try {
    exec(m.body, scope, out);
  } catch (...) {
    --call_depth_;
    throw;
  }
  --call_depth_;
  return Value::string(std::move(out));
}

Value Evaluator::eval(const Expr& e, const ScopePtr& scope) {
  step();
  try {
    return eval_node(e, scope);
  } catch (TemplateError& err) {
    if (err.line == 0) err.line = e.line;
    throw;
  }
}

Value Evaluator::eval_filter(const FilterExpr& f, const ScopePtr& scope, const Value* block_subject) {
  const Value subject = f.operand ? (f.operand->kind == ExprKind::kFilter
                                         ? eval_filter(static_cast<const FilterExpr&>(*f.operand), scope, block_subject)
                                         : eval(*f.operand, scope))
                                  : *block_subject;
  CallArgs args = eval_args(f.args, scope);
  try {
    return call_filter(f.name, subject, args);
  } catch (TemplateError& err) {
    if (err.line == 0) err.line = f.line;
    throw;
  }
}

Value Evaluator::eval_node(const Expr& e, const ScopePtr& scope) {
  switch (e.kind) {
    case ExprKind::kConst: return static_cast<const ConstExpr&>(e).value;
    case ExprKind::kName: {
      const auto& name = static_cast<const NameExpr&>(e).name;
      const Value* v = scope->find(name);
      return v ? *v : undefined_name(name);
    }
    case ExprKind::kList:
    case ExprKind::kTuple: {
      std::vector<Value> items;
      for (const auto& item : static_cast<const SequenceExpr&>(e).items) items.push_back(eval(*item, scope));
      return Value::list(std::move(items), e.kind == ExprKind::kList ? ListFlavor::kList : ListFlavor::kTuple);
    }
    case ExprKind::kDict: {
      DictData d;
      for (const auto& [k, v] : static_cast<const DictExpr&>(e).entries) {
        Value key = eval(*k, scope);
        d.set(key, eval(*v, scope));
      }
      return Value::dict(std::move(d));
    }
    case ExprKind::kGetattr: {
      const auto& node = static_cast<const GetattrExpr&>(e);
      return get_attr(eval(*node.object, scope), node.name);
    }
    case ExprKind::kGetitem: {
      const auto& node = static_cast<const GetitemExpr&>(e);
      const Value obj = eval(*node.object, scope);
      if (node.index->kind == ExprKind::kSlice) {
        const auto& s = static_cast<const SliceExpr&>(*node.index);
        auto bound = [&](const ExprPtr& x) -> std::optional<Value> {
          if (!x) return std::nullopt;
          return eval(*x, scope);
        };
        const auto start = bound(s.start), stop = bound(s.stop), step_v = bound(s.step);
        return get_slice(obj, start, stop, step_v);
      }
      return get_item(obj, eval(*node.index, scope));
    }
    case ExprKind::kSlice: template_fail("a slice is only allowed inside []");
    case ExprKind::kCall: {
      const auto& node = static_cast<const CallExpr&>(e);
      const Value callee = eval(*node.callee, scope);
      CallArgs args = eval_args(node.args, scope);
      return call(callee, args);
    }
    case ExprKind::kFilter: return eval_filter(static_cast<const FilterExpr&>(e), scope, nullptr);
    case ExprKind::kTest: {
      const auto& node = static_cast<const TestExpr&>(e);
      const Value subject = eval(*node.operand, scope);
      CallArgs args = eval_args(node.args, scope);
      return Value::boolean(call_test(node.name, subject, args) != node.negated);
    }
    case ExprKind::kUnary: {
      const auto& node = static_cast<const UnaryExpr&>(e);
      const Value v = eval(*node.operand, scope);
      switch (node.op) {
        case UnaryOp::kNot: return Value::boolean(!truthy(v));
        case UnaryOp::kNeg: return negate(v);
        case UnaryOp::kPos: return unary_plus(v);
      }
      break;
    }
    case ExprKind::kBinary: {
      const auto& node = static_cast<const BinaryExpr&>(e);
      Value left = eval(*node.left, scope);
      if (node.op == BinaryOp::kAnd) return truthy(left) ? eval(*node.right, scope) : left;
      if (node.op == BinaryOp::kOr) return truthy(left) ? left : eval(*node.right, scope);
      return binary_op(node.op, left, eval(*node.right, scope));
    }
    case ExprKind::kConcat: {
      std::string out;
      for (const auto& item : static_cast<const ConcatExpr&>(e).items) write(out, to_str(eval(*item, scope)));
      return Value::string(std::move(out));
    }
    case ExprKind::kCompare: {
      const auto& node = static_cast<const CompareExpr&>(e);
      Value left = eval(*node.first, scope);
      for (const auto& [op, expr] : node.rest) {
        Value right = eval(*expr, scope);
        if (!compare(op, left, right)) return Value::boolean(false);
        left = std::move(right);
      }
      return Value::boolean(true);
    }
    case ExprKind::kCondExpr: {
      const auto& node = static_cast<const CondExpr&>(e);
      if (truthy(eval(*node.test, scope))) return eval(*node.then, scope);
      if (node.otherwise) return eval(*node.otherwise, scope);
      return Value::undefined(cat("the inline if-expression on line ", e.line,
                                  " evaluated to false and no else section was defined."));
    }
  }
  template_fail("internal error: unknown expression");
}

}  // namespace nomoat::jinja
