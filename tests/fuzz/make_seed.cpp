// Writes the fuzzer's seed corpus into the directory given as argument.
#include <cstdio>
#include <string>

#include "fuzz/seed_gguf.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seed DIR\n");
    return 2;
  }
  const auto bytes = nomoat::testing::seed_gguf_bytes();
  const std::string path = std::string(argv[1]) + "/seed.gguf";
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) {
    std::fprintf(stderr, "make_seed: cannot write %s\n", path.c_str());
    return 1;
  }
  std::fclose(f);
  return 0;
}
