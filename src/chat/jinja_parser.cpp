#include "chat/jinja_parser.h"

#include <algorithm>

#include "chat/jinja_builtins.h"
#include "chat/jinja_lexer.h"
#include "chat/jinja_names.h"

namespace nomoat::jinja {
namespace {

// Deeper nesting than this is refused rather than risking the stack.
constexpr int kMaxNesting = 200;

std::string describe(const Token& t) {
  switch (t.type) {
    case TokenType::kEnd: return "end of template";
    case TokenType::kBlockBegin: return "'{%'";
    case TokenType::kBlockEnd: return "end of statement block ('%}')";
    case TokenType::kVariableBegin: return "'{{'";
    case TokenType::kVariableEnd: return "end of print statement ('}}')";
    case TokenType::kData: return "template text";
    case TokenType::kString: return "string literal";
    case TokenType::kInteger:
    case TokenType::kFloat: return "number " + t.text;
    default: return "'" + t.text + "'";
  }
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += "'" + names[i] + "'";
  }
  return out;
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  Template run() {
    Template t;
    t.body = subparse({});
    return t;
  }

 private:
  // ------------------------------------------------------------ token stream
  const Token& cur() const { return tokens_[pos_]; }
  const Token& look() const { return tokens_[std::min(pos_ + 1, tokens_.size() - 1)]; }
  const Token& next() {
    const Token& t = tokens_[pos_];
    if (pos_ + 1 < tokens_.size()) ++pos_;
    return t;
  }
  bool at_op(std::string_view op) const { return cur().type == TokenType::kOperator && cur().text == op; }
  bool at_name(std::string_view name) const { return cur().type == TokenType::kName && cur().text == name; }
  bool at(TokenType type) const { return cur().type == type; }
  bool skip_op(std::string_view op) {
    if (!at_op(op)) return false;
    next();
    return true;
  }
  bool skip_name(std::string_view name) {
    if (!at_name(name)) return false;
    next();
    return true;
  }
  [[noreturn]] void fail_here(const std::string& message) const { throw TemplateError(message, cur().line); }
  void expect_op(std::string_view op) {
    if (!skip_op(op)) fail_here(cat("expected '", op, "', got ", describe(cur())));
  }
  void expect(TokenType type, const char* what) {
    if (!at(type)) fail_here(cat("expected ", what, ", got ", describe(cur())));
    next();
  }
  const Token& expect_name() {
    if (!at(TokenType::kName)) fail_here(cat("expected a name, got ", describe(cur())));
    return next();
  }

  struct Nesting {
    explicit Nesting(Parser& p) : parser(p) {
      if (++parser.nesting_ > kMaxNesting) parser.fail_here(cat("template nested deeper than ", kMaxNesting, " levels"));
    }
    ~Nesting() { --parser.nesting_; }
    Parser& parser;
  };

  // ------------------------------------------------------------ statements
  StmtList subparse(const std::vector<std::string>& end_names) {
    Nesting guard(*this);
    StmtList body;
    while (!at(TokenType::kEnd)) {
      const Token& t = cur();
      if (t.type == TokenType::kData) {
        body.push_back(std::make_unique<TextStmt>(t.text, t.line));
        next();
      } else if (t.type == TokenType::kVariableBegin) {
        next();
        const int line = cur().line;
        body.push_back(std::make_unique<PrintStmt>(parse_tuple(false, true, {}, false), line));
        expect(TokenType::kVariableEnd, "'}}'");
      } else if (t.type == TokenType::kBlockBegin) {
        next();
        if (at(TokenType::kName) &&
            std::find(end_names.begin(), end_names.end(), cur().text) != end_names.end()) {
          return body;
        }
        parse_statement(body, end_names);
        expect(TokenType::kBlockEnd, "'%}'");
      } else {
        fail_here(cat("unexpected ", describe(t)));
      }
    }
    if (!end_names.empty()) fail_here(cat("unexpected end of template, expected ", join_names(end_names)));
    return body;
  }

