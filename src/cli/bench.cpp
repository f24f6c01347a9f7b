// `nomoat bench`: prompt-processing and generation throughput like
// llama-bench, and `--roofline`: this machine's read bandwidth and int8 /
// bf16 / fp32 compute peaks, with each test's share of them when a model is
// given.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/threads.h"
#include "cli/commands.h"
#include "engine/benchmark.h"
#include "formats/gguf_summary.h"
#include "kernels/packed_matmul.h"
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

nlohmann::json peak_json(const kernels::PeakResult& p) {
  nlohmann::json j = {{"roofline", std::string(kernels::peak_kind_name(p.kind)) + "_peak"}, {"available", p.available}};
  if (!p.available) {
    j["reason"] = p.why_unavailable;
    return j;
  }
  j.update({{"median_ops_per_s", p.median}, {"best_ops_per_s", p.best}, {"samples_ops_per_s", p.samples},
            {"isa", p.isa}, {"instruction", p.instruction}, {"lower_bound", p.lower_bound},
            {"threads", p.threads}, {"reps", p.reps}, {"seconds_per_rep", p.seconds_per_rep}});
  return j;
}

void print_peak(const char* label, const char* unit, const kernels::PeakResult& p) {
  if (!p.available) {
    std::printf("  %-15s: not available (%s)\n", label, p.why_unavailable.c_str());
    return;
  }
  std::printf("  %-15s: median %s %s, best %s (%s: %s%s)\n", label, fixed(p.median / 1e9, 1).c_str(), unit,
              fixed(p.best / 1e9, 1).c_str(), p.isa.c_str(), p.instruction.c_str(),
              p.lower_bound ? "; LOWER BOUND, no SIMD loop for this CPU" : "");
}

}  // namespace

