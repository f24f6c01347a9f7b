// The template interpreter construct by construct, with expected outputs as
// Python's Jinja2 (configured as Hugging Face's) renders them, and each
// failure naming the construct and the template line. These run without
// Python; tests/chat/chat_template_reference_test.cpp compares against a
// live Jinja2 over many more cases.
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>

#include "chat/jinja_eval.h"
#include "chat/jinja_parser.h"
#include "chat/py_text.h"

namespace nomoat::jinja {
namespace {

using Json = nlohmann::ordered_json;

const Json& vars() {
  static const Json v = Json::parse(R"({"s": "Hello", "n": 7, "f": 2.5, "xs": [3, 1, 2],
    "d": {"b": 1, "a": [true, null]},
    "m": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}], "e": [],
    "bos_token": "<s>", "eos_token": "</s>"})");
  return v;
}

std::string render(const std::string& source, RenderLimits limits = {}) {
  const Template t = parse_template(source);
  std::vector<std::pair<std::string, Value>> context;
  for (const auto& [k, v] : vars().items()) context.emplace_back(k, from_json(v));
  setenv("TZ", "UTC", 1);  // strftime_now reads local time, as transformers does
  tzset();
  Evaluator ev(limits, 0);
  return ev.render(t, context);
}

struct Case {
  const char* name;
  const char* source;
  const char* expected;
};

