#include "cli/model_options.h"

#include <sys/resource.h>

#include <chrono>

#include "base/error.h"
#include "base/threads.h"

namespace nomoat::cli {

double peak_rss_bytes() {
  struct rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) * 1024.0;
}

LoadedModel load_model(const std::string& path, bool no_repack, int threads) {
  const auto t0 = std::chrono::steady_clock::now();
  LoadedModel l;
  LoadOptions options;
  options.repack = !no_repack;
  options.threads = threads;
  l.model = Model::load(path, options);
  l.tokenizer = std::make_unique<Tokenizer>(load_vocab_gguf(l.model->file()));
  if (static_cast<int64_t>(l.tokenizer->vocab().size()) > l.model->spec().n_vocab) {
    fail(path, ": the tokenizer has ", l.tokenizer->vocab().size(), " tokens but the model only ", l.model->spec().n_vocab);
  }
  l.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return l;
}

void add_generation_options(CLI::App* cmd, GenerationFlags& f, int64_t default_n_predict) {
  GenerateOptions& g = f.gen;
  g.threads = default_thread_count();
  cmd->add_option("-n,--n-predict", g.n_predict, "Tokens to generate (-1: until end of text)")->default_val(default_n_predict);
  cmd->add_option("-c,--ctx-size", g.n_ctx, "Context size (0: the model's)")->default_val(0);
  cmd->add_option("-b,--batch-size", g.n_batch, "Prompt tokens per forward pass")->default_val(512);
  cmd->add_option("-t,--threads", g.threads, "Threads");
  cmd->add_option("--temp", g.sampling.temperature, "Temperature (0: greedy)")->default_val(0.8);
  cmd->add_option("--top-k", g.sampling.top_k, "Top-k (0: off)")->default_val(40);
  cmd->add_option("--top-p", g.sampling.top_p, "Top-p (1: off)")->default_val(0.95);
  cmd->add_option("--min-p", g.sampling.min_p, "Min-p (0: off)")->default_val(0.05);
  cmd->add_option("--typical", g.sampling.typical_p, "Typical-p (1: off)")->default_val(1.0);
  cmd->add_option("--repeat-penalty", g.sampling.repeat_penalty, "Repetition penalty (1: off)")->default_val(1.0);
  cmd->add_option("--repeat-last-n", g.sampling.repeat_last_n, "Tokens the penalties look back over")->default_val(64);
  cmd->add_option("--presence-penalty", g.sampling.presence_penalty, "Presence penalty")->default_val(0.0);
  cmd->add_option("--frequency-penalty", g.sampling.frequency_penalty, "Frequency penalty")->default_val(0.0);
  cmd->add_option("-s,--seed", g.sampling.seed, "Random seed")->default_val(0);
  cmd->add_option("--stop", g.stop, "Stop before this string (repeatable)");
  cmd->add_option("--cache-type", f.cache_type, "KV cache type: f16, f32, q8_0")->default_val("f16");
  cmd->add_flag("--allow-long-context", g.allow_long_context, "Allow -c beyond the model's trained context (with a warning)");
}

void finish_generation_options(GenerationFlags& f) {
  const auto t = dtype_from_name(f.cache_type);
  if (!t || (*t != DType::F16 && *t != DType::F32 && *t != DType::Q8_0)) {
    fail("--cache-type '", f.cache_type, "' must be f16, f32 or q8_0");
  }
  f.gen.kv_type = *t;
  f.gen.sampling.validate();
  if (f.gen.threads <= 0) fail("--threads must be positive");
}

}  // namespace nomoat::cli
