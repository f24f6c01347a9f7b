// Errors: one exception type whose message is the single line a user sees.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace nomoat {

// Thrown for every user-visible failure (bad file, bad argument, I/O).
// The message names the file, field or limit that was wrong.
class Error : public std::runtime_error {
 public:
  explicit Error(std::string message) : std::runtime_error(std::move(message)) {}
};

namespace detail {
inline void append_part(std::string& out, std::string_view s) { out.append(s); }
inline void append_part(std::string& out, char c) { out.push_back(c); }
template <typename T>
  requires(std::is_arithmetic_v<T> && !std::is_same_v<T, char>)
void append_part(std::string& out, T v) {
  out.append(std::to_string(v));
}
}  // namespace detail

// Concatenates strings and numbers into one message.
template <typename... Parts>
std::string cat(const Parts&... parts) {
  std::string msg;
  (detail::append_part(msg, parts), ...);
  return msg;
}

// Throws Error with the concatenated message.
template <typename... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  throw Error(cat(parts...));
}

}  // namespace nomoat
