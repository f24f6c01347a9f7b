// Writes a fuzzer's seed corpus: `make_seed TARGET DIR` with TARGET gguf or
// safetensors writes DIR/seed.TARGET; jinja writes DIR/seedN.jinja, one per
// seed template (every other one followed by a NUL and a messages array,
// the input format of fuzz_jinja).
#include <cstdio>
#include <string>
#include <vector>

#include "fuzz/seed_gguf.h"
#include "fuzz/seed_jinja.h"
#include "fuzz/seed_safetensors.h"

namespace {

bool write(const std::string& path, const std::string& bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  const bool ok = f != nullptr && std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  if (f != nullptr) std::fclose(f);
  if (!ok) std::fprintf(stderr, "make_seed: cannot write %s\n", path.c_str());
  return ok;
}

template <typename Bytes>
std::string as_string(const Bytes& b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

}  // namespace

int main(int argc, char** argv) {
  const std::string target = argc == 3 ? argv[1] : "";
  const std::string dir = argc == 3 ? argv[2] : "";
  if (target == "gguf") return write(dir + "/seed.gguf", as_string(nomoat::testing::seed_gguf_bytes())) ? 0 : 1;
  if (target == "safetensors") {
    return write(dir + "/seed.safetensors", as_string(nomoat::testing::seed_safetensors_bytes())) ? 0 : 1;
  }
  if (target == "jinja") {
    const auto seeds = nomoat::testing::jinja_seed_templates();
    for (size_t i = 0; i < seeds.size(); ++i) {
      std::string bytes = seeds[i];
      if (i % 2 == 1) bytes += '\0' + nomoat::testing::jinja_seed_messages().dump();
      if (!write(dir + "/seed" + std::to_string(i) + ".jinja", bytes)) return 1;
    }
    return 0;
  }
  std::fprintf(stderr, "usage: make_seed gguf|safetensors|jinja DIR\n");
  return 2;
}
