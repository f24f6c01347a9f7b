// `nomoat bench`: prompt-processing and generation throughput measured like
// llama.cpp's llama-bench, and a small "roofline" of this machine (read
// bandwidth; int8, bf16 and fp32 SIMD peaks) to put the numbers in context.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "kernels/peak.h"
#include "model/model.h"
#include "tokenizer/vocab.h"

namespace nomoat {

struct BenchOptions {
  int64_t n_prompt = 512;  // "pp<P>": one pass over P tokens (0: skip)
  int64_t n_gen = 128;     // "tg<N>": N single-token decode steps (0: skip)
  int64_t n_batch = 512;   // prompt tokens per forward pass
  int threads = 1;
  int reps = 5;            // measured repetitions, after one warm-up
  bool warmup = true;
  uint64_t seed = 1234;    // for the token ids fed in
  // Called right before each measured repetition (not the warm-up), e.g. to
  // measure memory bandwidth next to every repetition; its time is not
  // counted.
  std::function<void()> before_rep;
  void validate() const;   // throws Error naming the bad option
};

struct BenchResult {
  std::string test;        // "pp512", "tg128"
  int64_t n_prompt = 0, n_gen = 0, n_batch = 0;
  int threads = 0;
  int reps = 0;
  int64_t n_passes = 0;    // forward passes per repetition
  std::vector<double> samples_s;   // seconds per repetition
  std::vector<double> samples_ts;  // tokens per second per repetition
  double tokens_per_s = 0;         // mean of samples_ts
  double stddev = 0;               // sample standard deviation of samples_ts
};

struct MeanStddev {
  double mean = 0, stddev = 0;
};
// Mean and sample (n - 1) standard deviation; stddev 0 for fewer than 2 values.
MeanStddev mean_stddev(const std::vector<double>& v);
double median(std::vector<double> v);

// A fixed pseudo-random sequence of valid token ids in [0, n_vocab).
std::vector<TokenId> bench_tokens(int64_t n, int64_t n_vocab, uint64_t seed);

// One repetition each, from an empty cache; returns the seconds taken.
double time_prompt(const Model& model, const std::vector<TokenId>& tokens, int64_t n_batch, int threads);
double time_generation(const Model& model, const std::vector<TokenId>& tokens, int threads);

// The pp test, then the tg test (each skipped when its size is 0).
// `on_result` (optional) is called as each test finishes.
std::vector<BenchResult> run_bench(const Model& model, const BenchOptions& options,
                                   const std::function<void(const BenchResult&)>& on_result = nullptr);

// Weight bytes one decode step reads: every tensor except token_embd, plus
// one embedding row (token_embd is only gathered from, unless it is also the
// output matrix, in which case all of it is read). Mixture-of-experts expert
// tensors count n_expert_used / n_expert of their bytes: one token reads
// only the experts it is routed to.
uint64_t weight_bytes_per_token(const Model& model);

// Bytes of weights a test streams per second: weight_bytes_per_token times
// forward passes per second (tg: one pass per token; pp: one per batch).
double weight_read_rate(const BenchResult& r, uint64_t weight_bytes);

// Matmul work of one token: 2 ops (multiply + add) per parameter outside
// token_embd, experts scaled like weight_bytes_per_token. Attention scores
// (which grow with the context) are not counted.
double ops_per_token(const Model& model);

// Whether most weight elements outside token_embd are block-quantized
// (Q8_0, Q4_K, ...): such a model's prompt processing runs int8 dot
// products and is compared with the int8 peak; F32/F16/BF16 models with fp32.
bool weights_mostly_quantized(const Model& model);

// Ops per second a test did: ops_per_token times tokens per second.
double compute_rate(const BenchResult& r, double ops_per_token);

// --- roofline -------------------------------------------------------------

struct RateResult {
  double best = 0, median = 0;  // bytes/s
  std::vector<double> samples;
  int threads = 0, reps = 0;
  uint64_t size = 0;            // buffer bytes
};

// Multi-threaded streaming sum over a `bytes` buffer (first touched by the
// same threads), `reps` timed passes after one warm-up pass.
RateResult measure_read_bandwidth(uint64_t bytes, int threads, int reps);

// The machine's numbers `bench --roofline` prints: read bandwidth and the
// three compute peaks (kernels/peak.h), measured one after the other.
struct Roofline {
  RateResult bandwidth;
  kernels::PeakResult int8, bf16, fp32;
  kernels::PeakResult amx_int8;  // available only where the prompt kernels use AMX
};
Roofline measure_roofline(uint64_t bandwidth_bytes, int threads, int reps, double peak_seconds);

}  // namespace nomoat