// Expected outputs from Python's Jinja2 3.1 with transformers' settings.
const Case kCases[] = {
    {"trim_blocks", "{% if true %}\nyes\n{% endif %}\n", "yes\n"},
    {"lstrip_blocks", "a\n    {% if true %}\n    b\n    {% endif %}\nc", "a\n    b\nc"},
    {"minus_strips", "a  \n {%- if true -%}  \n b {{- ' c ' -}} \n{%- endif %}", "ab c "},
    {"plus_keeps", "a\n  {%+ if true +%}\nb{% endif %}", "a\n  \nb"},
    {"comment_line", "a\n  {# note #}\nb", "a\nb"},
    {"raw", "{% raw %}{{ x }}{% endraw %}", "{{ x }}"},
    {"final_newline_dropped", "x\n", "x"},
    {"print_python_values", "{{ [1, 'a', none, true, 1.0, {'k': (1,)}] }} {{ 1e-05 }} {{ 0.1 + 0.2 }} {{ 'it\\'s' }}", "[1, 'a', None, True, 1.0, {'k': (1,)}] 1e-05 0.30000000000000004 it's"},
    {"print_undefined", "[{{ nothing }}][{{ d.zz }}]", "[][]"},
    {"arithmetic", "{{ 7 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 2 ** 8 }} {{ 1 + 2.5 }} {{ 'ab' * 2 }}", "3.5 3 -4 2 256 3.5 abab"},
    {"concat", "{{ 'n=' ~ n ~ none }}", "n=7None"},
    {"compare_logic", "{{ 1 < 2 < 3 }} {{ 1 == 1.0 }} {{ 'el' in s }} {{ 4 not in xs }} {{ n and 'y' }} {{ 0 or 'z' }} {{ not xs }}", "True True True True y z False"},
    {"cond_expr", "{{ 'a' if n > 5 else 'b' }}[{{ 'a' if false }}]", "a[]"},
    {"access", "{{ d.b }} {{ d['a'][0] }} {{ m[-1].content }} {{ s[1:3] }} {{ xs[::-1] }} {{ s[-1] }} {{ d.get('b') }}", "1 True Yo el [2, 1, 3] o 1"},
    {"dict_method_wins", "{{ {'items': 1}['items'] }} {{ ({'items': 1}.items() | list) }}", "1 [('items', 1)]"},
    {"if_elif_else", "{% for i in [1, 2, 3] %}{% if i == 1 %}a{% elif i == 2 %}b{% else %}c{% endif %}{% endfor %}", "abc"},
    {"loop_vars", "{% for x in xs %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.first }}{{ loop.last }}{{ loop.length }}[{{ loop.previtem }},{{ loop.nextitem }}] {% endfor %}", "103TrueFalse3[,1] 212FalseFalse3[3,2] 321FalseTrue3[1,] "},
    {"loop_filter_else", "{% for x in xs if x > 1 %}{{ x }}/{{ loop.length }} {% endfor %}{% for x in e %}{% else %}none{% endfor %}", "3/2 2/2 none"},
    {"loop_unpack", "{% for k, v in d.items() %}{{ k }}={{ v }} {% endfor %}", "b=1 a=[True, None] "},
    {"break_continue", "{% for i in range(9) %}{% if i == 1 %}{% continue %}{% endif %}{% if i == 4 %}{% break %}{% endif %}{{ i }}{% endfor %}", "023"},
    {"set_and_scoping", "{% set x = 1 %}{% for i in xs %}{% set x = i %}{% endfor %}{{ x }}{% if true %}{% set x = 2 %}{% endif %}{{ x }}", "12"},
    {"set_block", "{% set b %}<{{ n }}>{% endset %}{{ b }}", "<7>"},
    {"namespace", "{% set ns = namespace(c=0) %}{% for x in xs %}{% set ns.c = ns.c + x %}{% endfor %}{{ ns.c }}", "6"},
    {"macro", "{% macro f(a, b='B', c=a) %}{{ a }}{{ b }}{{ c }}{% endmacro %}{{ f(1) }} {{ f(1, c=3) }} {{ f('x', 'y') }}", "1B1 1B3 xyx"},
    {"macro_caller", "{% macro w() %}[{{ caller() }}]{% endmacro %}{% call w() %}in{% endcall %}", "[in]"},
    {"filter_block", "{% filter upper %}abc{% endfilter %}", "ABC"},
    {"generation", "{% generation %}g{% endgeneration %}", "g"},
    {"f_trim", "[{{ '  a b \\n' | trim }}][{{ 'xxaxx' | trim('x') }}]", "[a b][a]"},
    {"f_tojson", "{{ d | tojson }} {{ 'é\"' | tojson }} {{ [1] | tojson(indent=2) }}", "{\"b\": 1, \"a\": [true, null]} \"é\\\"\" [\n  1\n]"},
    {"f_length_count", "{{ xs | length }} {{ s | count }} {{ 'héllo' | length }}", "3 5 5"},
    {"f_items", "{% for k, v in d | items %}{{ k }}{% endfor %}", "ba"},
    {"f_case", "{{ s | upper }} {{ s | lower }} {{ 'hi there' | title }} {{ 'hI' | capitalize }}", "HELLO hello Hi There Hi"},
    {"f_replace_join", "{{ s | replace('l', 'L', 1) }} {{ xs | join('-') }} {{ m | join(',', attribute='role') }}", "HeLlo 3-1-2 user,assistant"},
    {"f_default", "{{ nothing | default('d') }} {{ '' | default('e', true) }} {{ none | d('x') }}", "d e None"},
    {"f_convert", "{{ '42' | int }} {{ '4.5' | float }} {{ 3.9 | int }} {{ xs | string }} {{ s | list }}", "42 4.5 3 [3, 1, 2] ['H', 'e', 'l', 'l', 'o']"},
    {"f_first_last_reverse", "{{ xs | first }} {{ xs | last }} {{ xs | reverse | list }} {{ s | reverse }}", "3 2 [2, 1, 3] olleH"},
    {"f_sort_unique", "{{ xs | sort }} {{ ['b', 'A', 'a'] | sort }} {{ ['a', 'A', 'b'] | unique | list }} {{ m | sort(attribute='role', reverse=true) | map(attribute='role') | list }}", "[1, 2, 3] ['A', 'a', 'b'] ['a', 'b'] ['user', 'assistant']"},
    {"f_select_map", "{{ xs | select('odd') | list }} {{ xs | reject('odd') | list }} {{ m | selectattr('role', 'equalto', 'user') | map(attribute='content') | list }} {{ m | rejectattr('role', 'eq', 'user') | list | length }} {{ ['1', '2'] | map('int') | list }}", "[3, 1] [2] ['Hi'] 1 [1, 2]"},
    {"f_indent", "{{ 'a\\nb\\n\\nc' | indent(2) }}|{{ 'a\\nb' | indent(first=true) }}", "a\n  b\n\n  c|    a\n    b"},
    {"f_misc", "{{ -3 | abs }} {{ 2.5 | round }} {{ 2.567 | round(2) }} {{ 'x' | safe }} {{ [1, 2, 3] | batch(2) | list }}", "3 2.0 2.57 x [[1, 2], [3]]"},
    {"tests", "{{ n is defined }}{{ nothing is undefined }}{{ none is none }}{{ s is string }}{{ n is number }}{{ n is integer }}{{ f is float }}{{ true is boolean }}{{ d is mapping }}{{ xs is iterable }}{{ s is sequence }}{{ true is true }}{{ 0 is false }}{{ n is odd }}{{ n is even }}{{ 9 is divisibleby 3 }}{{ 1 is equalto 1 }}{{ 1 is eq 2 }}{{ 1 is in xs }}", "TrueTrueTrueTrueTrueTrueTrueTrueTrueTrueTrueTrueFalseTrueFalseTrueTrueFalseTrue"},
    {"str_methods", "{{ s.startswith('He') }} {{ s.endswith('x') }} {{ 'a,b'.split(',') }} {{ 'a b'.rsplit(None, 1) }} [{{ '\\nx\\n'.strip() }}][{{ 'xa'.lstrip('x') }}][{{ 'ax'.rstrip('x') }}] {{ s.upper() }} {{ s.lower() }} {{ s.replace('l', '') }} {{ s.find('l') }} {{ 'ab cd'.title() }} {{ '{}-{}'.format(1, 'a') }}", "True False ['a', 'b'] ['a', 'b'] [x][a][a] HELLO hello Heo 2 Ab Cd 1-a"},
    {"dict_methods", "{{ d.keys() | list }} {{ d.values() | list }} {{ d.items() | list }} {{ d.get('zz', 0) }}", "['b', 'a'] [1, [True, None]] [('b', 1), ('a', [True, None])] 0"},
    {"globals", "{{ range(3) | list }} {{ range(1, 6, 2) | list }} {{ dict(a=1) }} {{ namespace(a=1).a }}", "[0, 1, 2] [1, 3, 5] {'a': 1} 1"},
    {"strftime_now", "{{ strftime_now('%Y-%m-%d %H:%M') }}", "1970-01-01 00:00"},
    {"tokens", "{{ bos_token }}|{{ eos_token }}", "<s>|</s>"},
};