  // After the tag's own arguments: '%}', the body up to one of `end_names`.
  StmtList parse_statements(const std::vector<std::string>& end_names, bool drop_needle) {
    skip_op(":");
    expect(TokenType::kBlockEnd, "'%}'");
    StmtList body = subparse(end_names);
    if (drop_needle) next();
    return body;
  }

  void parse_statement(StmtList& out, const std::vector<std::string>& end_names) {
    if (!at(TokenType::kName)) fail_here(cat("expected a statement name, got ", describe(cur())));
    const std::string name = cur().text;
    const int line = cur().line;
    if (name == "if") return out.push_back(parse_if());
    if (name == "for") return out.push_back(parse_for());
    if (name == "set") return out.push_back(parse_set());
    if (name == "macro") return out.push_back(parse_macro());
    if (name == "call") return out.push_back(parse_call_block());
    if (name == "filter") return out.push_back(parse_filter_block());
    if (name == "with") return out.push_back(parse_with());
    if (name == "generation") {  // transformers' AssistantTracker: renders its body as is
      next();
      auto w = std::make_unique<WithStmt>(line);
      w->body = parse_statements({"endgeneration"}, true);
      return out.push_back(std::move(w));
    }
    if (name == "print") {
      next();
      for (bool first = true; !at(TokenType::kBlockEnd); first = false) {
        if (!first) expect_op(",");
        out.push_back(std::make_unique<PrintStmt>(parse_expression(true), line));
      }
      return;
    }
    if (name == "break" || name == "continue") {
      next();
      if (loop_depth_ == 0) throw TemplateError(cat("'", name, "' outside a for loop"), line);
      return out.push_back(std::make_unique<LoopControlStmt>(name == "break" ? StmtKind::kBreak : StmtKind::kContinue,
                                                             line));
    }
    if (name == "block" || name == "extends" || name == "include" || name == "import" || name == "from" ||
        name == "autoescape") {
      throw TemplateError(cat("the '", name, "' statement is not supported in chat templates"), line);
    }
    if (!end_names.empty()) {
      throw TemplateError(cat("unexpected '", name, "' (expected ", join_names(end_names), ")"), line);
    }
    throw TemplateError(cat("unknown statement '", name, "'"), line);
  }

  StmtPtr parse_if() {
    auto node = std::make_unique<IfStmt>(next().line);
    while (true) {
      ExprPtr test = parse_tuple(false, false, {}, false);
      StmtList body = parse_statements({"elif", "else", "endif"}, false);
      node->branches.emplace_back(std::move(test), std::move(body));
      const Token& t = next();
      if (t.text == "elif") continue;
      if (t.text == "else") node->else_body = parse_statements({"endif"}, true);
      break;
    }
    return node;
  }

  StmtPtr parse_for() {
    auto node = std::make_unique<ForStmt>(next().line);
    node->target = parse_assign_target(true, false, {"in"}, false);
    if (!skip_name("in")) fail_here(cat("expected 'in', got ", describe(cur())));
    node->iterable = parse_tuple(false, false, {"recursive"}, false);
    if (skip_name("if")) node->filter = parse_expression(true);
    if (at_name("recursive")) fail_here("recursive for loops are not supported in chat templates");
    ++loop_depth_;
    node->body = parse_statements({"endfor", "else"}, false);
    --loop_depth_;
    if (next().text == "else") node->else_body = parse_statements({"endfor"}, true);
    return node;
  }

  StmtPtr parse_set() {
    const int line = next().line;
    Target target = parse_assign_target(true, false, {}, true);
    if (skip_op("=")) {
      auto node = std::make_unique<SetStmt>(line);
      node->target = std::move(target);
      node->value = parse_tuple(false, true, {}, false);
      return node;
    }
    auto node = std::make_unique<SetBlockStmt>(line);
    node->target = std::move(target);
    if (at_op("|")) node->filter = parse_filter(nullptr, false);
    node->body = parse_statements({"endset"}, true);
    return node;
  }

  void parse_signature(MacroStmt& m) {
    expect_op("(");
    while (!at_op(")")) {
      if (!m.params.empty()) expect_op(",");
      const Token& t = expect_name();
      m.params.push_back(t.text);
      if (skip_op("=")) {
        m.defaults.push_back(parse_expression(true));
      } else if (!m.defaults.empty()) {
        throw TemplateError("non-default argument follows default argument", t.line);
      }
    }
    expect_op(")");
  }

