// `nomoat convert HF_DIR -o OUT.gguf`: a Hugging Face model folder to GGUF,
// with no Python (model/hf_convert.h).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "base/error.h"
#include "cli/commands.h"
#include "formats/gguf_summary.h"
#include "model/hf_arch.h"
#include "model/hf_convert.h"
#include "model/quant_mix.h"

namespace nomoat::cli {

void add_convert(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("convert", "Convert a Hugging Face model folder (config.json, safetensors, tokenizer.json) to GGUF");
  struct Options {
    std::string dir, out, type;
    int threads = 0;
    bool quiet = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("folder", o->dir, "Hugging Face model folder")->required();
  cmd->add_option("-o,--output", o->out, "Output GGUF file")->required();
  cmd->add_option("--type", o->type,
                  "Weight preset or type (default: 16-bit weights as they are, F32 as F16): " + quant_mix_names());
  cmd->add_option("-t,--threads", o->threads, "Threads (default: all cores)");
  cmd->add_flag("-q,--quiet", o->quiet, "No progress output");
  cmd->footer("Architectures: " + hf_architecture_names());
  cmd->callback([o, &action] {
    action = [o] {
      const auto start = std::chrono::steady_clock::now();
      HfConvertOptions options;
      options.type = o->type;
      options.threads = o->threads;
      options.note = [o](const std::string& line) {
        if (!o->quiet) std::fprintf(stderr, "convert: note: %s\n", line.c_str());
      };
      // A terminal gets one line rewritten per tensor; a log a line per tenth.
      const bool tty = isatty(STDERR_FILENO) != 0;
      bool progressed = false;
      int last_tenth = -1;
      options.progress = [&](size_t done, size_t total, uint64_t bytes, uint64_t total_bytes) {
        if (o->quiet) return;
        const int tenth = total_bytes == 0 ? 10 : static_cast<int>(10 * bytes / total_bytes);
        if (!tty && tenth == last_tenth && done != total) return;
        last_tenth = tenth;
        std::fprintf(stderr, "%sconvert: %zu/%zu tensors, %s of %s%s", tty ? "\r" : "", done, total, human_bytes(bytes).c_str(),
                     human_bytes(total_bytes).c_str(), tty ? "   " : "\n");
        progressed = tty;
      };
      const HfConvertResult r = convert_hf_folder(o->dir, o->out, options);
      if (progressed) std::fprintf(stderr, "\n");
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::printf("converted %s (%s -> %s, %s): %zu tensors, %s in %.1f s -> %s\n", o->dir.c_str(), r.hf_arch.c_str(),
                  r.gguf_arch.c_str(), r.mix.c_str(), r.n_tensors, human_bytes(r.bytes).c_str(), secs, o->out.c_str());
      return 0;
    };
  });
}

}  // namespace nomoat::cli