TEST(Jinja, ConstructsRenderAsJinja2Does) {
  for (const Case& c : kCases) {
    try {
      EXPECT_EQ(render(c.source), c.expected) << c.name << ": " << c.source;
    } catch (const TemplateError& e) {
      ADD_FAILURE() << c.name << ": line " << e.line << ": " << e.what();
    }
  }
}

struct Failure {
  int line = -1;
  std::string message;
};

Failure failure_of(const std::string& source, RenderLimits limits = {}) {
  try {
    render(source, limits);
  } catch (const TemplateError& e) {
    return {e.line, e.what()};
  }
  ADD_FAILURE() << "no error for: " << source;
  return {};
}

void expect_failure(const std::string& source, int line, const std::string& needle, RenderLimits limits = {}) {
  const Failure f = failure_of(source, limits);
  EXPECT_EQ(f.line, line) << source << " -> " << f.message;
  EXPECT_NE(f.message.find(needle), std::string::npos) << "'" << needle << "' not in: " << f.message;
}

TEST(Jinja, SyntaxErrorsNameConstructAndLine) {
  expect_failure("a\n\n{{ s | wordwrapx }}", 3, "unknown filter 'wordwrapx'");
  expect_failure("{{ s is\n frobbed }}", 1, "unknown test 'frobbed'");
  expect_failure("x\n{% frob %}", 2, "unknown statement 'frob'");
  expect_failure("{% include 'other.jinja' %}", 1, "the 'include' statement is not supported");
  expect_failure("{% extends 'base' %}", 1, "the 'extends' statement is not supported");
  expect_failure("\n{% for x in xs recursive %}{% endfor %}", 2, "recursive for loops are not supported");
  expect_failure("{% for x in xs %}\n{% if x %}\n", 2, "unexpected end of template, expected 'elif', 'else' or 'endif'");
  expect_failure("{% if n %}\n{% endfor %}", 2, "unexpected 'endfor' (expected 'elif', 'else' or 'endif')");
  expect_failure("\n{{ 1 + }}", 2, "unexpected end of print statement");
  expect_failure("{{ 'abc }}", 1, "unterminated string literal");
  expect_failure("a\n{# never closed", 2, "missing end of comment tag");
  expect_failure("{% raw %}\nx", 1, "missing end of raw directive");
  expect_failure("{{ (1] }}", 1, "unexpected ']', expected ')'");
  expect_failure("\n\n{% break %}", 3, "'break' outside a for loop");
  expect_failure("{% set true = 1 %}", 1, "can't assign to a constant");
  expect_failure("{{ 1 $ 2 }}", 1, "unexpected character '$'");
  expect_failure("{{ 99999999999999999999 }}", 1, "integer literal 99999999999999999999 is too large");
  expect_failure("{% macro m(a=1, b) %}{% endmacro %}", 1, "non-default argument follows default argument");
  expect_failure("{{ " + std::string(300, '(') + "1" + std::string(300, ')') + " }}", 1, "nested deeper than");
}

