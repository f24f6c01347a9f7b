// Splits a Jinja2 template into text and tag tokens, applying whitespace
// control exactly as Jinja2's lexer does under Hugging Face's settings
// (trim_blocks and lstrip_blocks on, keep_trailing_newline off):
//   {%- / -%} (and {{- -}}, {#- -#}) strip all whitespace before / after,
//   a block or comment tag alone on its line takes its indentation with it
//   (unless written {%+), and the newline right after %} or #} is dropped
//   (unless written +%}). \r\n and \r become \n; one final newline is dropped.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nomoat::jinja {

enum class TokenType {
  kData,           // template text outside tags (raw blocks included)
  kBlockBegin,     // {%
  kBlockEnd,       // %}
  kVariableBegin,  // {{
  kVariableEnd,    // }}
  kName,
  kString,   // text: the decoded literal
  kInteger,  // int_value
  kFloat,    // float_value
  kOperator,  // text: + - * / // % ** ~ == != < <= > >= = . : | , ; ( ) [ ] { }
  kEnd,
};

struct Token {
  TokenType type = TokenType::kEnd;
  std::string text;
  int64_t int_value = 0;
  double float_value = 0;
  int line = 1;
};

// Throws TemplateError with the line for malformed input (unterminated
// strings, comments or raw blocks, unbalanced brackets, unknown characters).
std::vector<Token> tokenize(std::string_view source);

}  // namespace nomoat::jinja
