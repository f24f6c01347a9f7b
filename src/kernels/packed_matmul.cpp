// Dispatcher of the packed-layout kernels (design: packed_matmul.h):
// activation quantization and the per-type corrections, and the split of
// (token block, row groups) tasks over the thread pool.
#include "kernels/packed_matmul.h"
#include "kernels/task_split.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <vector>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "base/aligned.h"
#include "base/error.h"
#include "base/thread_pool.h"
#include "kernels/amx.h"
#include "kernels/dequantize.h"
#include "tensor/blocks.h"
#include "tensor/dtype.h"
#include "tensor/packed.h"
#include "tensor/view.h"

namespace nomoat::kernels {

namespace {

// int8 activations of one token block's k slice stay in L2 (1 MiB per core
// on the dev VM) while each 16-row group runs over them.
constexpr size_t kColumnBlockBytes = 256 * 1024;
// AMX: bf16 activations of one token block's k slice, in L2 (2 MiB per
// core on the dev VM's Xeon) beside the weights. 256 tokens at 2048-value
// slices: a 512-token prompt dequantizes each weight twice (once per
// block); with 176-token blocks (three) GEMMs ran 5 % slower, with one
// 512-token block (2 MiB, out of L2) 1.3x slower.
constexpr size_t kAmxColumnBlockBytes = 1024 * 1024;
// k values per slice (see plan_job).
constexpr int64_t kSliceValues = 2048;

PackedKernel amx_kernel(DType type) {
  switch (type) {
    case DType::Q8_0: return kAmxKernels.q8_0;
    case DType::Q4_0: return kAmxKernels.q4_0;
    case DType::Q4_K: return kAmxKernels.q4_k;
    case DType::Q5_K: return kAmxKernels.q5_k;
    case DType::Q6_K: return kAmxKernels.q6_k;
    default: return nullptr;
  }
}

// A quantized type the AMX kernels can take in its GGUF layout: a
// dequantizer, and blocks of whole 32-value tiles, at most 256 values (the
// kernel dequantizes 256 values of a row at a time).
bool gguf_amx_type(DType type) {
  const DTypeTraits& t = dtype_traits(type);
  return t.is_quantized && t.dequantize != nullptr && t.block_size % kQK == 0 && kQK_K % t.block_size == 0;
}

// The AMX kernel for w: its packed type's, or the GGUF-layout one.
PackedKernel amx_kernel_for(const MatrixView& w) {
  if (w.packed) return amx_kernel(w.type);
  return gguf_amx_type(w.type) ? kAmxKernels.gguf : nullptr;
}

const PackedKernels& vnni_kernels() { return gfni_enabled() ? kAvx512GfniPackedKernels : kAvx512PackedKernels; }

PackedKernel packed_kernel(Isa isa, DType type) {
  if (!isa_uses_packed_weights(isa)) return nullptr;
  const PackedKernels& k = vnni_kernels();
  switch (type) {
    case DType::Q8_0: return k.q8_0;
    case DType::Q4_0: return k.q4_0;
    case DType::Q4_K: return k.q4_k;
    case DType::Q5_K: return k.q5_k;
    case DType::Q6_K: return k.q6_k;
    default: return nullptr;
  }
}

int panel_width(DType type) {
  const PackedKernels& k = vnni_kernels();
  switch (type) {
    case DType::Q8_0: return k.panel_q8_0;
    case DType::Q4_0: return k.panel_q4_0;
    case DType::Q4_K: return k.panel_q4_k;
    case DType::Q5_K: return k.panel_q5_k;
    case DType::Q6_K: return k.panel_q6_k;
    default: return 0;
  }
}

struct PackedScratch {
  std::vector<int8_t> qs;
  std::vector<float> scales;
  std::vector<int32_t> bias;
  std::vector<int32_t> min_sums;
  std::vector<uint16_t> bf16;  // AMX
};

bool superblock_scales(DType type) { return type == DType::Q4_K || type == DType::Q6_K; }

// The activation layout a packed type's VNNI kernel takes: its own, except
// Q5_K, whose kernel is Q4_K's with a fifth bit (same scales, same min term).
DType activation_format(DType type) { return type == DType::Q5_K ? DType::Q4_K : type; }

// Quantizes tokens [t0, t1) (32-value blocks with their own scale for Q8_0
// and Q4_0, like the unpacked kernels; one scale per 256 values for the
// K-quants, see packed_matmul.h) and writes them into their panels, with
// what the type's kernel needs beside them: the zero-point corrections as
// int32 start values, or Q4_K's block sums for the min term.
void fill_panels(Isa isa, DType type, const float* x, int64_t t0, int64_t t1, int64_t k, const PackedActivations& a,
                 PackedScratch& s) {
  const int64_t nb = k / kQK;
  const int64_t panel = a.panel;
  const bool super = superblock_scales(type);
  thread_local std::vector<float> tok_scales;
  thread_local std::vector<int8_t> tok_qs;
  thread_local std::vector<int32_t> tok_sums;
  tok_scales.resize(static_cast<size_t>(nb));
  tok_qs.resize(static_cast<size_t>(k));
  tok_sums.resize(static_cast<size_t>(nb));
  const IsaKernels* ik = isa_kernels(isa);
  const QuantizeActivationsFn quantize =
      ik && ik->quantize_activations ? ik->quantize_activations : &quantize_activations_scalar;
  const QuantizeSuperblocksFn quantize_super =
      ik && ik->quantize_superblocks ? ik->quantize_superblocks : &quantize_superblocks_scalar;
  for (int64_t t = t0; t < t1; ++t) {
    // tok_sums: -8 * sum(a) per block (per-block scales), sum(a) (super-blocks).
    if (super) {
      quantize_super(x + t * k, nb / 8, tok_scales.data(), tok_qs.data(), tok_sums.data());
    } else {
      quantize(x + t * k, nb, tok_scales.data(), tok_qs.data(), tok_sums.data());
    }
    const int64_t tile = t / panel, tt = t % panel;
    for (int64_t sc = 0; sc < a.n_scales; ++sc) {
      s.scales[static_cast<size_t>((tile * a.n_scales + sc) * panel + tt)] = tok_scales[static_cast<size_t>(sc)];
    }
    for (int64_t b = 0; b < nb; ++b) {
      const int64_t pb = tile * nb + b;  // block index within the panels
      int8_t* dst = s.qs.data() + pb * 8 * 4 * panel + 4 * tt;
      for (int q = 0; q < 8; ++q) std::memcpy(dst + q * 4 * panel, tok_qs.data() + kQK * b + 4 * q, 4);
      const int32_t sum = tok_sums[static_cast<size_t>(b)];
      switch (type) {
        case DType::Q8_0: s.bias[static_cast<size_t>(pb * panel + tt)] = 16 * sum; break;  // -128 * sum
        case DType::Q4_0: s.bias[static_cast<size_t>(pb * panel + tt)] = sum; break;       // -8 * sum
        case DType::Q4_K: {
          const int64_t sb = b / 8, g = b % 8;
          const int32_t high = sum >= 0 ? sum / 64 : -((-sum + 63) / 64);  // floor(sum / 64)
          const int32_t low = sum - 64 * high;
          auto* words = reinterpret_cast<int8_t*>(&s.min_sums[static_cast<size_t>(((tile * (nb / 8) + sb) * panel + tt) * 4)]);
          words[g] = static_cast<int8_t>(high);  // words 0-1: byte g
          words[8 + g] = static_cast<int8_t>(low);  // words 2-3
          break;
        }
        case DType::Q6_K:
          for (int h = 0; h < 2; ++h) {
            const int8_t* q = tok_qs.data() + kQK * b + 16 * h;
            int32_t half = 0;
            for (int i = 0; i < 16; ++i) half += q[i];
            s.bias[static_cast<size_t>((2 * pb + h) * panel + tt)] = -32 * half;
          }
          break;
        default: break;
      }
    }
  }
}

PackedActivations prepare_activations(Isa isa, DType type, const float* x, int64_t n, int64_t k, int n_threads,
                                      PackedScratch& s) {
  PackedActivations a;
  a.n_blocks = k / kQK;
  a.n_scales = superblock_scales(type) ? a.n_blocks / 8 : a.n_blocks;
  a.panel = n == 1 ? 1 : panel_width(type);  // the kernels' one-token path
  a.bias_per_block = type == DType::Q6_K ? 2 : 1;
  const int64_t n_tiles = (n + a.panel - 1) / a.panel;
  const size_t blocks = static_cast<size_t>(n_tiles * a.n_blocks * a.panel);
  // Padding tokens of the last panel are never read (a remainder tile only
  // reaches its own tokens).
  s.qs.resize(blocks * kQK);
  s.scales.resize(static_cast<size_t>(n_tiles * a.n_scales * a.panel));
  a.qs = s.qs.data();
  a.scales = s.scales.data();
  if (type == DType::Q4_K) {
    s.min_sums.resize(static_cast<size_t>(n_tiles * a.n_scales * a.panel * 4));
    a.min_sums = s.min_sums.data();
  } else {
    s.bias.resize(blocks * static_cast<size_t>(a.bias_per_block));
    a.bias = s.bias.data();
  }
  if (n_threads <= 1 || n < 4 * a.panel) {
    fill_panels(isa, type, x, 0, n, k, a, s);
  } else {
    const int64_t n_tasks = std::min<int64_t>(n, 4 * n_threads);
    ThreadPool::global().run(
        n_tasks, [&](int64_t task) { fill_panels(isa, type, x, n * task / n_tasks, n * (task + 1) / n_tasks, k, a, s); },
        n_threads);
  }
  return a;
}

// bf16 activations for the AMX kernels: 16-token tiles, the
// padding tokens of the last one zero (AMX multiplies whole tiles; their
// sums are dropped).
PackedActivations prepare_bf16_activations(const float* x, int64_t n, int64_t k, int n_threads, PackedScratch& s) {
  PackedActivations a;
  a.n_blocks = k / kQK;
  a.panel = kAmxTileTokens;
  a.slice_blocks = std::min(a.n_blocks, kSliceValues / kQK);
  const int64_t n_tiles = (n + a.panel - 1) / a.panel;
  a.n_tiles = n_tiles;
  uint16_t* base = aligned_scratch(s.bf16, static_cast<size_t>(n_tiles * a.panel * k));
  a.bf16 = base;
  const auto convert = [&](int64_t t0, int64_t t1) {
    kAmxKernels.activations(x, t0, t1, n, k, n_tiles, a.slice_blocks, base);  // and the padding tokens
  };
  if (n_threads <= 1) {
    convert(0, n);
  } else {
    const int64_t n_tasks = std::min<int64_t>(n, 4 * n_threads);
    ThreadPool::global().run(n_tasks, [&](int64_t i) { convert(n * i / n_tasks, n * (i + 1) / n_tasks); }, n_threads);
  }
  return a;
}

}  // namespace


namespace {
// -1: environment decides; 0: off; 1: on where supported.
std::atomic<int> g_gfni_override{-1};
}  // namespace

bool gfni_supported() {
#if defined(__x86_64__)
  static const bool supported = [] {
    if (kAvx512GfniPackedKernels.q8_0 == nullptr) return false;  // built without GFNI flags
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    return __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) && ((ecx >> 8) & 1u) != 0;
  }();
  return supported;
#else
  return false;
#endif
}

