// Each subcommand registers itself on the app and returns the action to run.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace nomoat::cli {

using Action = std::function<int()>;

// Adds the subcommand to `app`; `action` is set to what runs when it is chosen.
void add_info(CLI::App& app, Action& action);
void add_gen_model(CLI::App& app, Action& action);
void add_tokenize(CLI::App& app, Action& action);
void add_detokenize(CLI::App& app, Action& action);
void add_run(CLI::App& app, Action& action);
void add_chat(CLI::App& app, Action& action);
void add_perplexity(CLI::App& app, Action& action);
void add_bench(CLI::App& app, Action& action);
void add_convert(CLI::App& app, Action& action);
void add_quantize(CLI::App& app, Action& action);
void add_template(CLI::App& app, Action& action);

// Runs the whole command line; returns the process exit code. Errors are
// printed as one line on stderr.
int run_main(int argc, char** argv);

}  // namespace nomoat::cli
