// `nomoat run` (generate from a prompt) and `nomoat perplexity`.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "base/error.h"
#include "base/threads.h"
#include "cli/commands.h"
#include "cli/model_options.h"
#include "engine/generate.h"
#include "engine/perplexity.h"
#include "formats/gguf_summary.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace nomoat::cli {

void add_run(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("run", "Generate text from a prompt with a model (GGUF file or Hugging Face folder)");
  struct Options {
    std::string model, prompt, prompt_file;
    GenerationFlags flags;
    bool echo = false, verbose = false, no_bos = false, no_repack = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("model", o->model, "GGUF model file or Hugging Face folder")->required();
  cmd->add_option("-p,--prompt", o->prompt, "Prompt text");
  cmd->add_option("-f,--file", o->prompt_file, "Read the prompt from FILE");
  add_generation_options(cmd, o->flags, 128);
  cmd->add_flag("--echo", o->echo, "Print the prompt before the continuation");
  cmd->add_flag("--no-bos", o->no_bos, "Do not add BOS to the prompt");
  cmd->add_flag("-v,--verbose", o->verbose, "Print memory use with the timings");
  cmd->add_flag("--no-repack", o->no_repack, "Use the weights as mapped from the file (no row-interleaved copy for the SIMD kernels)");
  cmd->callback([o, &action] {
    action = [o] {
      if (o->prompt.empty() == o->prompt_file.empty() && !o->prompt.empty()) fail("give either -p or -f, not both");
      std::string prompt = o->prompt;
      if (!o->prompt_file.empty()) {
        std::ifstream in(o->prompt_file, std::ios::binary);
        if (!in) fail(o->prompt_file, ": cannot open");
        prompt.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      }
      finish_generation_options(o->flags);
      const GenerateOptions& gen = o->flags.gen;
      const LoadedModel l = load_model(o->model, o->no_repack, gen.threads);
      if (gen.n_ctx > l.model->spec().n_ctx_train && gen.allow_long_context) {
        std::fprintf(stderr, "run: warning: context %lld is longer than the %lld tokens the model was trained on\n",
                     static_cast<long long>(gen.n_ctx), static_cast<long long>(l.model->spec().n_ctx_train));
      }
      EncodeOptions enc;
      enc.add_special = !o->no_bos;
      std::vector<TokenId> ids = l.tokenizer->encode(prompt, enc);
      if (ids.empty()) fail("the prompt is empty: give -p TEXT (or drop --no-bos)");
      if (o->echo) {
        std::fwrite(prompt.data(), 1, prompt.size(), stdout);
        std::fflush(stdout);
      }
      const GenerateResult r = generate(*l.model, *l.tokenizer, ids, gen, [](const std::string& text) {
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fflush(stdout);
      });
      std::printf("\n");
      std::fprintf(stderr, "load: %.2f s | prompt: %lld tokens, %.1f tokens/s | generate: %zu tokens, %.1f tokens/s | stop: %s\n",
                   l.seconds, static_cast<long long>(r.n_prompt), r.n_prompt / std::max(r.prompt_seconds, 1e-9), r.tokens.size(),
                   r.tokens.size() / std::max(r.generate_seconds, 1e-9), stop_reason_name(r.reason));
      if (o->verbose) {
        std::fprintf(stderr, "memory: model file %s (mapped), repacked weights %s, KV cache %s (%s), peak RSS %s\n",
                     human_bytes(l.model->file().file_size()).c_str(), human_bytes(l.model->packed_bytes()).c_str(),
                     human_bytes(r.kv_bytes).c_str(), o->flags.cache_type.c_str(),
                     human_bytes(static_cast<uint64_t>(peak_rss_bytes())).c_str());
      }
      return 0;
    };
  });
}

void add_perplexity(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("perplexity", "Perplexity of a model on a text file (chunked, comparable to other engines)");
  struct Options {
    std::string model, file;
    int64_t n_ctx = 512, n_batch = 512;
    int threads = default_thread_count();
    bool no_repack = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("model", o->model, "GGUF model file or Hugging Face folder")->required();
  cmd->add_option("-f,--file", o->file, "Text file")->required();
  cmd->add_option("-c,--ctx-size", o->n_ctx, "Chunk size in tokens")->default_val(512);
  cmd->add_option("-b,--batch-size", o->n_batch, "Tokens per forward pass")->default_val(512);
  cmd->add_option("-t,--threads", o->threads, "Threads");
  cmd->add_flag("--no-repack", o->no_repack, "Use the weights as mapped from the file (no row-interleaved copy for the SIMD kernels)");
  cmd->callback([o, &action] {
    action = [o] {
      std::ifstream in(o->file, std::ios::binary);
      if (!in) fail(o->file, ": cannot open");
      const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
      const LoadedModel l = load_model(o->model, o->no_repack, o->threads);
      if (o->n_ctx > l.model->spec().n_ctx_train) {
        std::fprintf(stderr, "perplexity: note: -c %lld is beyond the model's training context of %lld\n",
                     static_cast<long long>(o->n_ctx), static_cast<long long>(l.model->spec().n_ctx_train));
      }
      EncodeOptions enc;
      enc.add_special = true;
      enc.parse_special = false;
      const std::vector<TokenId> ids = l.tokenizer->encode(text, enc);
      std::fprintf(stderr, "perplexity: %zu tokens, %lld chunks of %lld\n", ids.size(),
                   static_cast<long long>(static_cast<int64_t>(ids.size()) / o->n_ctx), static_cast<long long>(o->n_ctx));
      const PerplexityResult r = perplexity(*l.model, ids, l.tokenizer->vocab().bos, o->n_ctx, o->n_batch, o->threads,
                                            [](int64_t chunk, double ppl) { std::fprintf(stderr, "[%lld]%.4f ", static_cast<long long>(chunk + 1), ppl); });
      std::fprintf(stderr, "\n");
      std::printf("PPL = %.4f +/- %.5f (%lld chunks, %lld tokens scored)\n", r.ppl, r.ppl_stderr,
                  static_cast<long long>(r.n_chunks), static_cast<long long>(r.n_scored));
      return 0;
    };
  });
}

}  // namespace nomoat::cli
