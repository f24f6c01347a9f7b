// Dispatcher of the fast matmul kernels (design: fast_matmul.h): ISA choice,
// activation quantization and the split of rows over the thread pool. Built
// with the project's baseline flags; the SIMD code is in the _avx2/_avx512
// translation units.
#include "kernels/fast_matmul.h"
#include "kernels/task_split.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "base/aligned.h"
#include "base/thread_pool.h"
#include "kernels/ops.h"
#include "tensor/blocks.h"
#include "tensor/view.h"

namespace nomoat::kernels {

namespace {

MatmulKernel kernel_for(Isa isa, DType type) {
  const IsaKernels* k = isa_kernels(isa);
  if (!k || !isa_supported(isa)) return nullptr;
  switch (type) {
    case DType::Q8_0: return k->q8_0;
    case DType::Q4_0: return k->q4_0;
    case DType::Q4_1: return k->q4_1;
    case DType::Q5_0: return k->q5_0;
    case DType::Q5_1: return k->q5_1;
    case DType::Q2_K: return k->q2_k;
    case DType::Q3_K: return k->q3_k;
    case DType::Q4_K: return k->q4_k;
    case DType::Q5_K: return k->q5_k;
    case DType::Q6_K: return k->q6_k;
    case DType::F16: return k->f16;
    case DType::BF16: return k->bf16;
    case DType::F32: return k->f32;
    default: return nullptr;
  }
}

bool uses_quantized_activations(DType type) {
  switch (type) {
    case DType::Q8_0: case DType::Q4_0: case DType::Q4_1: case DType::Q5_0: case DType::Q5_1:
    case DType::Q2_K: case DType::Q3_K: case DType::Q4_K: case DType::Q5_K: case DType::Q6_K: return true;
    default: return false;
  }
}

// Types whose kernels read QuantizedActivations::half_sums.
bool uses_half_sums(DType type) {
  return type == DType::Q4_1 || type == DType::Q5_1 || type == DType::Q2_K || type == DType::Q3_K;
}

// Per-thread scratch, reused across calls so a matmul allocates nothing
// once warm.
struct ActivationScratch {
  std::vector<float> scales;
  std::vector<int8_t> qs;
  std::vector<int32_t> q4_bias;
  std::vector<float> half_sums;
};

// Q8_0-style quantization of n_vectors x cols floats (cols % 32 == 0),
// vectorized by the ISA when it can (scalar otherwise): it reads only cols
// floats per vector, but in a cache-resident matvec its scalar form cost
// about a quarter of the time.
QuantizedActivations quantize_activations(Isa isa, const float* x, int64_t n_vectors, int64_t cols,
                                          ActivationScratch& s) {
  const int64_t nb = cols / kQK;
  s.scales.resize(static_cast<size_t>(n_vectors * nb));
  s.qs.resize(static_cast<size_t>(n_vectors * cols));
  s.q4_bias.resize(static_cast<size_t>(n_vectors * nb));
  const IsaKernels* k = isa_kernels(isa);
  const QuantizeActivationsFn fn =
      k && k->quantize_activations ? k->quantize_activations : &quantize_activations_scalar;
  fn(x, n_vectors * nb, s.scales.data(), s.qs.data(), s.q4_bias.data());
  return QuantizedActivations{s.scales.data(), s.qs.data(), s.q4_bias.data(), nb};
}

// scale * sum(q) per 16 values (see QuantizedActivations::half_sums): n_vectors
// * cols int8 adds, negligible beside the rows * cols of the matmul.
void add_half_sums(QuantizedActivations& acts, int64_t n_vectors, ActivationScratch& s) {
  const int64_t n_halves = 2 * n_vectors * acts.n_blocks;
  s.half_sums.resize(static_cast<size_t>(n_halves));
  for (int64_t h = 0; h < n_halves; ++h) {
    const int8_t* q = acts.qs + h * (kQK / 2);
    int32_t sum = 0;
    for (int i = 0; i < kQK / 2; ++i) sum += q[i];
    s.half_sums[static_cast<size_t>(h)] = acts.scales[h / 2] * static_cast<float>(sum);
  }
  acts.half_sums = s.half_sums.data();
}

}  // namespace

namespace {

// amax / 127 over n values, and its inverse (0 for an all-zero run).
float activation_scale(const float* x, int64_t n, float* inverse) {
  float amax = 0.0f;
  for (int64_t i = 0; i < n; ++i) amax = std::max(amax, std::fabs(x[i]));
  const float d = amax / 127.0f;
  *inverse = d > 0.0f ? 1.0f / d : 0.0f;
  return d;
}

// One 32-value block times `inverse`, rounded to nearest even and clamped;
// returns the sum of the bytes.
int32_t quantize_block(const float* x, float inverse, int8_t* q) {
  int32_t sum = 0;
  for (int i = 0; i < kQK; ++i) {
    const long v = std::lrint(x[i] * inverse);
    q[i] = static_cast<int8_t>(std::clamp<long>(v, -127, 127));
    sum += q[i];
  }
  return sum;
}

}  // namespace

void quantize_superblocks_scalar(const float* x, int64_t n_superblocks, float* scales, int8_t* qs, int32_t* block_sums) {
  for (int64_t sb = 0; sb < n_superblocks; ++sb) {
    const float* xs = x + sb * 8 * kQK;
    float id = 0.0f;
    scales[sb] = activation_scale(xs, 8 * kQK, &id);
    for (int64_t b = 0; b < 8; ++b) block_sums[sb * 8 + b] = quantize_block(xs + b * kQK, id, qs + (sb * 8 + b) * kQK);
  }
}

void quantize_activations_scalar(const float* x, int64_t n_blocks, float* scales, int8_t* qs, int32_t* q4_bias) {
  for (int64_t b = 0; b < n_blocks; ++b) {
    float id = 0.0f;
    scales[b] = activation_scale(x + b * kQK, kQK, &id);
    q4_bias[b] = -8 * quantize_block(x + b * kQK, id, qs + b * kQK);
  }
}

namespace {

Isa isa_from_environment() {
  const Isa best = detect_isa();
  const char* env = std::getenv("NOMOAT_ISA");
  if (!env || !*env) return best;
  Isa wanted;
  if (!parse_isa(env, &wanted)) {
    std::fprintf(stderr, "nomoat: unknown NOMOAT_ISA=%s (scalar, avx2, avx512, neon); using %s\n", env, isa_name(best));
    return best;
  }
  if (!isa_supported(wanted)) {
    std::fprintf(stderr, "nomoat: NOMOAT_ISA=%s is not supported by this CPU; using %s\n", env, isa_name(best));
    return best;
  }
  return wanted;
}

}  // namespace

bool neon_has_dotprod() {
#if defined(__aarch64__) && defined(__linux__)
  // HWCAP_ASIMDDP (bit 20) from <asm/hwcap.h>, spelled out for older headers.
  static const bool has = (getauxval(AT_HWCAP) & (1ul << 20)) != 0;
  return has;
#else
  return false;
#endif
}

int64_t units_per_task(int64_t units, size_t unit_bytes, int n_threads) {
  constexpr size_t kTaskWeightBytes = 256 * 1024;
  int64_t n = std::max<int64_t>(1, static_cast<int64_t>(kTaskWeightBytes / std::max<size_t>(1, unit_bytes)));
  if (n_threads > 1) n = std::min(n, std::max<int64_t>(1, units / (4 * n_threads)));
  return n;
}

std::vector<int64_t> guided_task_bounds(int64_t units, size_t unit_bytes, int n_threads) {
  const size_t bytes = std::max<size_t>(1, unit_bytes);
  const int64_t max_units = units_per_task(units, bytes, n_threads);  // <= 256 KiB, >= 4 tasks per thread
  const int64_t min_units = std::min(max_units, std::max<int64_t>(1, static_cast<int64_t>((64 * 1024) / bytes)));
  std::vector<int64_t> bounds{0};
  for (int64_t pos = 0; pos < units;) {
    const int64_t remaining = units - pos;
    int64_t n = n_threads > 1 ? std::clamp<int64_t>(remaining / (2 * n_threads), min_units, max_units) : max_units;
    pos += std::min(n, remaining);
    bounds.push_back(pos);
  }
  return bounds;
}

const IsaKernels* isa_kernels(Isa isa) {
  switch (isa) {
    case Isa::Avx2: return &kAvx2Kernels;
    case Isa::Avx512: return &kAvx512Kernels;
    case Isa::Neon: return neon_has_dotprod() ? &kNeonDotKernels : &kNeonKernels;
    case Isa::Scalar: return nullptr;
  }
  return nullptr;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return "scalar";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
    case Isa::Neon: return "neon";
  }
  return "?";
}

