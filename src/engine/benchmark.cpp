#include "engine/benchmark.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>

#include "base/error.h"
#include "base/huge_pages.h"
#include "base/threads.h"
#include "model/forward.h"
#include "model/kv_cache.h"
#include "tensor/dtype.h"

namespace nomoat {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Consumes a value so the optimizer cannot drop the loop computing it.
volatile double g_sink;
template <typename T>
void keep(T v) {
  g_sink = static_cast<double>(v);
}

BenchResult finish(BenchResult r) {
  const MeanStddev ms = mean_stddev(r.samples_ts);
  r.tokens_per_s = ms.mean;
  r.stddev = ms.stddev;
  return r;
}

}  // namespace

void BenchOptions::validate() const {
  if (n_prompt < 0) fail("-p must be 0 or more, not ", n_prompt);
  if (n_gen < 0) fail("-n must be 0 or more, not ", n_gen);
  if (n_batch <= 0) fail("-b (batch size) must be positive, not ", n_batch);
  if (threads <= 0) fail("--threads must be positive, not ", threads);
  if (reps <= 0) fail("-r (repetitions) must be positive, not ", reps);
}

MeanStddev mean_stddev(const std::vector<double>& v) {
  MeanStddev r;
  if (v.empty()) return r;
  for (double x : v) r.mean += x;
  r.mean /= static_cast<double>(v.size());
  if (v.size() < 2) return r;
  double ss = 0;
  for (double x : v) ss += (x - r.mean) * (x - r.mean);
  r.stddev = std::sqrt(ss / static_cast<double>(v.size() - 1));
  return r;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::vector<TokenId> bench_tokens(int64_t n, int64_t n_vocab, uint64_t seed) {
  if (n_vocab <= 0) fail("bench: the model has no vocabulary");
  std::vector<TokenId> out(static_cast<size_t>(std::max<int64_t>(n, 0)));
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (auto& t : out) {  // splitmix64
    x += 0x9E3779B97F4A7C15ull;
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    t = static_cast<TokenId>(z % static_cast<uint64_t>(n_vocab));
  }
  return out;
}

// A fresh cache per repetition keeps "from an empty cache" literal; its
// allocation is outside the timed region.
double time_prompt(const Model& model, const std::vector<TokenId>& tokens, int64_t n_batch, int threads) {
  const int64_t n = static_cast<int64_t>(tokens.size());
  KvCache cache(model.spec(), std::max<int64_t>(n, 1), 1);
  std::vector<BatchEntry> batch;
  const auto t0 = Clock::now();
  for (int64_t at = 0; at < n; at += n_batch) {
    const int64_t end = std::min(n, at + n_batch);
    batch.clear();
    for (int64_t i = at; i < end; ++i) batch.push_back({0, i, tokens[static_cast<size_t>(i)], false});
    batch.back().want_logits = true;  // like llama_batch_get_one: the last token's logits
    const auto logits = forward(model, cache, batch, threads);
    keep(logits.empty() ? 0.0f : logits[0]);
  }
  return seconds_since(t0);
}

double time_generation(const Model& model, const std::vector<TokenId>& tokens, int threads) {
  const int64_t n = static_cast<int64_t>(tokens.size());
  KvCache cache(model.spec(), std::max<int64_t>(n, 1), 1);
  const auto t0 = Clock::now();
  for (int64_t i = 0; i < n; ++i) {
    const BatchEntry e{0, i, tokens[static_cast<size_t>(i)], true};
    const auto logits = forward(model, cache, std::span<const BatchEntry>(&e, 1), threads);
    keep(logits.empty() ? 0.0f : logits[0]);
  }
  return seconds_since(t0);
}

std::vector<BenchResult> run_bench(const Model& model, const BenchOptions& o,
                                   const std::function<void(const BenchResult&)>& on_result) {
  o.validate();
  const int64_t n_vocab = model.spec().n_vocab;
  if (std::max(o.n_prompt, o.n_gen) > model.spec().n_ctx_train) {
    // Allowed (the cache is sized to the test), but say so like `run` would.
    std::fprintf(stderr, "bench: note: %lld tokens is beyond the model's training context of %lld\n",
                 static_cast<long long>(std::max(o.n_prompt, o.n_gen)), static_cast<long long>(model.spec().n_ctx_train));
  }
  std::vector<BenchResult> out;
  auto run_test = [&](const std::string& name, int64_t n_prompt, int64_t n_gen, const std::function<double()>& once, int64_t passes) {
    BenchResult r;
    r.test = name;
    r.n_prompt = n_prompt;
    r.n_gen = n_gen;
    r.n_batch = o.n_batch;
    r.threads = o.threads;
    r.reps = o.reps;
    r.n_passes = passes;
    if (o.warmup) once();
    const double tokens = static_cast<double>(n_prompt + n_gen);
    for (int i = 0; i < o.reps; ++i) {
      if (o.before_rep) o.before_rep();
      const double s = once();
      r.samples_s.push_back(s);
      r.samples_ts.push_back(tokens / std::max(s, 1e-12));
    }
    out.push_back(finish(std::move(r)));
    if (on_result) on_result(out.back());
  };
  if (o.n_prompt > 0) {
    const auto tokens = bench_tokens(o.n_prompt, n_vocab, o.seed);
    run_test("pp" + std::to_string(o.n_prompt), o.n_prompt, 0,
             [&] { return time_prompt(model, tokens, o.n_batch, o.threads); }, (o.n_prompt + o.n_batch - 1) / o.n_batch);
  }
  if (o.n_gen > 0) {
    const auto tokens = bench_tokens(o.n_gen, n_vocab, o.seed + 1);
    run_test("tg" + std::to_string(o.n_gen), 0, o.n_gen, [&] { return time_generation(model, tokens, o.threads); }, o.n_gen);
  }
  return out;
}

namespace {

// Share of a tensor one token touches: n_expert_used / n_expert for the
// stacked expert tensors (ffn_*_exps, 3-D), all of it otherwise.
double token_share(const Model& model, const GgufTensorInfo& t) {
  const ModelSpec& spec = model.spec();
  if (spec.n_expert > 0 && t.dims.size() == 3 && t.name.find("_exps.") != std::string::npos) {
    return static_cast<double>(spec.n_expert_used) / static_cast<double>(spec.n_expert);
  }
  return 1.0;
}

}  // namespace

uint64_t weight_bytes_per_token(const Model& model) {
  double total = 0;
  for (const auto& t : model.file().tensors()) {
    if (t.name == "token_embd.weight" && !model.spec().tied_output) {
      total += t.rows() > 0 ? static_cast<double>(t.nbytes / static_cast<uint64_t>(t.rows())) : 0;  // one gathered row
    } else {
      total += static_cast<double>(t.nbytes) * token_share(model, t);
    }
  }
  return static_cast<uint64_t>(std::llround(total));
}

double ops_per_token(const Model& model) {
  double params = 0;
  for (const auto& t : model.file().tensors()) {
    if (t.name == "token_embd.weight") continue;
    params += static_cast<double>(t.n_elements) * token_share(model, t);
  }
  return 2.0 * params;
}

bool weights_mostly_quantized(const Model& model) {
  double quantized = 0, plain = 0;
  for (const auto& t : model.file().tensors()) {
    if (t.name == "token_embd.weight" || t.dims.size() < 2) continue;
    const DTypeTraits* traits = find_dtype(static_cast<uint32_t>(t.type));
    (traits && traits->is_quantized ? quantized : plain) += static_cast<double>(t.n_elements) * token_share(model, t);
  }
  return quantized > plain;
}

double compute_rate(const BenchResult& r, double ops_per_token) { return ops_per_token * r.tokens_per_s; }

double weight_read_rate(const BenchResult& r, uint64_t weight_bytes) {
  const int64_t tokens = r.n_prompt + r.n_gen;
  if (tokens <= 0) return 0;
  const double passes_per_s = r.tokens_per_s * static_cast<double>(r.n_passes) / static_cast<double>(tokens);
  return static_cast<double>(weight_bytes) * passes_per_s;
}

namespace {

// Sum of the 64-bit words of [p, p + n) (n a multiple of 32 * streams),
// read as `streams` equal parts side by side, 256 bytes of each in turn,
// with a software prefetch `prefetch` bytes ahead (0: none) in each part.
uint64_t stream_sum(const uint64_t* p, int64_t n, int streams, int prefetch) {
  uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  const int64_t part = n / streams;
  for (int64_t i = 0; i < part; i += 32) {
    for (int s = 0; s < streams; ++s) {
      const uint64_t* q = p + s * part + i;
      if (prefetch > 0) {
        const char* ahead = reinterpret_cast<const char*>(q) + prefetch;
        __builtin_prefetch(ahead);
        __builtin_prefetch(ahead + 64);
        __builtin_prefetch(ahead + 128);
        __builtin_prefetch(ahead + 192);
      }
      for (int64_t j = 0; j < 32; j += 4) {
        s0 += q[j];
        s1 += q[j + 1];
        s2 += q[j + 2];
        s3 += q[j + 3];
      }
    }
  }
  return s0 + s1 + s2 + s3;
}

}  // namespace

RateResult measure_read_bandwidth(uint64_t bytes, int threads, int reps) {
  if (threads <= 0) fail("--threads must be positive, not ", threads);
  if (reps <= 0) fail("-r (repetitions) must be positive, not ", reps);
  // Whole 256-byte lines per thread.
  const int64_t n = static_cast<int64_t>(std::max<uint64_t>(bytes / 256, 64) * 32);
  const int64_t lines = n / 32;
  // Huge pages, like the repacked weights (model.cpp): on 4 KiB pages this
  // VM read 15-25 % slower. Uninitialized, so each thread first-touches its
  // own pages.
  HugeBuffer buf = allocate_huge_pages(static_cast<size_t>(n) * sizeof(uint64_t), "read-bandwidth probe");
  uint64_t* p = reinterpret_cast<uint64_t*>(buf.get());
  parallel_for(lines, [&](int64_t b, int64_t e) {
    for (int64_t i = b * 32; i < e * 32; ++i) p[i] = static_cast<uint64_t>(i) * 2654435761u;
  }, threads);
  std::atomic<uint64_t> total{0};
  auto pass = [&](int streams, int prefetch) {
    const auto t0 = Clock::now();
    parallel_for(lines, [&](int64_t b, int64_t e) {
      const int64_t whole = (e - b) / streams * streams;  // lines; the rest as one stream
      total.fetch_add(stream_sum(p + b * 32, whole * 32, streams, prefetch), std::memory_order_relaxed);
      total.fetch_add(stream_sum(p + (b + whole) * 32, (e - b - whole) * 32, 1, prefetch), std::memory_order_relaxed);
    }, threads);
    const double s = seconds_since(t0);
    keep(total.load());
    return static_cast<double>(n * sizeof(uint64_t)) / std::max(s, 1e-12);
  };
  // The limit is the best any of these reads: the kernels prefetch too
  // (fast_matmul.h), and without a prefetch this VM's reads stayed 5-15 %
  // below what prefetching ones reached. Four streams per thread (kernels
  // that read several rows side by side do) read up to 10-15 % more than
  // one in some of the Xeon VM's memory regimes, as much in others.
  struct Pattern {
    int streams;
    int prefetch;
  };
  constexpr Pattern kPatterns[] = {{1, 0}, {1, 1024}, {1, 2048}, {4, 0}, {4, 1024}};
  RateResult r;
  r.threads = threads;
  r.reps = reps;
  r.size = static_cast<uint64_t>(n) * sizeof(uint64_t);
  pass(1, 0);  // warm-up
  for (int i = 0; i < reps; ++i) {
    double best = 0;
    for (const Pattern& pattern : kPatterns) best = std::max(best, pass(pattern.streams, pattern.prefetch));
    r.samples.push_back(best);
  }
  r.best = *std::max_element(r.samples.begin(), r.samples.end());
  r.median = median(r.samples);
  return r;
}

Roofline measure_roofline(uint64_t bandwidth_bytes, int threads, int reps, double peak_seconds) {
  Roofline r;
  r.bandwidth = measure_read_bandwidth(bandwidth_bytes, threads, reps);
  r.int8 = kernels::measure_peak(kernels::PeakKind::Int8, threads, reps, peak_seconds);
  r.bf16 = kernels::measure_peak(kernels::PeakKind::Bf16, threads, reps, peak_seconds);
  r.fp32 = kernels::measure_peak(kernels::PeakKind::Fp32, threads, reps, peak_seconds);
  r.amx_int8 = kernels::measure_peak(kernels::PeakKind::AmxInt8, threads, reps, peak_seconds);
  return r;
}

}  // namespace nomoat
