#include "kernels/ops.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "base/error.h"
#include "base/thread_pool.h"
#include "kernels/fast_matmul.h"
#include "kernels/packed_matmul.h"

namespace nomoat::kernels {

void dequantize_row(const MatrixView& w, int64_t r, float* out) {
  dtype_traits(w.type).dequantize(w.row(r), out, w.cols);
}

void matmul(const MatrixView& w, const float* x, int64_t n_vectors, float* y, int threads) {
  const Isa isa = active_isa();
  if (has_packed_matmul(isa, w) || amx_takes(isa, w, n_vectors)) {
    matmul_packed(isa, w, x, n_vectors, y, threads);
  } else if (has_fast_matmul(isa, w)) {
    matmul_fast(isa, w, x, n_vectors, y, threads);
  } else {
    matmul_reference(w, x, n_vectors, y, threads);
  }
}

void matmul_shared_input(std::span<const MatrixView* const> ws, const float* x, int64_t n_vectors,
                         std::span<float* const> ys, int threads) {
  if (ws.size() != ys.size()) fail("matmul_shared_input: ", ws.size(), " matrices but ", ys.size(), " outputs");
  const Isa isa = active_isa();
  bool packed = true, amx = true;  // every matrix packed, or every one on AMX
  for (const MatrixView* w : ws) {
    if (w->cols != ws[0]->cols) fail("matmul_shared_input: widths ", ws[0]->cols, " and ", w->cols, " differ");
    packed = packed && has_packed_matmul(isa, *w);
    amx = amx && amx_takes(isa, *w, n_vectors);
  }
  if (packed || amx) {
    matmul_packed_shared(isa, ws.data(), ws.size(), x, n_vectors, ys.data(), threads);
    return;
  }
  for (size_t i = 0; i < ws.size(); ++i) matmul(*ws[i], x, n_vectors, ys[i], threads);
}

void matmul_reference(const MatrixView& w, const float* x, int64_t n_vectors, float* y, int threads) {
  const auto& traits = dtype_traits(w.type);
  auto rows_range = [&](int64_t r0, int64_t r1) {
    std::vector<float> row(static_cast<size_t>(w.cols));
    for (int64_t r = r0; r < r1; ++r) {
      // Reference: decode the row once, then plain dot products.
      traits.dequantize(w.row(r), row.data(), w.cols);
      for (int64_t t = 0; t < n_vectors; ++t) {
        const float* xt = x + t * w.cols;
        double sum = 0.0;
        for (int64_t c = 0; c < w.cols; ++c) sum += static_cast<double>(row[static_cast<size_t>(c)]) * xt[c];
        y[t * w.rows + r] = static_cast<float>(sum);
      }
    }
  };
  // Small matrices are not worth the threads.
  ThreadPool& pool = ThreadPool::global();
  const int n_threads = std::min(threads, pool.size());
  if (n_threads <= 1 || w.rows * w.cols * n_vectors < (1 << 18)) {
    rows_range(0, w.rows);
    return;
  }
  // The persistent pool (no thread start per call); 4 chunks per thread
  // so dynamic claiming evens out uneven threads.
  const int64_t n_tasks = std::min<int64_t>(w.rows, 4 * n_threads);
  pool.run(
      n_tasks, [&](int64_t task) { rows_range(w.rows * task / n_tasks, w.rows * (task + 1) / n_tasks); }, n_threads);
}

void rms_norm(const float* x, const float* weight, int64_t n, float eps, float* out) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
  const float scale = static_cast<float>(1.0 / std::sqrt(sum / static_cast<double>(n) + eps));
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] * scale * (weight ? weight[i] : 1.0f);
}

void layer_norm(const float* x, const float* weight, const float* bias, int64_t n, float eps, float* out) {
  double mean = 0.0;
  for (int64_t i = 0; i < n; ++i) mean += x[i];
  mean /= static_cast<double>(n);
  double var = 0.0;
  for (int64_t i = 0; i < n; ++i) var += (x[i] - mean) * (x[i] - mean);
  var /= static_cast<double>(n);
  const double scale = 1.0 / std::sqrt(var + eps);
  for (int64_t i = 0; i < n; ++i) {
    float v = static_cast<float>((x[i] - mean) * scale);
    if (weight) v *= weight[i];
    if (bias) v += bias[i];
    out[i] = v;
  }
}

void softmax(float* x, int64_t n) {
  float max = x[0];
  for (int64_t i = 1; i < n; ++i) max = std::max(max, x[i]);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

float silu(float x) { return x / (1.0f + std::exp(-x)); }

float gelu_tanh(float x) {
  constexpr float kSqrt2OverPi = 0.7978845608028654f;
  return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * (x + 0.044715f * x * x * x)));
}

void rope_cos_sin(int64_t half, int64_t pos, const double* freq, float mscale, float* cos, float* sin) {
  for (int64_t i = 0; i < half; ++i) {
    const double angle = static_cast<double>(pos) * freq[i];
    cos[i] = static_cast<float>(std::cos(angle)) * mscale;
    sin[i] = static_cast<float>(std::sin(angle)) * mscale;
  }
}

void rope_apply(float* x, int64_t rope_dim, const float* cos, const float* sin, bool neox) {
  const int64_t half = rope_dim / 2;
  for (int64_t i = 0; i < half; ++i) {
    const int64_t a = neox ? i : 2 * i;
    const int64_t b = neox ? i + half : 2 * i + 1;
    const float x0 = x[a];
    const float x1 = x[b];
    x[a] = x0 * cos[i] - x1 * sin[i];
    x[b] = x0 * sin[i] + x1 * cos[i];
  }
}

void rope(float* x, int64_t rope_dim, int64_t pos, const double* freq, float mscale, bool neox) {
  const int64_t half = rope_dim / 2;
  std::vector<float> c(static_cast<size_t>(half)), s(static_cast<size_t>(half));
  rope_cos_sin(half, pos, freq, mscale, c.data(), s.data());
  rope_apply(x, rope_dim, c.data(), s.data(), neox);
}

}  // namespace nomoat::kernels
