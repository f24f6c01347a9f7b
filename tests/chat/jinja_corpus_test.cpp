// The chat-template fuzzer's inputs, run in the normal suite: the seed
// templates render, and every truncation, flipped byte, spliced token and
// random mutation of them gives output or a clean error, never a crash, a
// hang or an unbounded allocation (run under `make test-asan` too).
#include <gtest/gtest.h>

#include <random>

#include "fuzz/seed_jinja.h"

namespace nomoat {
namespace {

using testing::jinja_seed_templates;
using testing::render_fuzz_input;

TEST(JinjaCorpus, SeedsRender) {
  for (const std::string& seed : jinja_seed_templates()) {
    EXPECT_TRUE(render_fuzz_input(seed)) << seed.substr(0, 200);
    EXPECT_TRUE(render_fuzz_input(seed + '\0' + testing::jinja_seed_messages().dump())) << seed.substr(0, 200);
  }
}

TEST(JinjaCorpus, EveryTruncationIsHandled) {
  for (const std::string& seed : jinja_seed_templates()) {
    for (size_t len = 0; len < seed.size(); ++len) render_fuzz_input(seed.substr(0, len));
  }
}

// Pieces of Jinja syntax spliced in at random: they reach deeper than random bytes.
const char* const kTokens[] = {
    "{{", "}}", "{%", "%}", "{#", "#}", "{%-", "-%}", "{{-", "-}}", "{%+", "+%}", "|", "(", ")", "[", "]", "{", "}",
    "'", "\"", "\\", ".", ",", ":", "=", "==", "**", "//", "%", "~", " if ", " else ", " for ", " in ", " not ",
    " is ", " and ", " or ", "endif", "endfor", "set ", "macro ", "endmacro", "call", "filter ", "raw", "endraw",
    "loop", "loop.index", "messages", "ns", "namespace(", "range(", "raise_exception(", "caller()", "tojson", "trim",
    "items", "selectattr(", "map(", "1", "-1", "1e308", "9223372036854775807", "none", "true", "[::-1]",
    "\xc3\xa9", "\xf0\x9f\x8c\x8d", "\n", " ", "\t", "\0",
};

TEST(JinjaCorpus, RandomMutationsNeverCrash) {
  const auto seeds = jinja_seed_templates();
  std::mt19937_64 rng(20260101);
  int rendered = 0;
  const int iterations = 20000;
  for (int iter = 0; iter < iterations; ++iter) {
    std::string m = seeds[rng() % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 6);
    for (int e = 0; e < edits && !m.empty(); ++e) {
      const size_t at = rng() % m.size();
      switch (rng() % 6) {
        case 0: m[at] = static_cast<char>(rng()); break;
        case 1: m.erase(at, 1 + rng() % 8); break;
        case 2: m.insert(at, kTokens[rng() % std::size(kTokens)]); break;
        case 3: m.resize(at); break;
        case 4: {  // splice in a piece of another seed
          const std::string& other = seeds[rng() % seeds.size()];
          const size_t from = rng() % other.size();
          m.insert(at, other.substr(from, 1 + rng() % 80));
          break;
        }
        default: m.replace(at, 1, kTokens[rng() % std::size(kTokens)]); break;
      }
    }
    rendered += render_fuzz_input(m);
  }
  std::printf("mutated templates rendered: %d of %d (the rest failed cleanly)\n", rendered, iterations);
}

TEST(JinjaCorpus, HostileTemplatesStopCleanly) {
  const char* const hostile[] = {
      "{% for i in range(100000) %}{% for j in range(100000) %}{{ i }}{% endfor %}{% endfor %}",
      "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
      "{% set ns = namespace(s='x') %}{% for i in range(99999) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
      "{% set ns = namespace(x=[]) %}{% for i in range(99999) %}{% set ns.x = [ns.x, ns.x] %}{% endfor %}{{ ns }}",
      "{% set ns = namespace() %}{% set ns.me = ns %}{{ ns }}{{ ns.me.me.me }}",
      "{{ ((((((((((((((((((((((((((((((((((((((((((((((((((1))))))))))))))))))))))))))))))))))))))))))))))))) }}",
      "{{ 'x' * 9223372036854775807 }}{{ [1] * 9223372036854775807 }}",
      "{{ range(-9223372036854775807, 9223372036854775807, 9223372036854775807) | list }}",
      "{{ (2 ** 62) * 4 }}{{ -9223372036854775807 - 2 }}{{ 9223372036854775807 // -1 }}",
  };
  for (const char* t : hostile) render_fuzz_input(t);
  std::string deep = "{{ ";
  for (int i = 0; i < 5000; ++i) deep += "[";
  render_fuzz_input(deep);
  std::string messages = std::string("{{ messages }}") + '\0';
  for (int i = 0; i < 10000; ++i) messages += "[";
  render_fuzz_input(messages);
}

}  // namespace
}  // namespace nomoat
