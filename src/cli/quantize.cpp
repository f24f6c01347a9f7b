// `nomoat quantize IN.gguf OUT.gguf TYPE`: a GGUF model re-encoded with a
// quantization preset (model/quantize.h does the work; this file is options,
// the progress bar and the summary).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include "base/error.h"
#include "base/threads.h"
#include "cli/commands.h"
#include "formats/gguf.h"
#include "formats/gguf_summary.h"
#include "model/quantize.h"

namespace nomoat::cli {
namespace {

using Clock = std::chrono::steady_clock;

// On a terminal: one bar redrawn in place at most 10 times a second.
// Otherwise (a log, a pipe): a plain line every few seconds, and the last.
class ProgressPrinter {
 public:
  explicit ProgressPrinter(bool terminal) : terminal_(terminal) {}

  // Ends a half-drawn bar so that an error message starts on its own line.
  void interrupt() {
    if (terminal_ && printed_ && !finished_) std::fprintf(stderr, "\n");
  }

  void operator()(const QuantizeProgress& p) {
    const auto now = Clock::now();
    const bool last = p.done_bytes >= p.total_bytes && p.index + 1 == p.n_tensors;
    if (last && finished_) return;
    const auto since = now - last_print_;
    const bool due = !printed_ || last ||
                     (terminal_ ? p.index != index_ || since >= std::chrono::milliseconds(100) : since >= std::chrono::seconds(3));
    if (!due) return;
    const double fraction = p.total_bytes > 0 ? static_cast<double>(p.done_bytes) / static_cast<double>(p.total_bytes) : 1.0;
    const int percent = static_cast<int>(100.0 * fraction);
    std::string name = p.tensor->name;
    if (name.size() > 40) name = name.substr(0, 37) + "...";
    char what[160];
    std::snprintf(what, sizeof(what), "[%*zu/%zu] %s %s -> %s", width(p.n_tensors), p.index + 1, p.n_tensors, name.c_str(),
                  dtype_traits(p.tensor->from).name, dtype_traits(p.tensor->to).name);
    if (terminal_) {
      constexpr int kBar = 30;
      const int filled = static_cast<int>(fraction * kBar);
      std::string bar(static_cast<size_t>(filled), '#');
      bar.resize(kBar, '.');
      std::fprintf(stderr, "\r[%s] %3d%% %s\x1b[K%s", bar.c_str(), percent, what, last ? "\n" : "");
    } else {
      std::fprintf(stderr, "quantize: %3d%% %s\n", percent, what);
    }
    std::fflush(stderr);
    printed_ = true;
    finished_ = last;
    index_ = p.index;
    last_print_ = now;
  }

 private:
  static int width(size_t n) { return static_cast<int>(std::to_string(n).size()); }

  bool terminal_;
  bool printed_ = false;
  bool finished_ = false;
  size_t index_ = 0;
  Clock::time_point last_print_{};
};

void print_summary(const std::string& in_path, const std::string& out_path, const QuantizeResult& r, int threads) {
  const QuantizePlan& plan = r.plan;
  std::printf("quantized %s -> %s as %s%s in %.2f s on %d threads\n", in_path.c_str(), out_path.c_str(), plan.mix.name.c_str(),
              plan.mix.mixed ? "" : " (every matrix)", r.seconds, threads);
  std::printf("  input:  %10s, %5.2f bits per weight\n", human_bytes(r.in_file_size).c_str(), plan.from_bits_per_weight());
  std::printf("  output: %10s, %5.2f bits per weight (%lld parameters)\n", human_bytes(r.out_file_size).c_str(),
              plan.to_bits_per_weight(), static_cast<long long>(plan.n_elements));
  struct Row {
    int64_t tensors = 0, elements = 0;
    int64_t vectors = 0, routers = 0, others = 0;  // kept as they are, by why
    uint64_t bytes = 0;
  };
  std::map<std::string, Row> rows;
  for (const QuantizeTensor& t : plan.tensors) {
    Row& row = rows[dtype_traits(t.to).name];
    row.tensors += 1;
    switch (t.kept_as) {
      case KeptTensor::kNo: break;
      case KeptTensor::kVector:
      case KeptTensor::kNorm: row.vectors += 1; break;
      case KeptTensor::kRouter: row.routers += 1; break;
      case KeptTensor::kNotWeight:
      case KeptTensor::kNotFloat: row.others += 1; break;
    }
    row.elements += t.n_elements;
    row.bytes += t.to_bytes;
  }
  std::printf("  %-6s %8s %10s %12s\n", "type", "tensors", "params", "size");
  for (const auto& [type, row] : rows) {
    std::printf("  %-6s %8lld %10s %12s", type.c_str(), static_cast<long long>(row.tensors), human_count(row.elements).c_str(),
                human_bytes(row.bytes).c_str());
    std::string kept;
    auto add = [&kept](int64_t n, const char* what) {
      if (n > 0) kept += (kept.empty() ? "" : ", ") + std::to_string(n) + " " + what;
    };
    add(row.vectors, "norms/vectors");
    add(row.routers, row.routers == 1 ? "MoE router" : "MoE routers");
    add(row.others, row.others == 1 ? "other tensor" : "other tensors");
    if (!kept.empty()) std::printf("  (%s kept)", kept.c_str());
    std::printf("\n");
  }
}

}  // namespace

void add_quantize(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("quantize", "Re-encode a GGUF model with a quantization preset (llama.cpp's per-tensor mixes)");
  struct Options {
    std::string in, out;
    QuantizeOptions q;
    bool quiet = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("input", o->in, "GGUF model to quantize (F32/F16/BF16; quantized needs --allow-requantize)")->required();
  cmd->add_option("output", o->out, "GGUF file to write")->required();
  cmd->add_option("type", o->q.type, "Preset or single type: " + quant_mix_names())->required();
  cmd->add_option("-t,--threads", o->q.threads, "Threads (default: all cores)");
  cmd->add_flag("--pure", o->q.pure, "Every matrix the preset's base type (no per-tensor mix)");
  cmd->add_flag("--allow-requantize", o->q.allow_requantize, "Re-encode tensors that are already quantized (quality suffers)");
  cmd->add_option("--output-type", o->q.output_type, "Type of the output matrix (token_embd when tied)");
  cmd->add_option("--embedding-type", o->q.embedding_type, "Type of token_embd");
  cmd->add_flag("-q,--quiet", o->quiet, "No progress output");
  cmd->callback([o, &action] {
    action = [o] {
      const int threads = o->q.threads > 0 ? o->q.threads : default_thread_count();
      const GgufFile in = GgufFile::open(o->in);
      const QuantizePlan plan = plan_quantize(in, o->q);
      if (plan.n_requantized > 0) {
        std::fprintf(stderr, "quantize: warning: %lld tensors are already quantized and are quantized again; quality suffers "
                     "(quantize from the F16/BF16/F32 model when you can)\n", static_cast<long long>(plan.n_requantized));
      }
      ProgressPrinter printer(isatty(fileno(stderr)) != 0);
      std::function<void(const QuantizeProgress&)> progress;
      if (!o->quiet) progress = [&printer](const QuantizeProgress& p) { printer(p); };
      QuantizeResult r;
      try {
        r = write_quantized(in, plan, o->out, threads, progress);
      } catch (...) {
        printer.interrupt();
        throw;
      }
      print_summary(o->in, o->out, r, threads);
      return 0;
    };
  });
}

}  // namespace nomoat::cli
