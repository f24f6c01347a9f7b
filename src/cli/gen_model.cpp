// `nomoat gen-model`: seeded random-weight models for tests and benchmarks.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "base/error.h"
#include "cli/commands.h"
#include "formats/gguf_summary.h"
#include "model/quant_mix.h"
#include "model/random_model.h"
#include "tensor/dtype.h"

namespace nomoat::cli {

void add_gen_model(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("gen-model", "Write a model GGUF with seeded random weights (same arguments, same bytes)");
  struct Options {
    RandomModelOptions model;
    std::string out;
    std::string type = "f16";
    bool quiet = false;
    bool pure = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("-o,--output", o->out, "Output GGUF file")->required();
  cmd->add_option("--arch", o->model.arch, std::string("Architecture: ") + random_model_architectures())->default_val("llama");
  cmd->add_option("--n-embd", o->model.n_embd, "Embedding size")->default_val(256);
  cmd->add_option("--n-layer", o->model.n_layer, "Number of layers")->default_val(2);
  cmd->add_option("--n-head", o->model.n_head, "Attention heads")->default_val(4);
  cmd->add_option("--n-head-kv", o->model.n_head_kv, "Key/value heads (GQA); default: --n-head");
  cmd->add_option("--n-ff", o->model.n_ff, "Feed-forward size (default: 8/3 n_embd rounded to 32)");
  cmd->add_option("--n-vocab", o->model.n_vocab, "Vocabulary size (default: the vocab file's, or 512)");
  cmd->add_option("--ctx", o->model.n_ctx, "Context length recorded in the metadata")->default_val(2048);
  cmd->add_option("--type", o->type, "Weight preset (llama.cpp's per-tensor mix) or single type: " + quant_mix_names())
      ->default_val("f16");
  cmd->add_flag("--pure", o->pure, "Every matrix the preset's base type (no per-tensor mix)");
  cmd->add_option("--n-expert", o->model.n_expert, "Mixture of experts (llama, qwen3moe): number of experts; --n-ff is each expert's width");
  cmd->add_option("--n-expert-used", o->model.n_expert_used, "Experts used per token (default: 2)");
  cmd->add_flag("--tied", o->model.tied, "Share the embedding as output matrix (no output.weight)");
  cmd->add_option("--vocab-from", o->model.vocab_from, "Copy tokenizer metadata from this GGUF");
  cmd->add_option("--seed", o->model.seed, "Random seed")->default_val(42);
  cmd->add_option("-t,--threads", o->model.threads, "Threads (default: all cores)");
  cmd->add_flag("-q,--quiet", o->quiet, "No progress output");
  cmd->callback([o, cmd, &action] {
    const bool kv_given = cmd->count("--n-head-kv") > 0;
    action = [o, kv_given] {
      const auto mix = find_quant_mix(o->type);
      if (!mix) fail("--type '", o->type, "' is not a preset or type nomoat can write (", quant_mix_names(), ")");
      o->model.type = mix->base;
      o->model.quant_mix = o->pure ? std::string() : mix->name;
      if (!kv_given) o->model.n_head_kv = o->model.n_head;
      const auto start = std::chrono::steady_clock::now();
      int last_percent = -1;
      write_random_model(o->model, o->out, [&](uint64_t done, uint64_t total) {
        const int percent = total == 0 ? 100 : static_cast<int>(100 * done / total);
        if (!o->quiet && percent != last_percent) {
          std::fprintf(stderr, "\rgen-model: writing %s: %3d%%", o->out.c_str(), percent);
          last_percent = percent;
        }
      });
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (!o->quiet) std::fprintf(stderr, "\n");
      const std::string what = o->model.quant_mix.empty() ? std::string(dtype_traits(o->model.type).name) + ", every matrix" : o->model.quant_mix;
      std::printf("wrote %s (%s) in %.1f s\n", o->out.c_str(), what.c_str(), secs);
      return 0;
    };
  });
}

}  // namespace nomoat::cli