  void find_special_names(MacroStmt& m) {
    visit_names(m.body, [&](const std::string& n) {
      m.uses_varargs = m.uses_varargs || n == "varargs";
      m.uses_kwargs = m.uses_kwargs || n == "kwargs";
      m.uses_caller = m.uses_caller || n == "caller";
    });
  }

  StmtPtr parse_macro() {
    auto node = std::make_unique<MacroStmt>(next().line);
    node->name = expect_name().text;
    parse_signature(*node);
    const int saved_loops = std::exchange(loop_depth_, 0);
    node->body = parse_statements({"endmacro"}, true);
    loop_depth_ = saved_loops;
    find_special_names(*node);
    return node;
  }

  StmtPtr parse_call_block() {
    auto node = std::make_unique<CallBlockStmt>(next().line);
    node->caller.line = node->line;
    node->caller.name = "caller";
    if (at_op("(")) parse_signature(node->caller);
    ExprPtr call = parse_expression(true);
    if (call->kind != ExprKind::kCall) throw TemplateError("expected a macro call after 'call'", node->line);
    node->call.reset(static_cast<CallExpr*>(call.release()));
    const int saved_loops = std::exchange(loop_depth_, 0);
    node->caller.body = parse_statements({"endcall"}, true);
    loop_depth_ = saved_loops;
    find_special_names(node->caller);
    return node;
  }

  StmtPtr parse_filter_block() {
    auto node = std::make_unique<FilterBlockStmt>(next().line);
    node->filter = parse_filter(nullptr, true);
    node->body = parse_statements({"endfilter"}, true);
    return node;
  }

  StmtPtr parse_with() {
    auto node = std::make_unique<WithStmt>(next().line);
    while (!at(TokenType::kBlockEnd)) {
      if (!node->targets.empty()) expect_op(",");
      node->targets.push_back(parse_assign_target(true, false, {}, false));
      expect_op("=");
      node->values.push_back(parse_expression(true));
    }
    node->body = parse_statements({"endwith"}, true);
    return node;
  }

  Target to_target(const Expr& e) {
    Target t;
    t.line = e.line;
    if (e.kind == ExprKind::kName) {
      t.name = static_cast<const NameExpr&>(e).name;
      return t;
    }
    if (e.kind == ExprKind::kTuple) {
      t.kind = Target::Kind::kTuple;
      for (const auto& item : static_cast<const SequenceExpr&>(e).items) t.items.push_back(to_target(*item));
      return t;
    }
    throw TemplateError(e.kind == ExprKind::kConst ? "can't assign to a constant" : "can't assign to an expression",
                        e.line);
  }

  Target parse_assign_target(bool with_tuple, bool name_only, const std::vector<std::string>& extra_end,
                             bool with_namespace) {
    if (with_namespace && at(TokenType::kName) && look().type == TokenType::kOperator && look().text == ".") {
      Target t;
      t.kind = Target::Kind::kNamespaceAttr;
      t.line = cur().line;
      t.name = next().text;
      next();  // '.'
      t.attr = expect_name().text;
      return t;
    }
    if (name_only) {
      Target t;
      t.line = cur().line;
      t.name = expect_name().text;
      return t;
    }
    ExprPtr e = with_tuple ? parse_tuple(true, true, extra_end, false) : parse_primary();
    return to_target(*e);
  }

  // ------------------------------------------------------------ expressions
  bool is_tuple_end(const std::vector<std::string>& extra_end) const {
    if (at(TokenType::kVariableEnd) || at(TokenType::kBlockEnd) || at_op(")")) return true;
    return at(TokenType::kName) && std::find(extra_end.begin(), extra_end.end(), cur().text) != extra_end.end();
  }

