#include <cstdio>
#include <exception>

#include "base/error.h"
#include "cli/commands.h"

namespace nomoat::cli {

int run_main(int argc, char** argv) {
  CLI::App app{"nomoat: run, serve and network open-weights language models on your own hardware"};
  app.set_version_flag("--version", std::string("nomoat ") + NOMOAT_VERSION);
  app.require_subcommand(1);
  Action action;
  add_run(app, action);
  add_chat(app, action);
  add_perplexity(app, action);
  add_bench(app, action);
  add_info(app, action);
  add_gen_model(app, action);
  add_convert(app, action);
  add_quantize(app, action);
  add_tokenize(app, action);
  add_detokenize(app, action);
  add_template(app, action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "nomoat: error: %s (see --help)\n", e.what());
    return 2;
  }
  try {
    return action ? action() : 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "nomoat: error: %s\n", e.what());
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "nomoat: error: out of memory\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nomoat: internal error: %s\n", e.what());
  }
  return 1;
}

}  // namespace nomoat::cli