bool gfni_enabled() {
  static const bool environment_allows = [] {
    const char* env = std::getenv("NOMOAT_GFNI");
    return env == nullptr || std::strcmp(env, "0") != 0;
  }();
  const int forced = g_gfni_override.load(std::memory_order_relaxed);
  if (forced == 0 || !gfni_supported()) return false;
  return forced == 1 || environment_allows;
}

void set_gfni_override(std::optional<bool> on) {
  g_gfni_override.store(on ? (*on ? 1 : 0) : -1, std::memory_order_relaxed);
}

bool isa_uses_packed_weights(Isa isa) { return isa == Isa::Avx512 && isa_supported(isa); }

bool has_packed_matmul(Isa isa, const MatrixView& w) {
  return w.packed != nullptr && packed_kernel(isa, w.type) != nullptr;
}

bool amx_takes(Isa isa, const MatrixView& w, int64_t n_vectors) {
  return n_vectors >= kAmxMinTokens && isa_uses_packed_weights(isa) && amx_enabled() && amx_kernel_for(w) != nullptr;
}

namespace {

// One matrix of a packed matmul: its kernel, blocking and tasks.
struct PackedJob {
  PackedKernel kernel = nullptr;
  PackedTask base;
  int64_t n_slices = 1, slice_blocks = 0, tokens_per_block = 0, tasks_per_block = 0;
  std::vector<int64_t> bounds;  // row-group ranges per token block
  int64_t tasks() const { return (base.t_end + tokens_per_block - 1) / tokens_per_block * tasks_per_block; }
};

// What every task of w's job shares about the matrix: its 16-row groups,
// a packed matrix's or (AMX only) 16 consecutive GGUF rows with the type's
// own blocks, chunks of 256 values (one K-quant super-block, 8 legacy
// blocks) and its dequantizer.
PackedTask matrix_task(const MatrixView& w) {
  PackedTask t;
  t.rows = w.rows;
  if (const PackedMatrix* p = w.packed) {
    t.data = p->data.get();
    t.group_bytes = p->group_bytes;
    t.block_bytes = p->body_bytes + p->tail_bytes;
    t.blocks = p->blocks;
    t.chunk_blocks = p->chunk_blocks;
  } else {
    const DTypeTraits& traits = dtype_traits(w.type);
    t.data = w.data;
    t.row_bytes = w.row_bytes;
    t.group_bytes = w.row_bytes * kPackRows;
    t.block_bytes = traits.block_bytes;
    t.blocks = w.cols / traits.block_size;
    t.chunk_blocks = kQK_K / traits.block_size;  // gguf_amx_type: block_size divides 256
    t.dequantize = fast_dequantizer(w.type);
  }
  t.block_values = w.cols / t.blocks;
  return t;
}

PackedJob plan_job(const MatrixView& w, PackedKernel kernel, const PackedActivations& acts, bool amx, int64_t n_vectors,
                   float* y, int split_threads) {
  PackedJob job;
  job.kernel = kernel;
  job.base = matrix_task(w);
  PackedTask& base = job.base;
  base.acts = &acts;
  base.y = y;
  base.t_end = n_vectors;  // until run_jobs cuts it into token blocks
  base.prefetch = n_vectors == 1 ? decode_prefetch_bytes() : 0;

  // Blocking: k slices of about kSliceValues, and token blocks (whole
  // tiles) whose activations for one slice fit kColumnBlockBytes (AMX:
  // kAmxColumnBlockBytes), so each 16-row group's slice of weights is
  // loaded once per token block and serves all its tiles while the
  // activations stay in L2. Without slices an 8192-wide k (the FFN down
  // projection) left room for only 30 tokens per block, and the weights
  // were streamed 17 times for 512 tokens. Slices run one after another
  // (each adds into y); within a slice, token blocks and ranges of row
  // groups are tasks on the pool. One tile (decode) takes all of k at once:
  // its weights are read once anyway.
  const int64_t tile = acts.panel;
  const int64_t block_values = base.block_values;
  job.slice_blocks = base.blocks;
  if (amx) {  // the slices the activations are laid out in (whole blocks: the AMX kernels need no chunks)
    if (acts.slice_blocks == acts.n_blocks) {
      job.slice_blocks = base.blocks;
    } else if ((acts.slice_blocks * kQK) % block_values == 0) {
      job.slice_blocks = acts.slice_blocks * kQK / block_values;
    } else {
      fail("packed matmul: AMX k slice of ", acts.slice_blocks * kQK, " values is not a multiple of ", block_values);
    }
  } else if (n_vectors > tile) {
    const int64_t chunk_values = base.chunk_blocks * block_values;
    const int64_t slice_chunks = std::max<int64_t>(1, (kSliceValues + chunk_values / 2) / chunk_values);
    job.slice_blocks = std::min(base.blocks, slice_chunks * base.chunk_blocks);
  }
  job.n_slices = (base.blocks + job.slice_blocks - 1) / job.slice_blocks;
  const int64_t slice_values = job.slice_blocks * block_values;
  // Tokens per block: VNNI at most kMaxPackedTokens (its partial sums
  // live on the stack); AMX as many as kAmxColumnBlockBytes of bf16 allows.
  const int64_t max_tokens =
      amx ? std::max<int64_t>(tile, static_cast<int64_t>(kAmxColumnBlockBytes) / (2 * slice_values) / tile * tile)
          : std::min(kMaxPackedTokens,
                     std::max<int64_t>(tile, static_cast<int64_t>(kColumnBlockBytes) / slice_values / tile * tile));
  const int64_t n_token_blocks = (n_vectors + max_tokens - 1) / max_tokens;
  // Even blocks: 301 tokens as 2 x 160 rather than 256 + 45.
  job.tokens_per_block = ((n_vectors + n_token_blocks - 1) / n_token_blocks + tile - 1) / tile * tile;
  // Ranges of row groups per token block (fast_matmul.h); AMX: of pairs of
  // groups, which its tile loop takes together (an odd group alone took 6 %
  // of a Q8_0 prompt's time, its loop loading 5 tiles per 4 products).
  const int64_t n_groups = (w.rows + kPackRows - 1) / kPackRows;
  const size_t slice_group_bytes = base.group_bytes / static_cast<size_t>(job.n_slices);
  if (amx) {
    job.bounds = guided_task_bounds((n_groups + 1) / 2, 2 * slice_group_bytes, split_threads);
    for (int64_t& b : job.bounds) b = std::min(n_groups, 2 * b);
  } else {
    job.bounds = guided_task_bounds(n_groups, slice_group_bytes, split_threads);
  }
  job.tasks_per_block = static_cast<int64_t>(job.bounds.size()) - 1;
  return job;
}

// Slice by slice (each adds into y what the one before left), the tasks of
// every job in one pool run.
void run_jobs(std::vector<PackedJob>& jobs, int64_t n_vectors, int n_threads) {
  int64_t n_slices = 0;
  for (const PackedJob& j : jobs) n_slices = std::max(n_slices, j.n_slices);
  std::vector<int64_t> first_task(jobs.size() + 1);
  for (int64_t slice = 0; slice < n_slices; ++slice) {
    for (size_t i = 0; i < jobs.size(); ++i) {
      first_task[i + 1] = first_task[i] + (slice < jobs[i].n_slices ? jobs[i].tasks() : 0);
    }
    const auto run_one = [&](int64_t task) {
      size_t i = 0;
      while (task >= first_task[i + 1]) ++i;
      const PackedJob& job = jobs[i];
      const int64_t local = task - first_task[i];
      PackedTask t = job.base;
      const int64_t tb = local / job.tasks_per_block;
      t.t_begin = tb * job.tokens_per_block;
      t.t_end = std::min(n_vectors, t.t_begin + job.tokens_per_block);
      t.group_begin = job.bounds[static_cast<size_t>(local % job.tasks_per_block)];
      t.group_end = job.bounds[static_cast<size_t>(local % job.tasks_per_block + 1)];
      t.block_begin = slice * job.slice_blocks;
      t.block_end = std::min(t.blocks, t.block_begin + job.slice_blocks);
      job.kernel(t);
    };
    const int64_t n_tasks = first_task.back();
    if (n_threads <= 1) {
      for (int64_t task = 0; task < n_tasks; ++task) run_one(task);
    } else {
      ThreadPool::global().run(n_tasks, run_one, n_threads);
    }
  }
}

// Activation layouts (VNNI): one per activation format (Q5_K takes Q4_K's),
// each with its own blocks, sums and panel width.
constexpr int kActivationSlots = 4;
int type_index(DType type) {
  switch (type) {
    case DType::Q8_0: return 0;
    case DType::Q4_0: return 1;
    case DType::Q4_K: return 2;
    case DType::Q6_K: return 3;
    default: fail("packed matmul: no activation layout for ", dtype_name(type));
  }
}

}  // namespace