  ExprPtr parse_tuple(bool simplified, bool with_condexpr, const std::vector<std::string>& extra_end,
                      bool explicit_parentheses) {
    const int line = cur().line;
    auto tuple = std::make_unique<SequenceExpr>(ExprKind::kTuple, line);
    bool is_tuple = false;
    while (true) {
      if (!tuple->items.empty()) expect_op(",");
      if (is_tuple_end(extra_end)) break;
      tuple->items.push_back(simplified ? parse_primary() : parse_expression(with_condexpr));
      if (at_op(",")) {
        is_tuple = true;
      } else {
        break;
      }
    }
    if (!is_tuple) {
      if (!tuple->items.empty()) return std::move(tuple->items[0]);
      if (!explicit_parentheses) fail_here(cat("expected an expression, got ", describe(cur())));
    }
    return tuple;
  }

  ExprPtr parse_expression(bool with_condexpr) {
    Nesting guard(*this);
    return with_condexpr ? parse_condexpr() : parse_or();
  }

  ExprPtr parse_condexpr() {
    int line = cur().line;
    ExprPtr expr1 = parse_or();
    while (skip_name("if")) {
      ExprPtr test = parse_or();
      ExprPtr otherwise = skip_name("else") ? parse_condexpr() : nullptr;
      expr1 = std::make_unique<CondExpr>(std::move(test), std::move(expr1), std::move(otherwise), line);
      line = cur().line;
    }
    return expr1;
  }

  ExprPtr parse_or() {
    ExprPtr left = parse_and();
    while (at_name("or")) {
      const int line = next().line;
      left = std::make_unique<BinaryExpr>(BinaryOp::kOr, std::move(left), parse_and(), line);
    }
    return left;
  }

  ExprPtr parse_and() {
    ExprPtr left = parse_not();
    while (at_name("and")) {
      const int line = next().line;
      left = std::make_unique<BinaryExpr>(BinaryOp::kAnd, std::move(left), parse_not(), line);
    }
    return left;
  }