void add_bench(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("bench", "Measure prompt processing (pp) and generation (tg) speed, like llama-bench");
  struct Options {
    std::string model;
    BenchOptions bench;
    bool json = false, roofline = false, no_repack = false;
    int64_t bw_mib = 1024;
    double peak_ms = 250;
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
  cmd->add_flag("--no-repack", o->no_repack, "Use the weights as mapped from the file (no row-interleaved copy for the SIMD kernels)");
  cmd->add_flag("--roofline", o->roofline,
                "Measure read bandwidth and int8/bf16/fp32 compute peaks; with MODEL, each test's share of them");
  cmd->add_option("--roofline-mib", o->bw_mib, "Buffer size of the bandwidth measurement, MiB")->default_val(1024);
  cmd->add_option("--roofline-ms", o->peak_ms, "Duration of each repetition of each compute-peak loop, ms")->default_val(250);
  cmd->callback([o, &action] {
    action = [o] {
      o->bench.validate();
      if (o->bw_mib <= 0) fail("--roofline-mib must be positive, not ", o->bw_mib);
      if (!(o->peak_ms > 0)) fail("--roofline-ms must be positive, not ", o->peak_ms);
      if (o->model.empty() && !o->roofline) fail("bench: give a MODEL file (or --roofline to measure the machine alone)");
      const int threads = o->bench.threads;

      // Load first, so a bad file fails before the roofline's seconds.
      std::unique_ptr<Model> model;
      GgufSummary summary;
      if (!o->model.empty()) {
        LoadOptions load;
        load.repack = !o->no_repack;
        load.threads = o->bench.threads;
        model = Model::load(o->model, load);
        summary = summarize(model->file());
      }

      // Measured right before the model's tests, so both see the same
      // machine state (clocks, other load).
      std::optional<Roofline> roof;
      if (o->roofline) {
        roof = measure_roofline(static_cast<uint64_t>(o->bw_mib) << 20, threads, o->bench.reps, o->peak_ms / 1000.0);
        const RateResult& bw = roof->bandwidth;
        if (o->json) {
          print_line({{"roofline", "read_bandwidth"}, {"best_bytes_per_s", bw.best}, {"median_bytes_per_s", bw.median},
                      {"buffer_bytes", bw.size}, {"threads", threads}, {"reps", bw.reps}, {"samples_bytes_per_s", bw.samples}});
          for (const auto* p : {&roof->int8, &roof->bf16, &roof->fp32, &roof->amx_int8}) print_line(peak_json(*p));
        } else {
          std::printf("roofline (%d threads, %d reps):\n", threads, bw.reps);
          std::printf("  %-15s: best %s GB/s, median %s GB/s (multi-threaded streaming sum over %s)\n", "read bandwidth",
                      fixed(bw.best / 1e9, 2).c_str(), fixed(bw.median / 1e9, 2).c_str(), human_bytes(bw.size).c_str());
          print_peak("int8 peak", "Gop/s", roof->int8);
          print_peak("bf16 peak", "GFLOP/s", roof->bf16);
          print_peak("fp32 peak", "GFLOP/s", roof->fp32);
          print_peak("amx int8 peak", "Gop/s", roof->amx_int8);
          if (model) std::printf("\n");
        }
      }
      if (!model) return 0;

      const std::string name = std::filesystem::path(o->model).filename().string();
      const uint64_t weight_bytes = weight_bytes_per_token(*model);
      const double token_ops = ops_per_token(*model);
      // Quantized weights go through int8 dot products; float ones through FMA.
      const kernels::PeakResult* peak = nullptr;
      if (roof) peak = weights_mostly_quantized(*model) ? &roof->int8 : &roof->fp32;
      const std::string peak_name = peak ? kernels::peak_kind_name(peak->kind) : "";
      const bool amx_prompts = roof && peak == &roof->int8 && roof->amx_int8.available && roof->amx_int8.median > 0;
      // Prompt batches of kAmxMinTokens or more of a quantized model's
      // packed matrices run on AMX bf16 tiles (whose peak is half the int8
      // one).
      const auto ran_on_amx = [amx_prompts](const BenchResult& r) {
        return amx_prompts && std::min(r.n_prompt, r.n_batch) >= kernels::kAmxMinTokens;
      };
      const int name_w = std::max<int>(30, static_cast<int>(name.size()));
      if (!o->json) {
        std::printf("| %-*s | %10s | %10s | %7s | %10s | %20s |", name_w, "model", "size", "params", "threads", "test", "t/s");
        if (roof) std::printf(" %12s | %6s | %9s | %7s |", "weights GB/s", "% BW", "Gop/s", ("% " + peak_name).c_str());
        std::printf("\n| %s | ---------: | ---------: | ------: | ---------: | -------------------: |", std::string(name_w, '-').c_str());
        if (roof) std::printf(" -----------: | -----: | --------: | ------: |");
        std::printf("\n");
        std::fflush(stdout);
      }
      // With --roofline, read bandwidth is measured again right before every
      // repetition (it drifts between regimes on shared machines), and each
      // repetition's weight read rate is divided by its own measurement.
      // The compute peak too: on this kind of machine the vpdpbusd rate of
      // two threads was seen to halve for minutes (both vCPUs on one core).
      std::vector<double> rep_bandwidth, rep_peak;
      BenchOptions bench = o->bench;
      if (roof) {
        const uint64_t probe_bytes = std::min<uint64_t>(static_cast<uint64_t>(o->bw_mib) << 20, uint64_t{256} << 20);
        const kernels::PeakKind peak_kind = peak ? peak->kind : kernels::PeakKind::Fp32;
        const bool probe_peak = peak && peak->available;
        const double probe_seconds = std::min(0.1, o->peak_ms / 1000.0);
        bench.before_rep = [&rep_bandwidth, &rep_peak, probe_bytes, threads, peak_kind, probe_peak, probe_seconds] {
          rep_bandwidth.push_back(measure_read_bandwidth(probe_bytes, threads, 1).best);
          if (probe_peak) rep_peak.push_back(kernels::measure_peak(peak_kind, threads, 1, probe_seconds).median);
        };
      }
      const auto median_of = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
      };
      run_bench(*model, bench, [&](const BenchResult& r) {
        const double rate = weight_read_rate(r, weight_bytes);
        const double ops = compute_rate(r, token_ops);
        double bw = roof ? roof->bandwidth.best : 0;
        double bw_fraction = bw > 0 ? rate / bw : 0;
        const std::vector<double> probes = rep_bandwidth;
        if (roof && rep_bandwidth.size() == r.samples_ts.size() && !rep_bandwidth.empty()) {
          std::vector<double> fractions, bws = rep_bandwidth;
          for (size_t i = 0; i < rep_bandwidth.size(); ++i) {
            fractions.push_back(r.samples_ts[i] * static_cast<double>(weight_bytes) / rep_bandwidth[i]);
          }
          std::sort(fractions.begin(), fractions.end());
          std::sort(bws.begin(), bws.end());
          bw_fraction = fractions[fractions.size() / 2];
          bw = bws[bws.size() / 2];
        }
        rep_bandwidth.clear();
        double peak_ops = peak ? peak->median : 0;
        double compute_fraction = peak_ops > 0 ? ops / peak_ops : 0;
        const std::vector<double> peak_probes = rep_peak;
        if (roof && rep_peak.size() == r.samples_ts.size() && !rep_peak.empty()) {
          std::vector<double> fractions;
          for (size_t i = 0; i < rep_peak.size(); ++i) fractions.push_back(r.samples_ts[i] * token_ops / rep_peak[i]);
          compute_fraction = median_of(fractions);
          peak_ops = median_of(rep_peak);
        }
        rep_peak.clear();
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
                              {"weight_bytes_per_token", weight_bytes},
                              {"ops_per_token", token_ops},
                              {"compute_ops_per_s", ops}};
          if (roof) {
            j["weight_read_bytes_per_s"] = rate;
            j["read_bandwidth_bytes_per_s"] = bw;  // median of the per-repetition probes
            j["bandwidth_fraction"] = bw_fraction;  // median over repetitions of rate / adjacent probe
            j["samples_read_bandwidth_bytes_per_s"] = probes;  // the probe before each repetition
            j["compute_peak"] = peak_name;
            j["compute_peak_ops_per_s"] = peak_ops;  // median of the per-repetition probes
            j["compute_fraction"] = compute_fraction;  // median over repetitions of rate / adjacent probe
            j["samples_compute_peak_ops_per_s"] = peak_probes;
            // Prompt batches of quantized models run on AMX where it is on:
            // their share of that (measured once, before the tests) too.
            if (ran_on_amx(r)) {
              j["amx_int8_peak_ops_per_s"] = roof->amx_int8.median;
              j["amx_int8_fraction"] = ops / roof->amx_int8.median;
            }
          }
          print_line(j);
          return;
        }
        const std::string ts = fixed(r.tokens_per_s, 2) + " ± " + fixed(r.stddev, 2);
        // "±" is two bytes but one column: pad by one more.
        std::printf("| %-*s | %10s | %10s | %7d | %10s | %21s |", name_w, name.c_str(), human_bytes(summary.tensor_bytes).c_str(),
                    human_count(summary.n_params).c_str(), r.threads, r.test.c_str(), ts.c_str());
        if (roof) {
          std::printf(" %12s | %5s%% | %9s | %6s%% |", fixed(rate / 1e9, 2).c_str(), fixed(100.0 * bw_fraction, 1).c_str(),
                      fixed(ops / 1e9, 1).c_str(), fixed(100.0 * compute_fraction, 1).c_str());
        }
        std::printf("\n");
        if (ran_on_amx(r)) {
          // The kernels multiply bf16 tiles, whose peak is half the int8 one.
          std::printf("  (%s: prompt matmuls ran on AMX bf16 tiles, %s%% of the AMX int8 peak, %s%% of half of it)\n",
                      r.test.c_str(), fixed(100.0 * ops / roof->amx_int8.median, 1).c_str(),
                      fixed(200.0 * ops / roof->amx_int8.median, 1).c_str());
        }
        std::fflush(stdout);
      });
      return 0;
    };
  });
}

}  // namespace nomoat::cli
