// libFuzzer target: the chat-template parser and interpreter must turn any
// input (template text, optionally NUL + JSON messages) into output or a
// clean error, never crash, hang, leak or allocate without bound.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/seed_jinja.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nomoat::testing::render_fuzz_input(std::string(reinterpret_cast<const char*>(data), size));
  return 0;
}
