// The parsed form of a template: expression and statement nodes, each with
// the template line it starts on (for error messages).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chat/jinja_value.h"

namespace nomoat::jinja {

enum class ExprKind {
  kConst,     // literal
  kName,      // variable
  kList,      // [a, b]
  kTuple,     // (a, b)
  kDict,      // {k: v}
  kGetattr,   // x.name
  kGetitem,   // x[i]
  kSlice,     // a:b:c inside []
  kCall,      // f(args)
  kFilter,    // x | f(args)
  kTest,      // x is [not] t(args)
  kUnary,     // not x, -x, +x
  kBinary,    // + - * / // % ** and or
  kConcat,    // a ~ b ~ c
  kCompare,   // a == b < c, in, not in
  kCondExpr,  // a if c else b
};

struct Expr {
  Expr(ExprKind k, int l) : kind(k), line(l) {}
  virtual ~Expr() = default;
  ExprKind kind;
  int line;
};
using ExprPtr = std::unique_ptr<Expr>;

struct ConstExpr : Expr {
  ConstExpr(Value v, int l) : Expr(ExprKind::kConst, l), value(std::move(v)) {}
  Value value;
};

struct NameExpr : Expr {
  NameExpr(std::string n, int l) : Expr(ExprKind::kName, l), name(std::move(n)) {}
  std::string name;
};

struct SequenceExpr : Expr {  // kList or kTuple
  using Expr::Expr;
  std::vector<ExprPtr> items;
};

struct DictExpr : Expr {
  explicit DictExpr(int l) : Expr(ExprKind::kDict, l) {}
  std::vector<std::pair<ExprPtr, ExprPtr>> entries;
};

struct GetattrExpr : Expr {
  GetattrExpr(ExprPtr o, std::string n, int l) : Expr(ExprKind::kGetattr, l), object(std::move(o)), name(std::move(n)) {}
  ExprPtr object;
  std::string name;
};

struct GetitemExpr : Expr {
  GetitemExpr(ExprPtr o, ExprPtr i, int l) : Expr(ExprKind::kGetitem, l), object(std::move(o)), index(std::move(i)) {}
  ExprPtr object;
  ExprPtr index;
};

struct SliceExpr : Expr {
  explicit SliceExpr(int l) : Expr(ExprKind::kSlice, l) {}
  ExprPtr start, stop, step;  // each may be null
};

struct CallArgsExpr {
  std::vector<ExprPtr> positional;
  std::vector<std::pair<std::string, ExprPtr>> keyword;
  ExprPtr star_args;    // *args
  ExprPtr star_kwargs;  // **kwargs
};

struct CallExpr : Expr {
  CallExpr(ExprPtr c, int l) : Expr(ExprKind::kCall, l), callee(std::move(c)) {}
  ExprPtr callee;
  CallArgsExpr args;
};

struct FilterExpr : Expr {
  FilterExpr(ExprPtr o, std::string n, int l) : Expr(ExprKind::kFilter, l), operand(std::move(o)), name(std::move(n)) {}
  ExprPtr operand;  // null for the innermost filter of a {% filter %} block
  std::string name;
  CallArgsExpr args;
};

struct TestExpr : Expr {
  TestExpr(ExprPtr o, std::string n, bool neg, int l)
      : Expr(ExprKind::kTest, l), operand(std::move(o)), name(std::move(n)), negated(neg) {}
  ExprPtr operand;
  std::string name;
  bool negated;
  CallArgsExpr args;
};

enum class UnaryOp { kNot, kNeg, kPos };
struct UnaryExpr : Expr {
  UnaryExpr(UnaryOp o, ExprPtr x, int l) : Expr(ExprKind::kUnary, l), op(o), operand(std::move(x)) {}
  UnaryOp op;
  ExprPtr operand;
};

enum class BinaryOp { kAdd, kSub, kMul, kDiv, kFloorDiv, kMod, kPow, kAnd, kOr };
struct BinaryExpr : Expr {
  BinaryExpr(BinaryOp o, ExprPtr a, ExprPtr b, int l)
      : Expr(ExprKind::kBinary, l), op(o), left(std::move(a)), right(std::move(b)) {}
  BinaryOp op;
  ExprPtr left, right;
};

struct ConcatExpr : Expr {
  explicit ConcatExpr(int l) : Expr(ExprKind::kConcat, l) {}
  std::vector<ExprPtr> items;
};

enum class CompareOp { kEq, kNe, kLt, kLe, kGt, kGe, kIn, kNotIn };
struct CompareExpr : Expr {
  CompareExpr(ExprPtr f, int l) : Expr(ExprKind::kCompare, l), first(std::move(f)) {}
  ExprPtr first;
  std::vector<std::pair<CompareOp, ExprPtr>> rest;
};

struct CondExpr : Expr {
  CondExpr(ExprPtr t, ExprPtr a, ExprPtr b, int l)
      : Expr(ExprKind::kCondExpr, l), test(std::move(t)), then(std::move(a)), otherwise(std::move(b)) {}
  ExprPtr test, then;
  ExprPtr otherwise;  // null: `a if c` gives undefined when c is false
};

// ---------------------------------------------------------------- statements

enum class StmtKind {
  kText,         // template data
  kPrint,        // {{ expr }}
  kIf,           // if / elif / else
  kFor,          // for ... [if ...] / else
  kSet,          // set target = expr
  kSetBlock,     // set target [| filter] ... endset
  kMacro,        // macro name(params) ... endmacro
  kCallBlock,    // call[(params)] macro(args) ... endcall
  kFilterBlock,  // filter f ... endfilter
  kWith,         // with a = x ... endwith; also HF's generation block (no targets)
  kBreak,
  kContinue,
};

struct Stmt {
  Stmt(StmtKind k, int l) : kind(k), line(l) {}
  virtual ~Stmt() = default;
  StmtKind kind;
  int line;
};
using StmtPtr = std::unique_ptr<Stmt>;
using StmtList = std::vector<StmtPtr>;

// Where an assignment stores: a name, a tuple to unpack into, or ns.attr.
struct Target {
  enum class Kind { kName, kTuple, kNamespaceAttr } kind = Kind::kName;
  std::string name;  // kName; kNamespaceAttr: the namespace variable
  std::string attr;  // kNamespaceAttr
  std::vector<Target> items;  // kTuple
  int line = 0;
};

struct TextStmt : Stmt {
  TextStmt(std::string t, int l) : Stmt(StmtKind::kText, l), text(std::move(t)) {}
  std::string text;
};

struct PrintStmt : Stmt {
  PrintStmt(ExprPtr e, int l) : Stmt(StmtKind::kPrint, l), expr(std::move(e)) {}
  ExprPtr expr;
};

struct IfStmt : Stmt {
  explicit IfStmt(int l) : Stmt(StmtKind::kIf, l) {}
  std::vector<std::pair<ExprPtr, StmtList>> branches;  // if, elif...
  StmtList else_body;
};

struct ForStmt : Stmt {
  explicit ForStmt(int l) : Stmt(StmtKind::kFor, l) {}
  Target target;
  ExprPtr iterable;
  ExprPtr filter;  // `for x in xs if cond`; may be null
  StmtList body, else_body;
};

struct SetStmt : Stmt {
  explicit SetStmt(int l) : Stmt(StmtKind::kSet, l) {}
  Target target;
  ExprPtr value;
};

struct SetBlockStmt : Stmt {
  explicit SetBlockStmt(int l) : Stmt(StmtKind::kSetBlock, l) {}
  Target target;
  ExprPtr filter;  // FilterExpr chain over the body, innermost operand null; may be null
  StmtList body;
};

struct MacroStmt : Stmt {
  explicit MacroStmt(int l) : Stmt(StmtKind::kMacro, l) {}
  std::string name;
  std::vector<std::string> params;
  std::vector<ExprPtr> defaults;  // for the last defaults.size() params
  StmtList body;
  // Whether the body reads these special names (Jinja2 accepts extra
  // positional / keyword arguments and a caller only then).
  bool uses_varargs = false, uses_kwargs = false, uses_caller = false;
};

struct CallBlockStmt : Stmt {
  explicit CallBlockStmt(int l) : Stmt(StmtKind::kCallBlock, l) {}
  std::unique_ptr<CallExpr> call;
  MacroStmt caller{0};  // the body as the macro `caller`
};

struct FilterBlockStmt : Stmt {
  explicit FilterBlockStmt(int l) : Stmt(StmtKind::kFilterBlock, l) {}
  ExprPtr filter;  // FilterExpr chain, innermost operand null
  StmtList body;
};

struct WithStmt : Stmt {
  explicit WithStmt(int l) : Stmt(StmtKind::kWith, l) {}
  std::vector<Target> targets;
  std::vector<ExprPtr> values;
  StmtList body;
};

struct LoopControlStmt : Stmt {  // kBreak or kContinue
  using Stmt::Stmt;
};

struct Template {
  StmtList body;
};

}  // namespace nomoat::jinja
