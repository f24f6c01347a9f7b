// Walks the AST for the variable names it reads (the parser uses it to see
// whether a macro body reads varargs, kwargs or caller, as Jinja2 does).
#pragma once

#include <functional>
#include <string>

#include "chat/jinja_ast.h"

namespace nomoat::jinja {

using NameVisitor = std::function<void(const std::string&)>;

// Calls `fn` on every variable name read in the expression / statements.
void visit_names(const Expr* e, const NameVisitor& fn);
void visit_names(const StmtList& body, const NameVisitor& fn);

}  // namespace nomoat::jinja