bool parse_isa(const char* name, Isa* out) {
  for (Isa isa : kAllIsas) {
    if (std::strcmp(name, isa_name(isa)) == 0) {
      *out = isa;
      return true;
    }
  }
  return false;
}

#if defined(__x86_64__)
// F16C is CPUID.1:ECX bit 29; clang before 16 has no "f16c" for __builtin_cpu_supports.
// Asked once: isa_supported runs on every matmul, and under a hypervisor
// CPUID traps (it was 4 % of decode time on the dev VM).
static bool cpu_has_f16c() {
  static const bool has = [] {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    return __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & (1u << 29)) != 0;
  }();
  return has;
}
#endif

bool isa_supported(Isa isa) {
#if defined(__x86_64__)
  switch (isa) {
    case Isa::Scalar: return true;
    case Isa::Avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_has_f16c();
    case Isa::Avx512:
      return isa_supported(Isa::Avx2) && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
    case Isa::Neon: return false;
  }
  return false;
#elif defined(__aarch64__)
  return isa == Isa::Scalar || isa == Isa::Neon;
#else
  return isa == Isa::Scalar;
#endif
}

Isa detect_isa() {
  if (isa_supported(Isa::Neon)) return Isa::Neon;
  if (isa_supported(Isa::Avx512)) return Isa::Avx512;
  if (isa_supported(Isa::Avx2)) return Isa::Avx2;
  return Isa::Scalar;
}

