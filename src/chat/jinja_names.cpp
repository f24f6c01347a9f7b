#include "chat/jinja_names.h"

namespace nomoat::jinja {
namespace {

void visit_args(const CallArgsExpr& a, const NameVisitor& fn) {
  for (const auto& p : a.positional) visit_names(p.get(), fn);
  for (const auto& [k, v] : a.keyword) visit_names(v.get(), fn);
  visit_names(a.star_args.get(), fn);
  visit_names(a.star_kwargs.get(), fn);
}

}  // namespace

void visit_names(const Expr* e, const NameVisitor& fn) {
  if (e == nullptr) return;
  switch (e->kind) {
    case ExprKind::kConst: break;
    case ExprKind::kName: fn(static_cast<const NameExpr*>(e)->name); break;
    case ExprKind::kList:
    case ExprKind::kTuple:
      for (const auto& i : static_cast<const SequenceExpr*>(e)->items) visit_names(i.get(), fn);
      break;
    case ExprKind::kDict:
      for (const auto& [k, v] : static_cast<const DictExpr*>(e)->entries) {
        visit_names(k.get(), fn);
        visit_names(v.get(), fn);
      }
      break;
    case ExprKind::kGetattr: visit_names(static_cast<const GetattrExpr*>(e)->object.get(), fn); break;
    case ExprKind::kGetitem:
      visit_names(static_cast<const GetitemExpr*>(e)->object.get(), fn);
      visit_names(static_cast<const GetitemExpr*>(e)->index.get(), fn);
      break;
    case ExprKind::kSlice: {
      const auto* s = static_cast<const SliceExpr*>(e);
      visit_names(s->start.get(), fn);
      visit_names(s->stop.get(), fn);
      visit_names(s->step.get(), fn);
      break;
    }
    case ExprKind::kCall:
      visit_names(static_cast<const CallExpr*>(e)->callee.get(), fn);
      visit_args(static_cast<const CallExpr*>(e)->args, fn);
      break;
    case ExprKind::kFilter:
      visit_names(static_cast<const FilterExpr*>(e)->operand.get(), fn);
      visit_args(static_cast<const FilterExpr*>(e)->args, fn);
      break;
    case ExprKind::kTest:
      visit_names(static_cast<const TestExpr*>(e)->operand.get(), fn);
      visit_args(static_cast<const TestExpr*>(e)->args, fn);
      break;
    case ExprKind::kUnary: visit_names(static_cast<const UnaryExpr*>(e)->operand.get(), fn); break;
    case ExprKind::kBinary:
      visit_names(static_cast<const BinaryExpr*>(e)->left.get(), fn);
      visit_names(static_cast<const BinaryExpr*>(e)->right.get(), fn);
      break;
    case ExprKind::kConcat:
      for (const auto& i : static_cast<const ConcatExpr*>(e)->items) visit_names(i.get(), fn);
      break;
    case ExprKind::kCompare:
      visit_names(static_cast<const CompareExpr*>(e)->first.get(), fn);
      for (const auto& [op, x] : static_cast<const CompareExpr*>(e)->rest) visit_names(x.get(), fn);
      break;
    case ExprKind::kCondExpr: {
      const auto* c = static_cast<const CondExpr*>(e);
      visit_names(c->test.get(), fn);
      visit_names(c->then.get(), fn);
      visit_names(c->otherwise.get(), fn);
      break;
    }
  }
}

void visit_names(const StmtList& body, const NameVisitor& fn) {
  for (const StmtPtr& s : body) {
    switch (s->kind) {
      case StmtKind::kText:
      case StmtKind::kBreak:
      case StmtKind::kContinue: break;
      case StmtKind::kPrint: visit_names(static_cast<const PrintStmt*>(s.get())->expr.get(), fn); break;
      case StmtKind::kIf: {
        const auto* i = static_cast<const IfStmt*>(s.get());
        for (const auto& [test, b] : i->branches) {
          visit_names(test.get(), fn);
          visit_names(b, fn);
        }
        visit_names(i->else_body, fn);
        break;
      }
      case StmtKind::kFor: {
        const auto* f = static_cast<const ForStmt*>(s.get());
        visit_names(f->iterable.get(), fn);
        visit_names(f->filter.get(), fn);
        visit_names(f->body, fn);
        visit_names(f->else_body, fn);
        break;
      }
      case StmtKind::kSet: visit_names(static_cast<const SetStmt*>(s.get())->value.get(), fn); break;
      case StmtKind::kSetBlock:
        visit_names(static_cast<const SetBlockStmt*>(s.get())->filter.get(), fn);
        visit_names(static_cast<const SetBlockStmt*>(s.get())->body, fn);
        break;
      case StmtKind::kMacro: {
        const auto* m = static_cast<const MacroStmt*>(s.get());
        for (const auto& d : m->defaults) visit_names(d.get(), fn);
        visit_names(m->body, fn);
        break;
      }
      case StmtKind::kCallBlock: {
        const auto* c = static_cast<const CallBlockStmt*>(s.get());
        visit_names(c->call.get(), fn);
        visit_names(c->caller.body, fn);
        break;
      }
      case StmtKind::kFilterBlock:
        visit_names(static_cast<const FilterBlockStmt*>(s.get())->filter.get(), fn);
        visit_names(static_cast<const FilterBlockStmt*>(s.get())->body, fn);
        break;
      case StmtKind::kWith: {
        const auto* w = static_cast<const WithStmt*>(s.get());
        for (const auto& v : w->values) visit_names(v.get(), fn);
        visit_names(w->body, fn);
        break;
      }
    }
  }
}

}  // namespace nomoat::jinja
