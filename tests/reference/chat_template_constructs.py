"""Small templates, one or a few constructs each, for comparing nomoat's
Jinja2 interpreter with Python's Jinja2 construct by construct: whitespace
control, literals, operators, Python printing, filters, tests, methods,
loops, macros, scoping, Undefined and errors.
"""
import unicodedata

import chat_conversations

VARS = {
    "s": "Hello, World",
    "u": "Grüße 你好 🌍 ΣΑΣ ß",
    "n": 7,
    "neg": -7,
    "f": 2.5,
    "big": 12345678901234,
    "z": 0,
    "t": True,
    "no": None,
    "items": [3, 1, 2],
    "words": ["banana", "Apple", "cherry", "apple"],
    "d": {"b": 1, "a": [True, None, 1.0], "c": {"x": "y"}, "items": "key named items"},
    "people": [{"name": "Ann", "age": 31, "city": "Oslo"}, {"name": "bob", "age": 25, "city": "Rome"},
               {"name": "Cid", "age": 31}],
    "floats": [0.1, 1e-05, 1e16, 123456789.0, -0.0, 1.5e300, 0.30000000000000004, 100.0],
    "text": "  line one\nline two  \n\n  line four ",
    "nested": [[1, 2], [3, 4]],
    "empty": [],
    "emptys": "",
}