Isa active_isa() {
  static const Isa isa = isa_from_environment();
  return isa;
}

int decode_prefetch_bytes() {
  static const int bytes = [] {
    if (const char* env = std::getenv("NOMOAT_PREFETCH"); env && *env) return std::max(0, std::atoi(env));
#if defined(__x86_64__)
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid(0, &eax, &ebx, &ecx, &edx) && ebx == 0x756e6547 && edx == 0x49656e69 && ecx == 0x6c65746e) {
      return 3072;  // "GenuineIntel"
    }
#endif
    return 0;
  }();
  return bytes;
}

bool has_fast_matmul(Isa isa, const MatrixView& w) { return kernel_for(isa, w.type) != nullptr; }

void matmul_fast(Isa isa, const MatrixView& w, const float* x, int64_t n_vectors, float* y, int threads) {
  const MatmulKernel kernel = kernel_for(isa, w.type);
  if (!kernel) {
    matmul_reference(w, x, n_vectors, y, threads);
    return;
  }
  if (w.rows <= 0 || n_vectors <= 0) return;
  MatmulTask base;
  base.w = w.data;
  base.row_bytes = w.row_bytes;
  base.cols = w.cols;
  base.rows = w.rows;
  base.n_vectors = n_vectors;
  base.x = x;
  base.y = y;
  if (n_vectors == 1 && isa != Isa::Scalar) base.prefetch = decode_prefetch_bytes();
  if (isa == Isa::Avx512 && n_vectors > 1 && !uses_quantized_activations(w.type)) {
    // Once per matmul, not per task: every task reads all of x.
    thread_local std::vector<double> x_double;
    const int64_t stride = (w.cols + 15) / 16 * 16;
    double* dst = aligned_scratch(x_double, static_cast<size_t>(n_vectors * stride));
    for (int64_t t = 0; t < n_vectors; ++t) {
      for (int64_t c = 0; c < w.cols; ++c) dst[t * stride + c] = x[t * w.cols + c];
      for (int64_t c = w.cols; c < stride; ++c) dst[t * stride + c] = 0.0;
    }
    base.x_double = dst;
    base.x_double_stride = stride;
  }
  if (uses_quantized_activations(w.type)) {
    thread_local ActivationScratch scratch;
    base.acts = quantize_activations(isa, x, n_vectors, w.cols, scratch);
    if (uses_half_sums(w.type)) add_half_sums(base.acts, n_vectors, scratch);
  }

  ThreadPool& pool = ThreadPool::global();
  const int n_threads = std::min(threads, pool.size());
  if (n_threads <= 1 || w.rows * w.cols * n_vectors < kMinParallelWork) {
    base.row_begin = 0;
    base.row_end = w.rows;
    kernel(base);
    return;
  }
  const int64_t rows_per_task = units_per_task(w.rows, w.row_bytes, n_threads);
  const int64_t n_tasks = (w.rows + rows_per_task - 1) / rows_per_task;
  pool.run(
      n_tasks,
      [&](int64_t task) {
        MatmulTask t = base;
        t.row_begin = task * rows_per_task;
        t.row_end = std::min(w.rows, t.row_begin + rows_per_task);
        kernel(t);
      },
      n_threads);
}

}  // namespace nomoat::kernels
