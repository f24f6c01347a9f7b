// Parses Jinja2 template text into the AST (jinja_ast.h) with Jinja2's
// grammar and operator precedence. Statements outside the chat-template
// subset (include, extends, block, import, autoescape, recursive loops) and
// unknown filters/tests are rejected here, naming the construct and line.
#pragma once

#include <string_view>

#include "chat/jinja_ast.h"

namespace nomoat::jinja {

// Throws TemplateError with the line of the offending token.
Template parse_template(std::string_view source);

}  // namespace nomoat::jinja