# (name, template) pairs rendered with VARS; one name per construct.
TEMPLATES = [
    # ---- text and whitespace control (trim_blocks, lstrip_blocks)
    ("plain_text", "Just text.\nTwo lines.\n"),
    ("trailing_newline_kept_once", "a\n\n"),
    ("crlf_newlines", "a\r\nb\rc\n{% if t %}\r\nyes\r\n{% endif %}\r\n"),
    ("trim_blocks", "{% if t %}\nyes\n{% endif %}\nafter"),
    ("lstrip_blocks", "start\n    {% if t %}\n    indented\n    {% endif %}\nend"),
    ("lstrip_tabs", "x\n\t\t{% for i in items %}\n\t{{ i }}\n\t\t{% endfor %}\ny"),
    ("lstrip_not_for_variables", "a\n    {{ n }}\nb"),
    ("lstrip_only_whitespace_before", "a x {% if t %}y{% endif %}\n"),
    ("minus_left", "a   \n\n  {%- if t %}b{% endif %}"),
    ("minus_right", "{% if t -%}   \n\n  b{% endif %}"),
    ("minus_both_vars", "a  {{- n -}}  b"),
    ("plus_disables_lstrip", "a\n    {%+ if t %}b{% endif %}"),
    ("plus_disables_trim", "{% if t +%}\nb{% endif %}"),
    ("comments", "a {# comment #} b\n{# own line #}\nc\n  {#- strip -#}  d"),
    ("comment_lstrip", "x\n    {# note #}\ny"),
    ("raw_block", "{% raw %}{{ not rendered }} {% if %}{% endraw %}"),
    ("raw_block_whitespace", "a\n  {% raw -%}  \n {{x}}  {%- endraw %}\nb"),
    ("unicode_whitespace_strip", "a\u3000\u00a0 {{- n }}"),
    ("block_at_start_indented", "   {% if t %}x{% endif %}"),
    ("variable_then_block_line", "{{ n }}\n   {% if t %}\ny\n   {% endif %}"),
    ("nested_blocks_whitespace", "{% for i in items %}\n  {% if i > 1 %}\n    {{ i }}\n  {% endif %}\n{% endfor %}\n"),
    # ---- literals and printing (Python str())
    ("string_escapes", r"""{{ 'a\nb\tc\\d\'e' }}|{{ "q\"q" }}|{{ '\x41\u00e9\U0001F600' }}|{{ '\d\w' }}|{{ '\101' }}"""),
    ("string_adjacent", "{{ 'a' 'b' \"c\" }}"),
    ("string_unicode_literal", "{{ 'ünï ✓' }}"),
    ("integers", "{{ 0 }} {{ 42 }} {{ 1_000 }} {{ 0x1F }} {{ 0o17 }} {{ 0b101 }} {{ -3 }}"),
    ("floats_literal", "{{ 1.5 }} {{ 1e3 }} {{ 2.5E-3 }} {{ 1_0.5 }} {{ 0.1 + 0.2 }} {{ 1e100 }} {{ 3.0 }}"),
    ("floats_print", "{% for x in floats %}{{ x }} {% endfor %}"),
    ("bools_none", "{{ true }} {{ false }} {{ True }} {{ none }} {{ None }} {{ no }}"),
    ("list_print", "{{ [1, 'a', \"b'c\", none, true, 1.0, [], {}] }}"),
    ("tuple_print", "{{ (1,) }} {{ (1, 2) }} {{ () }} {{ 1, 2 }}"),
    ("dict_print", "{{ d }} {{ {'k': 1, 2: 'two', none: false} }}"),
    ("nested_print", "{{ people[0] }} {{ nested }}"),
    ("repr_quotes", "{{ [\"it's\", 'say \"hi\"', 'both \\' \"', 'back\\\\slash', 'tab\\there', 'nl\\n'] }}"),
    ("repr_unicode", "{{ [u, '\u0000\u007f\u0085\u00a0\u200b\u2028\ud7ff\U0001F600\U000E0001'] }}"),
    ("undefined_prints_empty", "[{{ missing }}][{{ d.nothing }}][{{ items[10] }}]"),
    ("print_range", "{{ range(3) }} {{ range(1, 10, 2) }} {{ range(3) | list }}"),
    ("print_dict_views", "{{ d.keys() }} {{ d.values() }} {{ d.items() }}"),
    ("print_namespace", "{% set ns = namespace(a=1, b='x') %}{{ ns }}"),
    ("print_macro", "{% macro m() %}{% endmacro %}{{ m }}"),
    ("print_loop", "{% for i in items %}{{ loop }} {% endfor %}"),
    ("print_markup", "{{ 'a<b'|safe }} {{ ['a<b'|safe] }}"),
    # ---- operators
    ("arithmetic", "{{ 7 + 2 }} {{ 7 - 2 }} {{ 7 * 2 }} {{ 7 / 2 }} {{ 7 // 2 }} {{ 7 % 2 }} {{ 2 ** 10 }} {{ 2 ** -1 }}"),
    ("arithmetic_negative", "{{ -7 // 2 }} {{ -7 % 2 }} {{ 7 // -2 }} {{ 7 % -2 }} {{ -7.5 // 2 }} {{ -7.5 % 2 }} {{ 7.5 % -2 }}"),
    ("arithmetic_mixed", "{{ 1 + 2.0 }} {{ 3 * 1.5 }} {{ 6 / 3 }} {{ t + 1 }} {{ t * 3 }} {{ 2 ** 0.5 }} {{ 10 / 4 }}"),
    ("pow_left_assoc", "{{ 2 ** 3 ** 2 }} {{ -2 ** 2 }} {{ (-2) ** 2 }}"),
    ("string_concat_ops", "{{ 'a' + 'b' }} {{ 'ab' * 3 }} {{ 2 * 'x' }} {{ [1] + [2] }} {{ [0] * 3 }} {{ (1,) + (2,) }}"),
    ("tilde_concat", "{{ 'a' ~ 1 ~ none ~ true ~ [1] ~ missing ~ 2.0 }}"),
    ("precedence", "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 2 * 3 ~ 4 * 5 }} {{ 10 - 2 - 3 }} {{ 2 * 3 % 4 }}"),
    ("filter_binds_tighter", "{{ 'a' + s | upper + 'b' }} {{ items | length - 1 }} {{ -n | abs }}"),
    ("comparisons", "{{ 1 < 2 }} {{ 2 <= 2 }} {{ 3 > 4 }} {{ 'a' < 'b' }} {{ 1 == 1.0 }} {{ 1 != '1' }} {{ [1, 2] < [1, 3] }} {{ (1, 2) == (1, 2) }}"),
    ("chained_comparison", "{{ 1 < 2 < 3 }} {{ 1 < 3 < 2 }} {{ 1 == 1 == 1.0 }}"),
    ("equality_mixed", "{{ t == 1 }} {{ none == none }} {{ missing == missing }} {{ missing == none }} {{ d == {'b': 1, 'a': [true, none, 1.0], 'c': {'x': 'y'}, 'items': 'key named items'} }} {{ [1] == (1,) }}"),
    ("in_operator", "{{ 'ell' in s }} {{ 2 in items }} {{ 'a' in d }} {{ 'zz' not in d }} {{ 1 in [1.0] }} {{ 'x' in missing }} {{ (1, 2) in [(1, 2)] }}"),
    ("logic", "{{ t and 'yes' }} {{ z or 'fallback' }} {{ not t }} {{ not not 'x' }} {{ none or 0 or '' or [] }} {{ 1 and 2 and 3 }}"),
    ("not_precedence", "{{ not 1 == 2 }} {{ not missing is defined }} {{ not 'a' in 'abc' }}"),
    ("conditional_expr", "{{ 'y' if t else 'n' }} {{ 'y' if z else 'n' }} [{{ 'y' if z }}] {{ 1 if z else 2 if t else 3 }}"),
    ("unary", "{{ -n }} {{ +n }} {{ -f }} {{ - -n }} {{ -t }}"),
    ("truthiness", "{% for v in [0, 1, 0.0, '', 'a', [], [0], {}, none, true, false, missing] %}{{ 'T' if v else 'F' }}{% endfor %}"),
    # ---- attribute and item access, slicing
    ("getattr_getitem", "{{ d.b }} {{ d['b'] }} {{ people[1].name }} {{ people[1]['age'] }} {{ nested[1][0] }} {{ d.c.x }}"),
    ("dict_attr_vs_method", "{{ d['items'] }} {{ d.items is defined }} {{ d.get('b') }} {{ d.get('nope') }} {{ d.get('nope', 5) }}"),
    ("negative_index", "{{ items[-1] }} {{ s[-1] }} {{ u[0] }} {{ u[-2] }} {{ nested[-1][-1] }}"),
    ("dot_number_index", "{{ items.0 }} {{ nested.1.0 }}"),
    ("slices", "{{ items[1:] }} {{ items[:-1] }} {{ items[::-1] }} {{ items[::2] }} {{ s[7:] }} {{ s[:5] }} {{ s[::-1] }} {{ u[1:4] }} {{ items[5:] }} {{ items[-10:10] }}"),
    ("slice_steps", "{{ range(10)[2:8:3] | list }} {{ 'abcdefg'[-2:1:-2] }} {{ items[3:0:-1] }} {{ range(10)[::-3] }}"),
    ("string_index_out_of_range", "[{{ s[100] }}][{{ emptys[0] }}]"),
    ("none_subscript", "[{{ no[0] }}][{{ n[0] }}][{{ n.real }}][{{ f.imag }}][{{ no.attr }}]"),
    # ---- statements
    ("if_elif_else", "{% for x in [1, 2, 3] %}{% if x == 1 %}one{% elif x == 2 %}two{% else %}many{% endif %};{% endfor %}"),
    ("for_loop_vars", "{% for x in items %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}|{% endfor %}"),
    ("for_prev_next", "{% for x in items %}[{{ loop.previtem }}<{{ x }}>{{ loop.nextitem }}]{% endfor %}"),
    ("for_else", "{% for x in empty %}x{% else %}empty{% endfor %} {% for x in items if x > 5 %}x{% else %}none matched{% endfor %}"),
    ("for_filter", "{% for x in items if x != 1 %}{{ x }}:{{ loop.index }}/{{ loop.length }}{{ ',' if not loop.last }}{% endfor %}"),
    ("for_unpack_items", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}"),
    ("for_unpack_pairs", "{% for a, b in nested %}{{ a }}-{{ b }} {% endfor %}{% for (a, b) in [(1, 2)] %}{{ a + b }}{% endfor %}"),
    ("for_over_dict", "{% for k in d %}{{ k }} {% endfor %}"),
    ("for_over_string", "{% for c in u %}[{{ c }}]{% endfor %}"),
    ("for_over_undefined", "{% for x in missing %}x{% else %}nothing{% endfor %}"),
    ("for_nested_loop_var", "{% for a in [1, 2] %}{% for b in 'xy' %}{{ loop.index }}{{ b }}{% endfor %}{{ loop.index }};{% endfor %}"),
    ("for_break_continue", "{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 5 %}{% break %}{% endif %}{{ x }}{% endfor %}"),
    ("loop_cycle_changed", "{% for p in people %}{{ loop.cycle('odd', 'even') }}{% if loop.changed(p.age) %}*{% endif %} {% endfor %}"),
    ("loop_depth", "{% for x in [1] %}{{ loop.depth }}{{ loop.depth0 }}{% endfor %}"),
    ("loop_last_with_filter_state", "{% set ns = namespace(c=0) %}{% for x in range(6) if x > ns.c %}{% set ns.c = x + 1 %}{{ x }}{% endfor %}"),
    ("set_tuple", "{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set c = 1, 2 %}{{ c }}"),
    ("set_block", "{% set x %}Hello {{ n }}{% endset %}[{{ x }}]{% set y | upper %}shout{% endset %}{{ y }}"),
    ("scoping_loop_does_not_leak", "{% set x = 'outer' %}{% for i in items %}{% set x = i %}{{ x }}{% endfor %}{{ x }}"),
    ("scoping_if_leaks", "{% if t %}{% set x = 'inner' %}{% endif %}{{ x }}"),
    ("scoping_loop_reads_outer_each_iteration", "{% set x = 0 %}{% for i in items %}{{ x }}{% set x = i %}{{ x }} {% endfor %}"),
    ("namespace", "{% set ns = namespace(found=false, count=0) %}{% for i in items %}{% if i > 1 %}{% set ns.found = true %}{% set ns.count = ns.count + 1 %}{% endif %}{% endfor %}{{ ns.found }} {{ ns.count }} {{ ns.nothing is defined }}"),
    ("namespace_from_dict", "{% set ns = namespace(d) %}{{ ns.b }} {{ ns.c.x }}"),
    ("namespace_set_block", "{% set ns = namespace() %}{% set ns.v %}block {{ n }}{% endset %}{{ ns.v }}"),
    ("macro_basic", "{% macro greet(name, greeting='Hello') %}{{ greeting }}, {{ name }}!{% endmacro %}{{ greet('Ann') }} {{ greet('Bob', 'Hi') }} {{ greet(greeting='Yo', name='Cid') }}"),
    ("macro_defaults_refer_params", "{% macro m(a, b=a * 2) %}{{ a }},{{ b }}{% endmacro %}{{ m(3) }} {{ m(3, 1) }}"),
    ("macro_missing_arg", "{% macro m(a, b) %}[{{ a }}][{{ b }}][{{ b is defined }}]{% endmacro %}{{ m(1) }}"),
    ("macro_varargs_kwargs", "{% macro m(a) %}{{ a }} {{ varargs }} {{ kwargs }}{% endmacro %}{{ m(1, 2, 3, x=4) }}"),
    ("macro_reads_outer", "{% set g = 'global' %}{% macro m() %}{{ g }} {{ n }}{% endmacro %}{{ m() }}"),
    ("macro_recursion", "{% macro fact(k) %}{% if k <= 1 %}1{% else %}{{ k * fact(k - 1) | int }}{% endif %}{% endmacro %}{{ fact(5) }}"),
    ("macro_output_is_string", "{% macro m() %}  x  {% endmacro %}[{{ m() | trim }}] {{ m() | length }}"),
    ("call_block", "{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}bold {{ n }}{% endcall %}"),
    ("call_block_args", "{% macro each(xs) %}{% for x in xs %}{{ caller(x) }}{% endfor %}{% endmacro %}{% call(item) each(items) %}<{{ item }}>{% endcall %}"),
    ("filter_block", "{% filter upper %}hello {{ s }}{% endfilter %}|{% filter trim | replace('a', 'o') %}  banana  {% endfilter %}"),
    ("with_block", "{% with a = 1, b = n %}{{ a + b }}{% endwith %}[{{ a }}]"),
    ("print_statement", "{% print 'a', n %}{% print s | upper %}"),
    ("generation_block", "{% for m in messages %}{% generation %}{{ m.content }}{% endgeneration %}{% endfor %}"),
    # ---- filters
    ("filter_trim", "[{{ text | trim }}][{{ '--x--' | trim('-') }}][{{ '\u3000x\u00a0' | trim }}][{{ n | trim }}]"),
    ("filter_case", "{{ s | upper }} {{ s | lower }} {{ 'hELLO wORLD' | capitalize }} {{ 'hello big-world (x) [y] {z} <w>' | title }} {{ u | upper }} {{ u | lower }} {{ u | title }}"),
    ("filter_replace", "{{ s | replace('l', 'L') }} {{ s | replace('l', 'L', 2) }} {{ 'aaa' | replace('', '-') }} {{ n | replace('7', 'seven') }}"),
    ("filter_length_count", "{{ items | length }} {{ s | count }} {{ u | length }} {{ d | length }} {{ missing | length }}"),
    ("filter_join", "{{ items | join(', ') }} {{ items | join }} {{ people | join('; ', attribute='name') }} {{ [1, none, 'x', 2.0] | join('|') }}"),
    ("filter_default", "{{ missing | default('dflt') }} {{ none | default('dflt') }} {{ '' | default('dflt', true) }} {{ 0 | d('zero', boolean=true) }} {{ n | default(1) }}"),
    ("filter_first_last", "{{ items | first }} {{ items | last }} {{ s | first }} {{ s | last }} [{{ empty | first }}] {{ d | first }} {{ d | last }}"),
    ("filter_list_reverse", "{{ s | list }} {{ items | reverse | list }} {{ s | reverse }} {{ d | list }} {{ range(3) | reverse | list }}"),
    ("filter_sort", "{{ words | sort }} {{ words | sort(case_sensitive=true) }} {{ words | sort(reverse=true) }} {{ items | sort }} {{ people | sort(attribute='age') | map(attribute='name') | list }}"),
    ("filter_sort_multi", "{{ people | sort(attribute='age,name') | map(attribute='name') | join(',') }} {{ people | sort(attribute='age', reverse=true) | map(attribute='name') | join(',') }}"),
    ("filter_unique", "{{ words | unique | list }} {{ words | unique(case_sensitive=true) | list }} {{ people | unique(attribute='age') | map(attribute='name') | list }}"),
    ("filter_min_max_sum", "{{ items | min }} {{ items | max }} {{ words | max }} {{ people | max(attribute='age') }} {{ items | sum }} {{ people | sum(attribute='age') }} {{ floats[:2] | sum }} {{ [[1], [2]] | sum(start=[]) }}"),
    ("filter_map", "{{ people | map(attribute='name') | list }} {{ people | map(attribute='city', default='?') | list }} {{ words | map('upper') | list }} {{ ['1', '2'] | map('int') | sum }}"),
    ("filter_select_reject", "{{ range(10) | select('odd') | list }} {{ range(10) | reject('even') | list }} {{ [0, 1, '', 'a', none] | select | list }} {{ range(10) | select('divisibleby', 3) | list }} {{ items | select('gt', 1) | list }}"),
    ("filter_selectattr", "{{ people | selectattr('age', 'equalto', 31) | map(attribute='name') | list }} {{ people | rejectattr('city') | map(attribute='name') | list }} {{ people | selectattr('city', 'defined') | list | length }}"),
    ("filter_generators_truthy", "{{ 'T' if empty | select else 'F' }} {{ (empty | select | list) | length }}"),
    ("filter_items", "{% for k, v in d | items %}{{ k }}:{{ v }} {% endfor %}{% for k, v in missing | items %}x{% endfor %}"),
    ("filter_dictsort", "{{ d | dictsort }} {{ {'b': 2, 'A': 1, 'a': 3} | dictsort }} {{ {'b': 2, 'A': 1, 'a': 3} | dictsort(true) }} {{ {'x': 2, 'y': 1} | dictsort(by='value') }}"),
    ("filter_int_float", "{{ '42' | int }} {{ '  12 ' | int }} {{ '3.7' | int }} {{ 'x' | int }} {{ 'x' | int(5) }} {{ 3.99 | int }} {{ -3.99 | int }} {{ '1_000' | int }} {{ '0x1F' | int(base=16) }} {{ none | int }} {{ t | int }}"),
    ("filter_float", "{{ '2.5' | float }} {{ '1e3' | float }} {{ ' inf ' | float }} {{ 'x' | float }} {{ n | float }} {{ none | float(1.5) }} {{ '-.5' | float }}"),
    ("filter_abs_round", "{{ neg | abs }} {{ -2.5 | abs }} {{ 2.5 | round }} {{ 3.5 | round }} {{ 2.675 | round(2) }} {{ 7 | round }} {{ 1.2345 | round(2, 'floor') }} {{ 1.2345 | round(1, 'ceil') }} {{ -0.5 | round }}"),
    ("filter_string", "{{ items | string }} {{ (n | string) + '!' }} {{ none | string }} {{ d.a | string }}"),
    ("filter_indent", "{{ text | indent }}|{{ 'a\nb\n\nc' | indent(2, true) }}|{{ 'a\nb\n\nc' | indent('> ', blank=true) }}|{{ 'one' | indent(first=true) }}"),
    ("filter_center_wordcount", "[{{ 'ab' | center(7) }}][{{ 'abc' | center(8) }}] {{ 'Hello, big_world 42!' | wordcount }}"),
    ("filter_batch", "{{ range(7) | batch(3) | list }} {{ range(5) | batch(2, 'x') | list }}"),
    ("filter_attr", "{{ people[0] | attr('name') }}|{{ d | attr('items') is defined }}|{{ 'abc' | attr('upper') is defined }}"),
    ("filter_escape_safe", "{{ '<a href=\"x\">&\\'</a>' | e }} {{ ('<b>' | safe) + '<i>' }} {{ '<b>' | safe | e }} {{ '<x>' | forceescape }}"),
    ("filter_tojson", "{{ d | tojson }} {{ people | tojson }} {{ floats | tojson }} {{ u | tojson }} {{ 'q\"\\\\\n\t\u0001\u007f' | tojson }}"),
    ("filter_tojson_options", "{{ d | tojson(indent=2) }}|{{ items | tojson(indent=0) }}|{{ d.c | tojson(ensure_ascii=true) }}|{{ u | tojson(ensure_ascii=true) }}|{{ d | tojson(separators=(',', ':')) }}|{{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }}|{{ [] | tojson(indent=4) }}|{{ {'k': {}} | tojson(indent='\t') }}"),
    ("filter_tojson_keys", "{{ {1: 'a', 2.5: 'b', none: 'c', true: 'd'} | tojson }} {{ (1, 2) | tojson }}"),
    ("filter_chain", "{{ words | map('lower') | unique | sort | join(',') | upper }}"),
    # ---- tests
    ("test_defined", "{{ n is defined }} {{ missing is defined }} {{ missing is undefined }} {{ d.zz is defined }} {{ none is defined }}"),
    ("test_types", "{% for v in [1, 1.5, 'a', none, true, [1], (1,), {'a': 1}, missing, range(2)] %}{{ v is number }}{{ v is integer }}{{ v is float }}{{ v is string }}{{ v is none }}{{ v is boolean }}{{ v is mapping }}{{ v is sequence }}{{ v is iterable }}{{ v is callable }}|{% endfor %}"),
    ("test_true_false", "{{ true is true }} {{ 1 is true }} {{ false is false }} {{ 0 is false }} {{ none is false }}"),
    ("test_numbers", "{{ 3 is odd }} {{ 3 is even }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(4) }} {{ 4.0 is even }}"),
    ("test_compare", "{{ 1 is eq 1 }} {{ 1 is equalto 2 }} {{ 'a' is eq('a') }} {{ 2 is gt 1 }} {{ 2 is lessthan 1 }} {{ 2 is ge 2 }} {{ 2 is ne 3 }} {{ 1 is le 0 }}"),
    ("test_in_sameas", "{{ 2 is in items }} {{ 'x' is in 'xyz' }} {{ none is sameas none }} {{ true is sameas true }} {{ 1 is sameas true }}"),
    ("test_lower_upper", "{{ 'abc' is lower }} {{ 'aBc' is lower }} {{ 'ABC' is upper }} {{ '123' is upper }}"),
    ("test_negated", "{{ n is not defined }} {{ n is not string }} {{ 'a' is not in 'b' }}"),
    ("test_filter_test_names", "{{ 'trim' is filter }} {{ 'nope' is filter }} {{ 'odd' is test }}"),
    # ---- methods
    ("str_startswith_endswith", "{{ s.startswith('Hell') }} {{ s.endswith('World') }} {{ s.startswith(('x', 'He')) }} {{ s.startswith('World', 7) }} {{ s.endswith('Hello', 0, 5) }}"),
    ("str_strip", "[{{ text.strip() }}][{{ text.lstrip() }}][{{ text.rstrip() }}][{{ 'xxhixx'.strip('x') }}][{{ '\n\nhi\n'.lstrip('\n') }}][{{ 'abcba'.strip('ab') }}]"),
    ("str_split", "{{ s.split(', ') }} {{ text.split() }} {{ 'a,b,,c'.split(',') }} {{ 'a b c'.split(' ', 1) }} {{ '  a  b  '.split(None, 1) }} {{ 'a,b,c'.rsplit(',', 1) }} {{ '  a  b  '.rsplit(None, 1) }} {{ ''.split() }} {{ ''.split(',') }}"),
    ("str_split_index", "{{ 'x</think>y</think>z'.split('</think>')[-1] }} {{ 'a<think>b'.split('<think>')[0] }}"),
    ("str_splitlines", "{{ 'a\nb\r\nc\rd\n'.splitlines() }} {{ 'a\nb'.splitlines(true) }}"),
    ("str_case_methods", "{{ s.upper() }} {{ s.lower() }} {{ 'hello world'.title() }} {{ \"they're bill's\".title() }} {{ 'hELLO'.capitalize() }} {{ 'Hello'.swapcase() }} {{ u.title() }} {{ 'ΣΑΣ ΟΔΟΣ'.lower() }}"),
    ("str_find_replace", "{{ s.find('o') }} {{ s.rfind('o') }} {{ s.find('z') }} {{ u.find('你') }} {{ s.replace('o', '0') }} {{ s.replace('o', '0', 1) }} {{ s.count('l') }} {{ s.index('W') }} {{ s.find('o', 5) }}"),
    ("str_predicates", "{{ '123'.isdigit() }} {{ 'abc'.isalpha() }} {{ 'a1'.isalnum() }} {{ '  '.isspace() }} {{ ''.isspace() }} {{ 'abc'.islower() }} {{ 'ABC'.isupper() }} {{ 'é'.isascii() }} {{ '²'.isdigit() }} {{ '²'.isdecimal() }}"),
    ("str_join_pad", "{{ '-'.join(['a', 'b']) }} {{ ', '.join(words) }} [{{ 'ab'.ljust(5) }}][{{ 'ab'.rjust(5, '*') }}][{{ 'ab'.center(6, '.') }}] {{ '42'.zfill(5) }} {{ '-42'.zfill(5) }}"),
    ("str_partition_prefix", "{{ 'a=b=c'.partition('=') }} {{ 'a=b=c'.rpartition('=') }} {{ 'abc'.partition('x') }} {{ 'prefix_x'.removeprefix('prefix_') }} {{ 'x.txt'.removesuffix('.txt') }}"),
    ("str_format", "{{ '{} and {}'.format('a', 1) }} {{ '{1}{0}'.format('a', 'b') }} {{ '{x}!'.format(x=n) }} {{ '{{}} {!r}'.format('q') }}"),
    ("dict_methods", "{{ d.keys() | list }} {{ d.values() | list | length }} {{ d.items() | list | first }} {{ d.get('a') }} {{ d.copy() == d }}"),
    ("list_methods", "{{ items.index(2) }} {{ items.count(1) }} {{ [1, 1, 2].count(1) }} {{ (1, 2).index(2) }}"),
    ("range_global", "{{ range(5) | list }} {{ range(2, 5) | list }} {{ range(10, 0, -3) | list }} {{ range(0) | list }} {{ range(3) | length }} {{ 2 in range(3) }}"),
    ("dict_global", "{{ dict(a=1, b=2) }} {{ dict([('x', 1)]) }} {{ dict(d, z=0) | length }}"),
    ("joiner_cycler", "{% set j = joiner('/') %}{% for i in items %}{{ j() }}{{ i }}{% endfor %} {% set c = cycler('a', 'b') %}{{ c.next() }}{{ c.next() }}{{ c.next() }}{{ c.current }}"),
    ("strftime_now", "{{ strftime_now('%Y-%m-%d %H:%M:%S') }} {{ strftime_now('%d %b %Y') }} {{ strftime_now('%A %j %%') }}"),
    ("messages_and_tokens", "{{ bos_token }}{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}{{ eos_token }}|{{ add_generation_prompt }}|{{ tools }}|{{ documents }}"),

    # ---- Unicode: case mappings, whitespace and repr over every code point
    ("unicode_upper_all", "{{ all_chars | upper }}"),
    ("unicode_lower_all", "{{ all_chars | lower }}"),
    ("unicode_title_all", "{{ all_chars.title() }}"),
    ("unicode_capitalize_words", "{% for w in all_chars | batch(7) %}{{ (w | join).capitalize() }}{% endfor %}"),
    ("unicode_swapcase_all", "{{ all_chars.swapcase() }}"),
    ("unicode_repr_all", "{{ [all_chars] }}"),
    ("unicode_split_all", "{{ all_chars.split() | length }} {{ all_chars.splitlines() | length }} {{ (all_chars | trim) | length }}"),
    ("unicode_predicates", "{% for w in all_chars | batch(97) %}{% set w = w | join %}{{ w.isalpha() }}{{ w.isdigit() }}{{ w.isalnum() }}{{ w.islower() }}{{ w.isupper() }}{{ w.isspace() }}{{ w.isdecimal() }}{% endfor %}"),
    ("unicode_predicates_chars", "{% for c in predicate_chars %}{{ c.isalpha() }}{{ c.isdigit() }}{{ c.isalnum() }}{{ c.islower() }}{{ c.isupper() }}{{ c.isspace() }}{{ c.isdecimal() }}{{ c.isprintable() }}{% endfor %}"),
    ("unicode_special_cases", "{{ 'ß ﬁ ŉ İ ǅ ǈ ΐ'.upper() }} {{ 'İ ǅ ΣΑΣ Σ ΑΣ. ΑΣ\u0301 ΑΣ1'.lower() }} {{ 'ǆemal ǉubljana ßtraße ﬁsh'.title() }} {{ 'ǆ'.capitalize() }} {{ 'ß'.capitalize() }}"),
    # ---- templates in the style of real chat templates
    ("style_tool_macro", """{%- macro render_type(spec) -%}
{%- set simple = {'string': 'str', 'integer': 'int', 'number': 'float', 'boolean': 'bool'} -%}
{%- if spec.type is string and simple[spec.type] is defined -%}{{ simple[spec.type] }}
{%- elif spec.type == 'array' -%}list[{{ render_type(spec['items']) if spec['items'] is defined else 'Any' }}]
{%- elif spec.type is not string and spec.type is iterable -%}Union[{{ spec.type | join(', ') }}]
{%- else -%}Any{%- endif -%}
{%- endmacro -%}
{%- for tool in tools_list %}
{%- set fn = tool.function if tool.function is defined else tool %}
def {{ fn.name }}(
{%- for name, p in fn.parameters.properties | items %}{{ name }}: {{ render_type(p) }}{{ ', ' if not loop.last }}{% endfor %}):
    \"\"\"{{ fn.description | trim }}\"\"\"
{% endfor %}"""),
    ("style_tojson_indent", """{%- for tool in tools_list %}
{{- tool | tojson(indent=4) }}
{{- "\\n\\n" }}
{%- endfor %}"""),
    ("style_llama31_header", """{%- if not date_string is defined %}{%- set date_string = strftime_now("%d %b %Y") %}{%- endif %}
{{- bos_token }}<|start_header_id|>system<|end_header_id|>\\n\\n
{{- "Cutting Knowledge Date: December 2023\\n" }}Today Date: {{ date_string }}\\n\\n
{%- if messages[0]['role'] == 'system' %}{%- set system_message = messages[0]['content']|trim %}{%- set loop_messages = messages[1:] %}{%- else %}{%- set system_message = "" %}{%- set loop_messages = messages %}{%- endif %}
{{- system_message }}<|eot_id|>
{%- for message in loop_messages %}<|start_header_id|>{{ message['role'] }}<|end_header_id|>\\n\\n{{ message['content'] | trim }}<|eot_id|>{%- endfor %}
{%- if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\\n\\n{% endif %}"""),
    ("style_mistral_alternation", """{%- if messages[0]['role'] == 'system' %}{%- set system_message = messages[0]['content'] %}{%- set loop_messages = messages[1:] %}{%- else %}{%- set loop_messages = messages %}{%- endif %}
{{- bos_token }}
{%- for message in loop_messages %}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{- raise_exception('roles must alternate') }}{%- endif %}
    {%- if message['role'] == 'user' %}
        {%- if loop.last and system_message is defined %}{{- '[INST] ' + system_message + '\\n\\n' + message['content'] + '[/INST]' }}
        {%- else %}{{- '[INST] ' + message['content'] + '[/INST]' }}{%- endif %}
    {%- elif message['role'] == 'assistant' %}{{- ' ' + message['content'] + eos_token}}
    {%- endif %}
{%- endfor %}
{{- (messages | selectattr('role', 'equalto', 'user') | list | last).content }}"""),
    ("style_content_parts", """{%- for m in parts_messages %}
{%- if m.content is string %}{{ m.content }}
{%- else %}{%- for c in m.content %}{%- if c.type == 'text' %}{{ c.text }}{%- elif c.type == 'image' %}<image>{%- endif %}{%- endfor %}
{%- endif %}|
{%- endfor %}
{{- parts_messages | map(attribute='content') | select('string') | list | length }}"""),
    ("style_deepseek_think", """{%- for m in think_messages %}{%- set content = m.content %}
{%- if '</think>' in content %}{%- set content = content.split('</think>')[-1] %}{%- endif %}
[{{ content }}]{%- endfor %}"""),
    ("style_namespace_flags", """{%- set ns = namespace(system='', first=true, n=0) %}
{%- for m in messages %}{%- if m.role == 'system' %}{%- set ns.system = ns.system + m.content %}{%- endif %}{%- set ns.n = ns.n + 1 %}{%- endfor %}
{{- ns.system }}|{{ ns.n }}|{{ ns }}"""),
    ("style_whitespace_heavy", """<s>
{%- for message in messages %}
    {%- if message.role == 'user' %}

        [USER]   {{ message.content }}
    {%- else %}
        [BOT] {{- message.content -}}   
    {% endif %}
{% endfor %}
   {{- '</s>' -}}
   trailing   
"""),
    ("style_generation_markers", "{% for m in messages %}{% if m.role == 'assistant' %}{% generation %}{{ m.content }}{% endgeneration %}{% else %}{{ m.content }}{% endif %}\n{% endfor %}"),
    ("style_reversed_loop", "{%- for m in messages[::-1] %}{%- set index = (messages|length - 1) - loop.index0 %}{{ index }}:{{ m.role }} {% endfor %}"),
    ("style_loop_lookbehind", "{%- for m in messages %}{%- if loop.first or (messages[loop.index0 - 1].role != m.role) %}<{{ m.role }}>{% endif %}{{ m.content }}{%- if loop.last or (messages[loop.index0 + 1].role != m.role) %}</{{ m.role }}>{% endif %}{% endfor %}"),
    ("style_tool_call_arguments", """{%- for tc in tool_calls %}
{%- if tc.function is defined %}{%- set tc = tc.function %}{%- endif %}
{"name": "{{ tc.name }}", "arguments": {{ tc.arguments if tc.arguments is string else tc.arguments | tojson }}}
{%- for k, v in (tc.arguments | items if tc.arguments is mapping else []) %} {{ k }}={{ v }}{% endfor %}
{% endfor %}"""),
    ("dict_method_shadows_key", "{{ d.items is defined }} {{ d['items'] }} {{ (d.items() | list)[0] }} {{ spec.items is string }} {{ spec['items'] }} {{ spec.values | default('no') is defined }}"),
    ("undefined_in_boolean_context", "{{ missing is not defined or missing }} {{ d.nope or 'fallback' }} {{ (d.nope | default([])) | length }}"),
    ("loop_over_generators_once", "{% set g = items | select %}{% for x in g %}{{ x }}{% endfor %}|{% for x in g %}{{ x }}{% endfor %}|{{ g | list }}"),
    ("items_generator_consumed", "{% set it = d | items %}{{ it | list | length }} {{ it | list | length }}"),
    ("string_multiplication_unicode", "{{ '🌍' * 3 }} {{ 'ab' * 0 }} {{ 'ab' * -1 }} {{ [1, 2] * 2 }}"),
    ("compare_strings_unicode", "{{ 'é' > 'z' }} {{ '你' < '🌍' }} {{ 'a' < 'B' }} {{ ['a', 'B', 'é', '你'] | sort }} {{ ['a', 'B', 'é'] | sort(case_sensitive=true) }}"),
    ("int_float_printing", "{{ 10 / 2 }} {{ 2 ** 62 }} {{ 2.0 ** 62 }} {{ 1 / 3 }} {{ 1e22 }} {{ 1e-7 }} {{ 0.0001 }} {{ 123456789012345678 }} {{ 1.0e16 }} {{ 9999999999999998.0 }} {{ -1e-320 }} {{ 5e-324 }}"),
    ("round_half_even", "{{ 0.5 | round }} {{ 1.5 | round }} {{ 2.5 | round }} {{ 0.125 | round(2) }} {{ 0.375 | round(2) }} {{ 1.005 | round(2) }} {{ 1234.5678 | round(-2) }} {{ 15 | round(-1) }}"),
    ("namespace_attribute_access", "{% set ns = namespace(a=1) %}{{ ns.a }} {{ ns['a'] }} [{{ ns.b }}] {{ ns.b is defined }}"),
    ("macro_with_caller_default", "{% macro m() %}[{{ caller() if caller else 'no caller' }}]{% endmacro %}{{ m() }}{% call m() %}body{% endcall %}"),
    ("nested_macro_scope", "{% macro outer(x) %}{% macro inner(y) %}{{ x }}+{{ y }}{% endmacro %}{{ inner(x * 2) }}{% endmacro %}{{ outer(3) }}"),
    ("set_in_macro_does_not_leak", "{% set v = 'top' %}{% macro m() %}{% set v = 'macro' %}{{ v }}{% endmacro %}{{ m() }} {{ v }}"),
    ("set_block_scope", "{% set v = 'top' %}{% set cap %}{% set v = 'inner' %}{{ v }}{% endset %}{{ cap }} {{ v }}"),
    ("for_else_scope", "{% set v = 1 %}{% for x in empty %}{% else %}{% set v = 2 %}{% endfor %}{{ v }}"),
    ("with_scope", "{% set v = 1 %}{% with %}{% set v = 2 %}{{ v }}{% endwith %}{{ v }}"),
    ("filter_block_scope", "{% set v = 1 %}{% filter upper %}{% set v = 2 %}{{ v }}{% endfilter %}{{ v }}"),
    ("loop_variable_after_loop", "{% for x in items %}{% endfor %}[{{ x }}][{{ loop }}]"),
    ("loop_changed_cycle_nested", "{% for a in [1, 1, 2] %}{% for b in [1] %}{{ loop.changed(a) }}{% endfor %}{{ loop.changed(a) }};{% endfor %}"),
    ("break_in_nested", "{% for a in range(3) %}{% for b in range(3) %}{% if b == 1 %}{% break %}{% endif %}{{ a }}{{ b }} {% endfor %}{% endfor %}"),
    ("break_with_else", "{% for x in items %}{% break %}{% else %}else{% endfor %}done"),
    ("if_tuple_condition", "{% if (0, 0) %}tuple is true{% endif %}{% if () %}empty{% else %}empty is false{% endif %}"),
    ("call_filter_and_method_chain", "{{ ' A,B , c '.split(',') | map('trim') | map('lower') | join('+') }}"),
    ("string_methods_on_markup", "{{ ('<a> x '|safe).strip() }} {{ ('<a>'|safe).upper() }} {{ ('<a>'|safe) ~ '<b>' }} {{ ('<a>'|safe) | length }}"),
    ("getitem_with_method_names", "{{ s['upper']() }} {{ d['get']('b') }} {{ items['count'](1) }}"),
    ("keyword_args_to_filters", "{{ items | join(d=', ') }} {{ text | indent(width=2, first=true) }} {{ words | sort(reverse=true, case_sensitive=true) }}"),
    ("star_args", "{% macro m(a, b, c) %}{{ a }}{{ b }}{{ c }}{% endmacro %}{{ m(*[1, 2], **{'c': 3}) }}"),
    ("test_without_parens_argument", "{{ 10 is divisibleby 5 }} {{ 'a' is in ['a'] }} {{ 1 is sameas 1 if false else 'skip' }}"),
    ("comment_with_tags_inside", "a{# {% if %} {{ x }} #}b{#-\n multi\n line\n-#}c"),
    ("raw_with_whitespace_control", "x {%- raw %} {{ y }} {% endraw -%} z"),
    ("line_numbers_after_strip", "{%- if t -%}\n\n\n{{ missing.attr }}{% endif %}"),
    ("error_line_in_macro", "{% macro m() %}\n\n{{ missing.attr }}{% endmacro %}\n{{ m() }}"),
    ("error_raise_in_loop", "{% for m in messages %}\n{% if m.role == 'assistant' %}{{ raise_exception('assistant at ' ~ loop.index) }}{% endif %}\n{% endfor %}"),
    ("error_macro_two_callers", "{% macro m() %}{{ caller() }}{% endmacro %}{% call m(caller=1) %}{% endcall %}"),
    ("error_call_none", "{{ none() }}"),
    ("error_getattr_of_none_attr", "{{ no.x.y }}"),
    ("error_iterate_none", "{% for x in no %}{% endfor %}"),
    ("error_join_int_items_with_str_method", "{{ ', '.join([1, 2]) }}"),
    ("error_dict_unhashable_key", "{{ {[1]: 2} }}"),
    ("error_unique_unhashable", "{{ [[1], [1]] | unique | list }}"),
    ("error_startswith_int", "{{ s.startswith(1) }}"),
    ("error_tojson_bad_indent", "{{ d | tojson(indent=1.5) }}"),
    ("error_loop_cycle_empty", "{% for x in items %}{{ loop.cycle() }}{% endfor %}"),
    ("error_float_inf_to_int", "{{ 1e308 * 10 | int }}"),
    ("macro_sees_later_top_level_set", "{% macro m() %}[{{ late }}]{% endmacro %}{{ m() }}{% set late = 'now set' %}{{ m() }}"),
    ("macro_loop_is_lexical", "{% macro m() %}[{{ loop is defined }}]{% endmacro %}{% for x in [1] %}{{ m() }}{% endfor %}"),
    ("macro_in_loop_body", "{% for x in items %}{% macro m() %}{{ x }}{% endmacro %}{{ m() }}{% endfor %}"),
    ("macro_sets_outer_namespace", "{% set ns = namespace(v=0) %}{% macro bump() %}{% set ns.v = ns.v + 1 %}{% endmacro %}{{ bump() }}{{ bump() }}{{ ns.v }}"),
    ("dict_literal_duplicate_key", "{{ {'a': 1, 'b': 2, 'a': 3} }} {{ {1: 'x', 1.0: 'y', true: 'z'} }}"),
    ("context_variable_shadowed", "{% set n = n + 1 %}{{ n }}{% for i in [1] %}{% set n = 100 %}{% endfor %}{{ n }}"),
    ("attribute_of_loop_item_missing", "{% for p in people %}[{{ p.city }}|{{ p.city is defined }}|{{ p['city'] | default('-') }}]{% endfor %}"),
    # ---- errors: nomoat must raise where Jinja2 raises
    ("error_raise_exception", "{% if n > 1 %}{{ raise_exception('n is too big: ' ~ n) }}{% endif %}"),
    ("error_undefined_attribute_chain", "{{ missing.attr }}"),
    ("error_undefined_of_undefined", "{{ d.nope.deeper }}"),
    ("error_call_undefined", "{{ missing() }}"),
    ("error_add_undefined", "{{ missing + 1 }}"),
    ("error_str_plus_int", "{{ 'a' + 1 }}"),
    ("error_int_plus_str", "{{ 1 + 'a' }}"),
    ("error_division_by_zero", "{{ 1 / 0 }}"),
    ("error_floor_div_zero", "{{ 1 // 0 }}"),
    ("error_modulo_zero", "{{ 5 % 0 }}"),
    ("error_compare_types", "{{ 'a' < 1 }}"),
    ("error_sort_mixed", "{{ [1, 'a'] | sort }}"),
    ("error_in_non_container", "{{ 1 in 5 }}"),
    ("error_in_string_non_str", "{{ 1 in 'abc' }}"),
    ("error_not_iterable", "{% for x in 5 %}{% endfor %}"),
    ("error_unpack", "{% for a, b in [1, 2] %}{% endfor %}"),
    ("error_unpack_too_many", "{% set a, b = [1, 2, 3] %}"),
    ("error_length_of_int", "{{ n | length }}"),
    ("error_length_of_generator", "{{ items | select | length }}"),
    ("error_int_of_undefined", "{{ missing | int }}"),
    ("error_tojson_undefined", "{{ missing | tojson }}"),
    ("error_tojson_namespace", "{{ namespace(a=1) | tojson }}"),
    ("error_set_attr_non_namespace", "{% set d.x = 1 %}"),
    ("error_list_append_sandboxed", "{{ items.append(4) }}"),
    ("error_dict_update_sandboxed", "{{ d.update({'a': 1}) }}"),
    ("error_unsafe_dunder", "{{ s.__class__ }}"),
    ("error_macro_too_many_args", "{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}"),
    ("error_macro_unknown_kwarg", "{% macro m(a) %}{% endmacro %}{{ m(b=2) }}"),
    ("error_range_too_big", "{{ range(1000000) | length }}"),
    ("error_range_float", "{{ range(2.5) }}"),
    ("error_int_not_callable", "{{ n() }}"),
    ("error_split_empty_sep", "{{ s.split('') }}"),
    ("error_index_not_found", "{{ s.index('zz') }}"),
    ("error_last_of_generator", "{{ items | select | last }}"),
    ("error_syntax_unclosed_if", "{% if t %}x"),
    ("error_syntax_unknown_tag", "{% frobnicate %}"),
    ("error_syntax_bad_expression", "{{ 1 + }}"),
    ("error_syntax_unknown_filter", "{{ s | nosuchfilter }}"),
    ("error_syntax_unknown_test", "{{ s is nosuchtest }}"),
    ("error_syntax_unclosed_string", "{{ 'abc }}"),
    ("error_syntax_unclosed_comment", "{# abc"),
    ("error_syntax_bad_bracket", "{{ (1] }}"),
    ("error_syntax_break_outside_loop", "{% break %}"),
    ("error_syntax_endfor_mismatch", "{% if t %}{% endfor %}"),
    ("error_syntax_assign_constant", "{% set true = 1 %}"),
    ("error_syntax_do_not_loaded", "{% do items.append(1) %}"),
    ("error_negative_pow_zero", "{{ 0 ** -1 }}"),
    ("error_str_not_callable_result", "{{ s.upper()() }}"),
]


