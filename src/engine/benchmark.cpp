#include "engine/benchmark.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>

#include "base/error.h"
#include "base/threads.h"
#include "model/forward.h"
#include "model/kv_cache.h"

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

uint64_t weight_bytes_per_token(const Model& model) {
  uint64_t total = 0;
  for (const auto& t : model.file().tensors()) {
    if (t.name == "token_embd.weight" && !model.spec().tied_output) {
      total += t.rows() > 0 ? t.nbytes / static_cast<uint64_t>(t.rows()) : 0;  // one gathered row
    } else {
      total += t.nbytes;
    }
  }
  return total;
}

double weight_read_rate(const BenchResult& r, uint64_t weight_bytes) {
  const int64_t tokens = r.n_prompt + r.n_gen;
  if (tokens <= 0) return 0;
  const double passes_per_s = r.tokens_per_s * static_cast<double>(r.n_passes) / static_cast<double>(tokens);
  return static_cast<double>(weight_bytes) * passes_per_s;
}

RateResult measure_read_bandwidth(uint64_t bytes, int threads, int reps) {
  if (threads <= 0) fail("--threads must be positive, not ", threads);
  if (reps <= 0) fail("-r (repetitions) must be positive, not ", reps);
  const uint64_t n = std::max<uint64_t>(bytes / sizeof(uint64_t), 1024);
  // Uninitialized allocation, so each thread first-touches its own pages.
  std::unique_ptr<uint64_t[]> buf(new uint64_t[n]);
  uint64_t* p = buf.get();
  const int64_t nn = static_cast<int64_t>(n);
  parallel_for(nn, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) p[i] = static_cast<uint64_t>(i) * 2654435761u;
  }, threads);
  std::atomic<uint64_t> total{0};
  auto pass = [&] {
    const auto t0 = Clock::now();
    parallel_for(nn, [&](int64_t b, int64_t e) {
      uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      int64_t i = b;
      for (; i + 4 <= e; i += 4) {
        s0 += p[i];
        s1 += p[i + 1];
        s2 += p[i + 2];
        s3 += p[i + 3];
      }
      for (; i < e; ++i) s0 += p[i];
      total.fetch_add(s0 + s1 + s2 + s3, std::memory_order_relaxed);
    }, threads);
    const double s = seconds_since(t0);
    keep(total.load());
    return static_cast<double>(n * sizeof(uint64_t)) / std::max(s, 1e-12);
  };
  RateResult r;
  r.threads = threads;
  r.reps = reps;
  r.size = n * sizeof(uint64_t);
  pass();  // warm-up
  for (int i = 0; i < reps; ++i) r.samples.push_back(pass());
  r.best = *std::max_element(r.samples.begin(), r.samples.end());
  r.median = median(r.samples);
  return r;
}

RateResult measure_fp32_plain(int threads, int reps, uint64_t iterations_per_thread) {
  if (threads <= 0) fail("--threads must be positive, not ", threads);
  if (reps <= 0) fail("-r (repetitions) must be positive, not ", reps);
  constexpr int kChains = 32;  // independent a = a * m + c chains per thread
  const uint64_t iters = std::max<uint64_t>(iterations_per_thread, 1);
  auto pass = [&] {
    std::vector<float> results(static_cast<size_t>(threads));
    const auto t0 = Clock::now();
    parallel_for(threads, [&](int64_t b, int64_t e) {
      for (int64_t t = b; t < e; ++t) {
        float acc[kChains];
        for (int k = 0; k < kChains; ++k) acc[k] = 0.5f + 0.01f * static_cast<float>(k + t);
        const float m = 0.99999f, c = 0.00001f;  // converges to 1: no overflow, no denormals
        for (uint64_t i = 0; i < iters; ++i) {
          for (int k = 0; k < kChains; ++k) acc[k] = acc[k] * m + c;
        }
        float s = 0;
        for (int k = 0; k < kChains; ++k) s += acc[k];
        results[static_cast<size_t>(t)] = s;
      }
    }, threads);
    const double s = seconds_since(t0);
    float sum = 0;
    for (float v : results) sum += v;
    keep(sum);
    const double flops = 2.0 * kChains * static_cast<double>(iters) * threads;
    return flops / std::max(s, 1e-12);
  };
  RateResult r;
  r.threads = threads;
  r.reps = reps;
  r.size = static_cast<uint64_t>(2.0 * kChains * static_cast<double>(iters) * threads);
  pass();
  for (int i = 0; i < reps; ++i) r.samples.push_back(pass());
  r.best = *std::max_element(r.samples.begin(), r.samples.end());
  r.median = median(r.samples);
  return r;
}

}  // namespace nomoat
