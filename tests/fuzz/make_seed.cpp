// Writes a fuzzer's seed corpus: `make_seed FORMAT DIR` with FORMAT gguf or
// safetensors writes DIR/seed.FORMAT.
#include <cstdio>
#include <string>

#include "fuzz/seed_gguf.h"
#include "fuzz/seed_safetensors.h"

int main(int argc, char** argv) {
  const std::string format = argc == 3 ? argv[1] : "";
  if (format != "gguf" && format != "safetensors") {
    std::fprintf(stderr, "usage: make_seed gguf|safetensors DIR\n");
    return 2;
  }
  const auto bytes = format == "gguf" ? nomoat::testing::seed_gguf_bytes() : nomoat::testing::seed_safetensors_bytes();
  const std::string path = std::string(argv[2]) + "/seed." + format;
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) {
    std::fprintf(stderr, "make_seed: cannot write %s\n", path.c_str());
    return 1;
  }
  std::fclose(f);
  return 0;
}