void matmul_packed(Isa isa, const MatrixView& w, const float* x, int64_t n_vectors, float* y, int threads) {
  const MatrixView* ws[] = {&w};
  float* ys[] = {y};
  matmul_packed_shared(isa, ws, 1, x, n_vectors, ys, threads);
}

void matmul_packed_shared(Isa isa, const MatrixView* const* ws, size_t n_matrices, const float* x, int64_t n_vectors,
                          float* const* ys, int threads) {
  if (n_vectors <= 0 || n_matrices == 0) return;
  bool amx = true;
  int64_t work = 0;
  for (size_t i = 0; i < n_matrices; ++i) {
    amx = amx && amx_takes(isa, *ws[i], n_vectors);
    work += ws[i]->rows * ws[i]->cols * n_vectors;
  }
  for (size_t i = 0; i < n_matrices && !amx; ++i) {
    if (!has_packed_matmul(isa, *ws[i])) {
      fail("packed matmul: ", dtype_name(ws[i]->type), " matrix ", i, " is neither packed nor taken by AMX");
    }
  }
  const int64_t k = ws[0]->cols;
  ThreadPool& pool = ThreadPool::global();
  const bool parallel = threads > 1 && pool.size() > 1 && work >= kMinParallelWork;
  const int n_threads = parallel ? std::min(threads, pool.size()) : 1;
  // Activations once per input: bf16 for AMX, else int8 per type (each
  // type's blocks, sums and panel width).
  thread_local PackedScratch scratch[kActivationSlots];
  PackedActivations acts[kActivationSlots];
  bool prepared[kActivationSlots] = {};
  std::vector<PackedJob> jobs;
  jobs.reserve(n_matrices);
  for (size_t i = 0; i < n_matrices; ++i) {
    const MatrixView& w = *ws[i];
    if (w.rows <= 0) continue;
    const int slot = amx ? 0 : type_index(activation_format(w.type));
    if (!prepared[slot]) {
      acts[slot] = amx ? prepare_bf16_activations(x, n_vectors, k, n_threads, scratch[slot])
                       : prepare_activations(isa, activation_format(w.type), x, n_vectors, k, n_threads, scratch[slot]);
      prepared[slot] = true;
    }
    jobs.push_back(plan_job(w, amx ? amx_kernel_for(w) : packed_kernel(isa, w.type), acts[slot], amx, n_vectors, ys[i],
                            n_threads));
  }
  run_jobs(jobs, n_vectors, n_threads);
}

}  // namespace nomoat::kernels