  ExprPtr parse_not() {
    if (at_name("not")) {
      Nesting guard(*this);
      const int line = next().line;
      return std::make_unique<UnaryExpr>(UnaryOp::kNot, parse_not(), line);
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    const int line = cur().line;
    ExprPtr first = parse_math1();
    std::unique_ptr<CompareExpr> cmp;
    while (true) {
      CompareOp op;
      if (at_op("==")) {
        op = CompareOp::kEq;
      } else if (at_op("!=")) {
        op = CompareOp::kNe;
      } else if (at_op("<")) {
        op = CompareOp::kLt;
      } else if (at_op("<=")) {
        op = CompareOp::kLe;
      } else if (at_op(">")) {
        op = CompareOp::kGt;
      } else if (at_op(">=")) {
        op = CompareOp::kGe;
      } else if (at_name("in")) {
        op = CompareOp::kIn;
      } else if (at_name("not") && look().type == TokenType::kName && look().text == "in") {
        next();
        op = CompareOp::kNotIn;
      } else {
        break;
      }
      next();
      if (!cmp) cmp = std::make_unique<CompareExpr>(std::move(first), line);
      cmp->rest.emplace_back(op, parse_math1());
    }
    if (cmp) return cmp;
    return first;
  }

  ExprPtr parse_math1() {
    ExprPtr left = parse_concat();
    while (at_op("+") || at_op("-")) {
      const BinaryOp op = cur().text == "+" ? BinaryOp::kAdd : BinaryOp::kSub;
      const int line = next().line;
      left = std::make_unique<BinaryExpr>(op, std::move(left), parse_concat(), line);
    }
    return left;
  }

  ExprPtr parse_concat() {
    const int line = cur().line;
    ExprPtr first = parse_math2();
    if (!at_op("~")) return first;
    auto concat = std::make_unique<ConcatExpr>(line);
    concat->items.push_back(std::move(first));
    while (skip_op("~")) concat->items.push_back(parse_math2());
    return concat;
  }

  ExprPtr parse_math2() {
    ExprPtr left = parse_pow();
    while (at_op("*") || at_op("/") || at_op("//") || at_op("%")) {
      const std::string& t = cur().text;
      const BinaryOp op = t == "*" ? BinaryOp::kMul : t == "/" ? BinaryOp::kDiv : t == "//" ? BinaryOp::kFloorDiv
                                                                                            : BinaryOp::kMod;
      const int line = next().line;
      left = std::make_unique<BinaryExpr>(op, std::move(left), parse_pow(), line);
    }
    return left;
  }

  ExprPtr parse_pow() {
    ExprPtr left = parse_unary(true);
    while (at_op("**")) {
      const int line = next().line;
      left = std::make_unique<BinaryExpr>(BinaryOp::kPow, std::move(left), parse_unary(true), line);
    }
    return left;
  }

  ExprPtr parse_unary(bool with_filter) {
    Nesting guard(*this);
    const int line = cur().line;
    ExprPtr node;
    if (at_op("-")) {
      next();
      node = std::make_unique<UnaryExpr>(UnaryOp::kNeg, parse_unary(false), line);
    } else if (at_op("+")) {
      next();
      node = std::make_unique<UnaryExpr>(UnaryOp::kPos, parse_unary(false), line);
    } else {
      node = parse_primary();
    }
    node = parse_postfix(std::move(node));
    if (with_filter) node = parse_filter_expr(std::move(node));
    return node;
  }

  ExprPtr parse_primary() {
    Nesting guard(*this);
    const Token& t = cur();
    const int line = t.line;
    switch (t.type) {
      case TokenType::kName: {
        const std::string name = next().text;
        if (name == "true" || name == "True") return std::make_unique<ConstExpr>(Value::boolean(true), line);
        if (name == "false" || name == "False") return std::make_unique<ConstExpr>(Value::boolean(false), line);
        if (name == "none" || name == "None") return std::make_unique<ConstExpr>(Value::none(), line);
        return std::make_unique<NameExpr>(name, line);
      }
      case TokenType::kString: {
        std::string text = next().text;
        while (at(TokenType::kString)) text += next().text;  // adjacent literals join
        return std::make_unique<ConstExpr>(Value::string(std::move(text)), line);
      }
      case TokenType::kInteger: return std::make_unique<ConstExpr>(Value::integer(next().int_value), line);
      case TokenType::kFloat: return std::make_unique<ConstExpr>(Value::number(next().float_value), line);
      case TokenType::kOperator:
        if (t.text == "(") {
          next();
          ExprPtr e = parse_tuple(false, true, {}, true);
          expect_op(")");
          return e;
        }
        if (t.text == "[") return parse_list();
        if (t.text == "{") return parse_dict();
        break;
      default: break;
    }
    fail_here(cat("unexpected ", describe(t)));
  }

  ExprPtr parse_list() {
    auto list = std::make_unique<SequenceExpr>(ExprKind::kList, next().line);
    while (!at_op("]")) {
      if (!list->items.empty()) expect_op(",");
      if (at_op("]")) break;
      list->items.push_back(parse_expression(true));
    }
    expect_op("]");
    return list;
  }

  ExprPtr parse_dict() {
    auto dict = std::make_unique<DictExpr>(next().line);
    while (!at_op("}")) {
      if (!dict->entries.empty()) expect_op(",");
      if (at_op("}")) break;
      ExprPtr key = parse_expression(true);
      expect_op(":");
      dict->entries.emplace_back(std::move(key), parse_expression(true));
    }
    expect_op("}");
    return dict;
  }

  ExprPtr parse_postfix(ExprPtr node) {
    while (true) {
      if (at_op(".") || at_op("[")) {
        node = parse_subscript(std::move(node));
      } else if (at_op("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_filter_expr(ExprPtr node) {
    while (true) {
      if (at_op("|")) {
        node = parse_filter(std::move(node), false);
      } else if (at_name("is")) {
        node = parse_test(std::move(node));
      } else if (at_op("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr node) {
    Nesting guard(*this);
    const Token& t = next();
    const int line = t.line;
    if (t.text == ".") {
      const Token& attr = next();
      if (attr.type == TokenType::kName) return std::make_unique<GetattrExpr>(std::move(node), attr.text, line);
      if (attr.type != TokenType::kInteger) throw TemplateError("expected a name or number after '.'", attr.line);
      return std::make_unique<GetitemExpr>(std::move(node),
                                           std::make_unique<ConstExpr>(Value::integer(attr.int_value), attr.line), line);
    }
    std::vector<ExprPtr> args;
    while (!at_op("]")) {
      if (!args.empty()) expect_op(",");
      args.push_back(parse_subscribed());
    }
    expect_op("]");
    if (args.size() == 1) return std::make_unique<GetitemExpr>(std::move(node), std::move(args[0]), line);
    auto tuple = std::make_unique<SequenceExpr>(ExprKind::kTuple, line);
    tuple->items = std::move(args);
    return std::make_unique<GetitemExpr>(std::move(node), std::move(tuple), line);
  }

  ExprPtr parse_subscribed() {
    const int line = cur().line;
    auto slice = std::make_unique<SliceExpr>(line);
    if (!skip_op(":")) {
      ExprPtr e = parse_expression(true);
      if (!skip_op(":")) return e;
      slice->start = std::move(e);
    }
    if (!at_op(":") && !at_op("]") && !at_op(",")) slice->stop = parse_expression(true);
    if (skip_op(":")) {
      if (!at_op("]") && !at_op(",")) slice->step = parse_expression(true);
    }
    return slice;
  }

  CallArgsExpr parse_call_args() {
    const int line = cur().line;
    expect_op("(");
    CallArgsExpr args;
    bool require_comma = false;
    auto ensure = [&](bool ok) {
      if (!ok) throw TemplateError("invalid syntax for function call expression", line);
    };
    while (!at_op(")")) {
      if (require_comma) {
        expect_op(",");
        if (at_op(")")) break;
      }
      if (skip_op("*")) {
        ensure(!args.star_args && !args.star_kwargs);
        args.star_args = parse_expression(true);
      } else if (skip_op("**")) {
        ensure(!args.star_kwargs);
        args.star_kwargs = parse_expression(true);
      } else if (at(TokenType::kName) && look().type == TokenType::kOperator && look().text == "=") {
        ensure(!args.star_kwargs);
        std::string key = next().text;
        next();
        args.keyword.emplace_back(std::move(key), parse_expression(true));
      } else {
        ensure(!args.star_args && !args.star_kwargs && args.keyword.empty());
        args.positional.push_back(parse_expression(true));
      }
      require_comma = true;
    }
    expect_op(")");
    return args;
  }

  ExprPtr parse_call(ExprPtr node) {
    Nesting guard(*this);
    auto call = std::make_unique<CallExpr>(std::move(node), cur().line);
    call->args = parse_call_args();
    return call;
  }

  std::string parse_dotted_name() {
    std::string name = expect_name().text;
    while (skip_op(".")) name += "." + expect_name().text;
    return name;
  }

  ExprPtr parse_filter(ExprPtr node, bool start_inline) {
    while (at_op("|") || start_inline) {
      if (!start_inline) next();
      start_inline = false;
      const int line = cur().line;
      std::string name = parse_dotted_name();
      if (!jinja_has_filter(name)) throw TemplateError(cat("unknown filter '", name, "'"), line);
      auto f = std::make_unique<FilterExpr>(std::move(node), std::move(name), line);
      if (at_op("(")) f->args = parse_call_args();
      node = std::move(f);
    }
    return node;
  }

  ExprPtr parse_test(ExprPtr node) {
    const int line = next().line;  // 'is'
    const bool negated = skip_name("not");
    std::string name = parse_dotted_name();
    if (!jinja_has_test(name)) throw TemplateError(cat("unknown test '", name, "'"), line);
    auto t = std::make_unique<TestExpr>(std::move(node), std::move(name), negated, line);
    if (at_op("(")) {
      t->args = parse_call_args();
    } else if ((at(TokenType::kName) || at(TokenType::kString) || at(TokenType::kInteger) || at(TokenType::kFloat) ||
                at_op("(") || at_op("[") || at_op("{")) &&
               !at_name("else") && !at_name("or") && !at_name("and")) {
      if (at_name("is")) fail_here("you cannot chain multiple tests with 'is'");
      t->args.positional.push_back(parse_postfix(parse_primary()));
    }
    return t;
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int nesting_ = 0;
  int loop_depth_ = 0;
};

}  // namespace

Template parse_template(std::string_view source) { return Parser(tokenize(source)).run(); }

}  // namespace nomoat::jinja
