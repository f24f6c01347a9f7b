// What the generating commands (run, chat, later serve) share: loading a
// model with its tokenizer, and the generation/sampling options.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "engine/generate.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace nomoat::cli {

struct LoadedModel {
  std::unique_ptr<Model> model;
  std::unique_ptr<Tokenizer> tokenizer;
  double seconds = 0;  // load time
};

// Loads the model and its tokenizer; checks they agree on the vocabulary.
LoadedModel load_model(const std::string& path, bool no_repack, int threads);

// Generation options as flags on `cmd`: -n, -c, -b, -t, sampling, --stop,
// --cache-type, --allow-long-context. Call finish_generation_options()
// before use.
struct GenerationFlags {
  GenerateOptions gen;
  std::string cache_type = "f16";
};
void add_generation_options(CLI::App* cmd, GenerationFlags& flags, int64_t default_n_predict);
// Validates the flags and resolves the cache type.
void finish_generation_options(GenerationFlags& flags);

// Peak resident set size of this process so far.
double peak_rss_bytes();

}  // namespace nomoat::cli