def assigned(c):
    """Assigned in this Python's Unicode version (and not a surrogate or private use).

    Characters Unicode assigned later (Python 3.11 has Unicode 14.0, utf8proc 2.8
    has 15.0) are classified differently by the two and left out."""
    return unicodedata.category(chr(c)) not in ("Cn", "Cs", "Co")


def all_chars():
    """Every assigned code point up to U+323AF."""
    return "".join(chr(c) for c in range(0x323B0) if assigned(c))


def predicate_chars():
    """A sample of characters of every kind for the str.is*() predicates."""
    return [chr(c) for c in list(range(0, 0x3000, 7)) + list(range(0x3000, 0x323B0, 211)) if assigned(c)]


EXTRA_VARS = {
    "tools_list": None,  # filled in cases()
    "spec": {"type": "array", "items": {"type": "string"}, "values": [1, 2]},
    "think_messages": [{"role": "assistant", "content": "<think>\nplan\n</think>\n\nAnswer one."},
                       {"role": "assistant", "content": "no think here"},
                       {"role": "assistant", "content": "a</think>b</think>c"}],
    "parts_messages": [{"role": "user", "content": "plain"},
                       {"role": "user", "content": [{"type": "text", "text": "look: "}, {"type": "image"}]},
                       {"role": "user", "content": []}],
    "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": {"a": 1, "b": "x"}}},
                   {"name": "g", "arguments": "{\"raw\": true}"}],
}


def cases():
    out = []
    for name, template in TEMPLATES:
        extra = dict(VARS)
        extra.update(EXTRA_VARS)
        extra["tools_list"] = [chat_conversations.WEATHER_TOOL, chat_conversations.SEARCH_TOOL]
        if name.startswith("unicode_"):
            extra["all_chars"] = all_chars()
            extra["predicate_chars"] = predicate_chars()
        out.append({"name": name, "template": template, "extra": extra, "now": 1767225600 + 13 * 3600 + 37 * 60,
                    "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}],
                    "tools": None, "add_generation_prompt": True, "bos_token": "<s>", "eos_token": "</s>"})
    return out
