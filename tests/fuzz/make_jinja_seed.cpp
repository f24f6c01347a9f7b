// Writes the chat-template fuzzer's seed corpus into the directory given.
#include <cstdio>
#include <string>

#include "fuzz/seed_jinja.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_jinja_seed DIR\n");
    return 2;
  }
  const auto seeds = nomoat::testing::jinja_seed_templates();
  for (size_t i = 0; i < seeds.size(); ++i) {
    std::string bytes = seeds[i];
    if (i % 2 == 1) bytes += '\0' + nomoat::testing::jinja_seed_messages().dump();  // some bring messages
    const std::string path = std::string(argv[1]) + "/seed" + std::to_string(i) + ".jinja";
    FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) {
      std::fprintf(stderr, "make_jinja_seed: cannot write %s\n", path.c_str());
      return 1;
    }
    std::fclose(f);
  }
  return 0;
}
