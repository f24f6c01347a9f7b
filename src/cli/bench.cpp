// `nomoat bench`: prompt-processing and generation throughput like
// llama-bench, and `--roofline`: this machine's read bandwidth and a plain
// FP32 loop, with each test's share of the bandwidth when a model is given.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/error.h"
#include "base/threads.h"
#include "cli/commands.h"
#include "engine/benchmark.h"
#include "formats/gguf_summary.h"
#include "model/model.h"

namespace nomoat::cli {
namespace {

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

void print_line(const nlohmann::json& j) {
  std::printf("%s\n", j.dump().c_str());
  std::fflush(stdout);
}

}  // namespace

void add_bench(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("bench", "Measure prompt processing (pp) and generation (tg) speed, like llama-bench");
  struct Options {
    std::string model;
    BenchOptions bench;
    bool json = false, roofline = false;
    int64_t bw_mib = 1024;
  };
  auto o = std::make_shared<Options>();
  o->bench.threads = default_thread_count();
  cmd->add_option("model", o->model, "GGUF model file (optional with --roofline)");
  cmd->add_option("-p,--n-prompt", o->bench.n_prompt, "Prompt tokens for the pp test (0: skip it)")->default_val(512);
  cmd->add_option("-n,--n-gen", o->bench.n_gen, "Tokens to generate for the tg test (0: skip it)")->default_val(128);
  cmd->add_option("-b,--batch-size", o->bench.n_batch, "Prompt tokens per forward pass")->default_val(512);
  cmd->add_option("-t,--threads", o->bench.threads, "Threads (default: all cores)");
  cmd->add_option("-r,--repetitions", o->bench.reps, "Measured repetitions per test, after one warm-up")->default_val(5);
  cmd->add_flag("--json", o->json, "One JSON object per test per line");
  cmd->add_flag("--roofline", o->roofline, "Measure read bandwidth and a plain FP32 loop; with MODEL, each test's share of the bandwidth");
  cmd->add_option("--roofline-mib", o->bw_mib, "Buffer size of the bandwidth measurement, MiB")->default_val(1024);
  cmd->callback([o, &action] {
    action = [o] {
      o->bench.validate();
      if (o->bw_mib <= 0) fail("--roofline-mib must be positive, not ", o->bw_mib);
      if (o->model.empty() && !o->roofline) fail("bench: give a MODEL file (or --roofline to measure the machine alone)");
      const int threads = o->bench.threads;

      // Load first, so a bad file fails before the roofline's seconds.
      std::unique_ptr<Model> model;
      GgufSummary summary;
      if (!o->model.empty()) {
        model = Model::load(o->model);
        summary = summarize(model->file());
      }

      std::optional<RateResult> bw;
      if (o->roofline) {
        bw = measure_read_bandwidth(static_cast<uint64_t>(o->bw_mib) << 20, threads, o->bench.reps);
        const RateResult fp = measure_fp32_plain(threads, o->bench.reps);
        if (o->json) {
          print_line({{"roofline", "read_bandwidth"}, {"best_bytes_per_s", bw->best}, {"median_bytes_per_s", bw->median},
                      {"buffer_bytes", bw->size}, {"threads", threads}, {"reps", bw->reps}, {"samples_bytes_per_s", bw->samples}});
          print_line({{"roofline", "fp32_plain_loop"}, {"best_flops", fp.best}, {"median_flops", fp.median}, {"threads", threads},
                      {"reps", fp.reps}, {"samples_flops", fp.samples}, {"lower_bound", true}});
        } else {
          std::printf("roofline (%d threads, %d reps):\n", threads, bw->reps);
          std::printf("  read bandwidth : best %s GB/s, median %s GB/s (multi-threaded streaming sum over %s)\n",
                      fixed(bw->best / 1e9, 2).c_str(), fixed(bw->median / 1e9, 2).c_str(), human_bytes(bw->size).c_str());
          std::printf("  fp32 plain loop: best %s GFLOP/s, median %s GFLOP/s (LOWER BOUND: plain C++ multiply-add loop,\n"
                      "                   baseline-ISA build, not the SIMD FMA peak)\n",
                      fixed(fp.best / 1e9, 2).c_str(), fixed(fp.median / 1e9, 2).c_str());
          if (model) std::printf("\n");
        }
      }
      if (!model) return 0;

      const std::string name = std::filesystem::path(o->model).filename().string();
      const uint64_t weight_bytes = weight_bytes_per_token(*model);
      const int name_w = std::max<int>(30, static_cast<int>(name.size()));
      if (!o->json) {
        std::printf("| %-*s | %10s | %10s | %7s | %10s | %20s |", name_w, "model", "size", "params", "threads", "test", "t/s");
        if (bw) std::printf(" %12s | %6s |", "weights GB/s", "% BW");
        std::printf("\n| %s | ---------: | ---------: | ------: | ---------: | -------------------: |", std::string(name_w, '-').c_str());
        if (bw) std::printf(" -----------: | -----: |");
        std::printf("\n");
        std::fflush(stdout);
      }
      run_bench(*model, o->bench, [&](const BenchResult& r) {
        const double rate = weight_read_rate(r, weight_bytes);
        if (o->json) {
          nlohmann::json j = {{"model", name},
                              {"model_path", o->model},
                              {"model_size", summary.tensor_bytes},
                              {"n_params", summary.n_params},
                              {"test", r.test},
                              {"n_prompt", r.n_prompt},
                              {"n_gen", r.n_gen},
                              {"n_batch", r.n_batch},
                              {"threads", r.threads},
                              {"reps", r.reps},
                              {"tokens_per_s", r.tokens_per_s},
                              {"stddev", r.stddev},
                              {"samples_ts", r.samples_ts},
                              {"samples_s", r.samples_s},
                              {"weight_bytes_per_token", weight_bytes}};
          if (bw) {
            j["weight_read_bytes_per_s"] = rate;
            j["read_bandwidth_bytes_per_s"] = bw->best;
            j["bandwidth_fraction"] = rate / bw->best;
          }
          print_line(j);
          return;
        }
        const std::string ts = fixed(r.tokens_per_s, 2) + " ± " + fixed(r.stddev, 2);
        // "±" is two bytes but one column: pad by one more.
        std::printf("| %-*s | %10s | %10s | %7d | %10s | %21s |", name_w, name.c_str(), human_bytes(summary.tensor_bytes).c_str(),
                    human_count(summary.n_params).c_str(), r.threads, r.test.c_str(), ts.c_str());
        if (bw) std::printf(" %12s | %5s%% |", fixed(rate / 1e9, 2).c_str(), fixed(100.0 * rate / bw->best, 1).c_str());
        std::printf("\n");
        std::fflush(stdout);
      });
      return 0;
    };
  });
}

}  // namespace nomoat::cli
