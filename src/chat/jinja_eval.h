// The tree-walking interpreter: renders a parsed template with Jinja2's
// runtime rules — a new variable scope per loop iteration, macro call and
// block capture (so `set` inside a loop does not leak out), `loop` objects,
// macros with defaults/keywords/caller, break/continue, and Undefined for
// missing names. Errors carry the line of the node that raised them.
#pragma once

#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "chat/jinja_ast.h"

namespace nomoat::jinja {

struct Scope {
  explicit Scope(std::shared_ptr<Scope> p) : parent(std::move(p)) {}
  std::shared_ptr<Scope> parent;
  std::unordered_map<std::string, Value> vars;

  const Value* find(const std::string& name) const {
    for (const Scope* s = this; s != nullptr; s = s->parent.get()) {
      const auto it = s->vars.find(name);
      if (it != s->vars.end()) return &it->second;
    }
    return nullptr;
  }
};
using ScopePtr = std::shared_ptr<Scope>;

// Bounds on one render, so a template cannot hang or exhaust memory.
struct RenderLimits {
  uint64_t max_steps = 50'000'000;            // statements and expressions evaluated
  size_t max_output_bytes = size_t{64} << 20;  // any one output buffer
  size_t max_string_bytes = size_t{64} << 20;  // any string one operation builds
  int max_call_depth = 100;                    // nested macro calls
};

class Evaluator {
 public:
  Evaluator(RenderLimits limits, std::time_t now) : limits_(limits), now_(now) {}

  // Renders `t` with `context` as the template's variables, over the globals.
  std::string render(const Template& t, const std::vector<std::pair<std::string, Value>>& context);

  // Used by builtins and objects.
  Value call(const Value& callee, CallArgs& args);
  Value call_filter(const std::string& name, const Value& subject, CallArgs& args);
  bool call_test(const std::string& name, const Value& subject, CallArgs& args);
  Value call_macro(const MacroStmt& m, const ScopePtr& closure, CallArgs& args);
  std::time_t now() const { return now_; }
  void step();
  // Objects that can hold references to themselves (namespaces): their
  // contents are dropped when the render ends.
  void track(const std::shared_ptr<Object>& o) { mutable_objects_.push_back(o); }

 private:
  enum class Flow { kNormal, kBreak, kContinue };
  Flow exec(const StmtList& body, const ScopePtr& scope, std::string& out);
  Flow exec_stmt(const Stmt& s, const ScopePtr& scope, std::string& out);
  Flow exec_for(const ForStmt& f, const ScopePtr& scope, std::string& out);
  std::string capture(const StmtList& body, const ScopePtr& parent);
  void write(std::string& out, std::string_view text) const;
  Value eval(const Expr& e, const ScopePtr& scope);
  Value eval_node(const Expr& e, const ScopePtr& scope);
  Value eval_filter(const FilterExpr& f, const ScopePtr& scope, const Value* block_subject);
  CallArgs eval_args(const CallArgsExpr& a, const ScopePtr& scope);
  void assign(const Target& t, const Value& v, const ScopePtr& scope);

  RenderLimits limits_;
  std::time_t now_;
  uint64_t steps_ = 0;
  int call_depth_ = 0;
  std::vector<std::weak_ptr<Object>> mutable_objects_;
};

}  // namespace nomoat::jinja