TEST(Jinja, RenderErrorsNameConstructAndLine) {
  expect_failure("\n\n\n{{ raise_exception('roles must alternate') }}", 4, "roles must alternate");
  expect_failure("ok\n{{ missing.attr }}", 2, "'missing' is undefined");
  expect_failure("{% for x in xs %}\n\n{{ d.nope.deeper }}{% endfor %}", 3, "'dict object' has no attribute 'nope'");
  expect_failure("\n{{ s | wordwrap }}", 2, "filter 'wordwrap' is not supported");
  expect_failure("{{ s.expandtabs() }}", 1, "str.expandtabs() is not supported");
  expect_failure("{{ '%s' % n }}", 1, "printf-style string formatting");
  expect_failure("{{ xs.append(1) }}", 1, "access to attribute 'append' of 'list' object is unsafe");
  expect_failure("{{ s + 1 }}", 1, "can only concatenate str (not \"int\") to str");
  expect_failure("{{ n // 0 }}", 1, "integer division or modulo by zero");
  expect_failure("{% for x in n %}{% endfor %}", 1, "'int' object is not iterable");
  expect_failure("{% set a, b = xs %}", 1, "too many values to unpack (expected 2)");
  expect_failure("{{ xs | select | length }}", 1, "object of type 'generator' has no len()");
  expect_failure("{{ nothing | tojson }}", 1, "Object of type Undefined is not JSON serializable");
  expect_failure("{% set d.x = 1 %}", 1, "cannot assign attribute on non-namespace object");
  expect_failure("{% macro m(a) %}{% endmacro %}\n{{ m(1, 2) }}", 2, "macro 'm' takes not more than 1 argument(s)");
  expect_failure("{{ range(1000000) }}", 1, "Range too big");
  expect_failure("{{ lipsum() }}", 1, "lipsum() (random text) is not supported");
  expect_failure("{{ 9223372036854775807 + 1 }}", 1, "integer overflow");
}

TEST(Jinja, LimitsStopRunawayTemplates) {
  RenderLimits small;
  small.max_steps = 100000;
  expect_failure("{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}", 1,
                 "rendering stopped after 100000 steps", small);
  expect_failure("{% macro r(k) %}{{ r(k + 1) }}{% endmacro %}{{ r(0) }}", 1, "macro calls nested deeper than 100");
  RenderLimits tiny_output;
  tiny_output.max_output_bytes = 1000;
  expect_failure("{% for i in range(2000) %}x{% endfor %}", 1, "the output would exceed", tiny_output);
  expect_failure("{{ 'x' * 100000000 }}", 1, "string repetition would exceed");
}

TEST(Jinja, SelfReferenceAndDeepValuesAreSafe) {
  // Python prints a namespace inside itself as {...}.
  EXPECT_EQ(render("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns }}"), "<Namespace {'me': <Namespace {...}>}>");
  // Python stops such values with RecursionError; nomoat refuses to build them.
  expect_failure("{% set ns = namespace(x=[]) %}{% for i in range(2000) %}\n{% set ns.x = [ns.x] %}{% endfor %}", 2,
                 "a value nested deeper than 512 levels");
  expect_failure("{% set ns = namespace(l=none) %}{% for i in range(2000) %}{% for x in [ns.l] %}"
                 "{% set ns.l = loop %}{% endfor %}{% endfor %}",
                 1, "a value nested deeper than 512 levels");
  expect_failure("{% set ns = namespace(g=[]) %}{% for i in range(2000) %}{% set ns.g = [ns.g] | select %}{% endfor %}",
                 1, "a value nested deeper than 512 levels");
  RenderLimits small_strings;
  small_strings.max_string_bytes = 1000;
  expect_failure("{{ 'ab' * 600 }}", 1, "string repetition would exceed 1000 bytes", small_strings);
  expect_failure("{{ ' ' | center(2000) }}", 1, "width is too large", small_strings);
}

TEST(Jinja, PythonNumberAndStringText) {
  EXPECT_EQ(py_repr_float(1.0), "1.0");
  EXPECT_EQ(py_repr_float(1e-05), "1e-05");
  EXPECT_EQ(py_repr_float(0.0001), "0.0001");
  EXPECT_EQ(py_repr_float(1e16), "1e+16");
  EXPECT_EQ(py_repr_float(1234567890123456.0), "1234567890123456.0");
  EXPECT_EQ(py_repr_float(-0.0), "-0.0");
  EXPECT_EQ(py_repr_float(1.5e300), "1.5e+300");
  EXPECT_EQ(py_repr_float(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(py_repr_string("it's"), "\"it's\"");
  EXPECT_EQ(py_repr_string("a\n\x01\xc2\xa0\xe2\x80\x8b\xf0\x9f\x98\x80"), "'a\\n\\x01\\xa0\\u200b\xf0\x9f\x98\x80'");
  EXPECT_EQ(py_upper("stra\xc3\x9f" "e"), "STRASSE");
  EXPECT_EQ(py_lower("\xce\xa3\xce\x91\xce\xa3"), "\xcf\x83\xce\xb1\xcf\x82");  // ΣΑΣ -> σας (final sigma)
  EXPECT_EQ(py_split("  a \xe3\x80\x80 b  ", std::nullopt, -1), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(py_strip("\xc2\xa0 x \n", std::nullopt, true, true), "x");
}

}  // namespace
}  // namespace nomoat::jinja
