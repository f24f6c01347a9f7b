// Python's str semantics over UTF-8 text: chat templates index, slice,
// strip, split and case-map strings by code point the way CPython does, and
// print numbers and strings the way str()/repr() do. Inputs are assumed to be
// valid UTF-8 (templates and JSON inputs are checked before they get here).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nomoat::jinja {

std::u32string to_code_points(std::string_view utf8);
std::string to_utf8(std::u32string_view cps);
// Number of code points (Python's len()).
int64_t code_point_count(std::string_view utf8);
// Byte offset of code point `index` (0 <= index <= count).
size_t byte_offset_of(std::string_view utf8, int64_t index);

// str.isspace(): the characters Python's str.split()/strip() and the
// regex \s treat as whitespace.
bool py_isspace(char32_t c);
// Characters str.splitlines() breaks at.
bool py_is_line_break(char32_t c);

// str.strip/lstrip/rstrip: `chars` unset strips whitespace.
std::string py_strip(std::string_view s, const std::optional<std::string>& chars, bool left, bool right);
// str.split / str.rsplit: `sep` unset splits at runs of whitespace; maxsplit < 0: no limit.
std::vector<std::string> py_split(std::string_view s, const std::optional<std::string>& sep, int64_t maxsplit);
std::vector<std::string> py_rsplit(std::string_view s, const std::optional<std::string>& sep, int64_t maxsplit);
std::vector<std::string> py_splitlines(std::string_view s, bool keepends);
// str.replace; count < 0 replaces all.
std::string py_replace(std::string_view s, std::string_view old, std::string_view replacement, int64_t count);
// Occurrences of `sub` (non-overlapping), str.count.
int64_t py_count(std::string_view s, std::string_view sub);

// Case mappings with Unicode's full (multi-character) mappings, as CPython.
std::string py_upper(std::string_view s);
std::string py_lower(std::string_view s);
std::string py_title(std::string_view s);       // str.title()
std::string py_capitalize(std::string_view s);  // str.capitalize() (3.8+: title-cases the first)
std::string py_swapcase(std::string_view s);
bool py_is_cased(char32_t c);
bool py_is_upper_char(char32_t c);
bool py_is_lower_char(char32_t c);
bool py_islower(std::string_view s);  // str.islower()
bool py_isupper(std::string_view s);  // str.isupper()
bool py_isalpha(char32_t c);
bool py_isdigit_char(char32_t c);     // str.isdigit() per character
bool py_isdecimal_char(char32_t c);   // str.isdecimal() per character
bool py_isalnum(char32_t c);
bool py_isprintable(char32_t c);

// repr() of a str: quotes and escapes chosen as CPython does.
std::string py_repr_string(std::string_view s);
// repr()/str() of a float: shortest round-trip digits, '1.0', '1e-05', 'inf', 'nan'.
std::string py_repr_float(double v);

// True if `s` is well-formed UTF-8 (no surrogates, no overlongs).
bool is_valid_utf8(std::string_view s);

}  // namespace nomoat::jinja
