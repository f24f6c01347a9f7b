#include "model/model.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "base/error.h"
#include "base/thread_pool.h"
#include "kernels/fast_matmul.h"
#include "kernels/packed_matmul.h"
#include "model/hf_cache.h"
#include "model/hf_convert.h"
#include "tensor/packed.h"

namespace nomoat {

extern const Architecture kArchLlama;
extern const Architecture kArchQwen2;
extern const Architecture kArchQwen3;
extern const Architecture kArchQwen3Moe;
extern const Architecture kArchPhi3;
extern const Architecture kArchGemma2;
extern const Architecture kArchGemma3;

namespace {
// Every supported architecture: one file each, one line here.
const Architecture* const kArchitectures[] = {&kArchLlama, &kArchQwen2, &kArchQwen3, &kArchQwen3Moe,
                                              &kArchPhi3,  &kArchGemma2, &kArchGemma3};

int64_t key_int(const GgufFile& f, const std::string& key, int64_t fallback, bool required) {
  const GgufValue* v = f.find(key);
  if (v == nullptr) {
    if (required) fail(f.path(), ": missing metadata key '", key, "'");
    return fallback;
  }
  if (v->is_array()) {
    // Per-layer values (e.g. head counts) must all agree for now.
    const auto values = v->to_i64_vector(f.path() + ": key '" + key + "'");
    if (values.empty()) fail(f.path(), ": key '", key, "' is an empty array");
    for (int64_t x : values) {
      if (x != values[0]) fail(f.path(), ": key '", key, "' varies per layer, which is not supported yet");
    }
    return values[0];
  }
  return v->as_i64(f.path() + ": key '" + key + "'");
}

// rope.scaling.* keys as llama.cpp's converters write them.
void read_rope_scaling(const GgufFile& f, ModelSpec& s) {
  const std::string a = s.arch + ".";
  const std::string scaling = f.get_string_or(a + "rope.scaling.type", "none");
  // Without the key the training context is the original one (llama.cpp's fallback).
  s.rope_orig_ctx = key_int(f, a + "rope.scaling.original_context_length", s.n_ctx_train, false);
  s.rope_attn_factor = static_cast<float>(f.get_f64_or(a + "rope.scaling.attn_factor", 1.0));
  if (s.rope_orig_ctx <= 0 || !(s.rope_attn_factor > 0)) {
    fail(f.path(), ": '", a, "rope.scaling.original_context_length' and 'attn_factor' must be positive");
  }
  if (scaling == "linear" || scaling == "yarn") {
    const double factor = f.get_f64_or(a + "rope.scaling.factor", 1.0);
    if (!(factor > 0)) fail(f.path(), ": '", a, "rope.scaling.factor' must be positive");
    s.rope_freq_scale = static_cast<float>(1.0 / factor);
    s.rope_scaling = scaling == "yarn" ? RopeScaling::kYarn : RopeScaling::kLinear;
  } else if (scaling == "longrope") {
    s.rope_scaling = RopeScaling::kLongRope;  // the factors are tensors (arch_phi3.cpp)
  } else if (scaling != "none" && scaling != "llama3") {
    // llama3 scaling arrives as rope_freqs.weight.
    fail(f.path(), ": '", a, "rope.scaling.type' '", scaling, "' is not supported yet");
  }
  if (s.rope_scaling == RopeScaling::kYarn) {
    s.yarn_beta_fast = static_cast<float>(f.get_f64_or(a + "rope.scaling.yarn_beta_fast", 32.0));
    s.yarn_beta_slow = static_cast<float>(f.get_f64_or(a + "rope.scaling.yarn_beta_slow", 1.0));
    if (!(s.yarn_beta_fast > s.yarn_beta_slow && s.yarn_beta_slow > 0)) {
      fail(f.path(), ": YaRN needs yarn_beta_fast > yarn_beta_slow > 0");
    }
    // HF's mscale_all_dim, as the llama-like converters write it (DeepSeek 2
    // stores a tenth of it and scales attention itself: not an arch here).
    s.yarn_log_mul = static_cast<float>(f.get_f64_or(a + "rope.scaling.yarn_log_multiplier", 0.0));
  }
}

}  // namespace

const Architecture* find_architecture(const std::string& name) {
  for (const Architecture* a : kArchitectures) {
    if (name == a->name) return a;
  }
  return nullptr;
}

std::string supported_architectures() {
  std::string s;
  for (const Architecture* a : kArchitectures) s += (s.empty() ? "" : ", ") + std::string(a->name);
  return s;
}

Model::Model(GgufFile file) : file_(std::move(file)) {}
Model::~Model() = default;

size_t Model::packed_bytes() const {
  size_t n = 0;
  for (const auto& p : packed_) n += p->bytes;
  return n;
}

void Model::repack(int threads) {
  std::vector<MatrixView*> views = {&output};
  for (LayerWeights& l : layers) {
    for (MatrixView* v : {&l.wq, &l.wk, &l.wv, &l.wo, &l.wqkv, &l.w_gate, &l.w_up, &l.w_down}) views.push_back(v);
  }
  // One huge-page buffer for all of them (base/huge_pages.h), each matrix
  // at a 64-byte boundary in it: the packable types in their packed layout,
  // the others (F16, BF16, F32, the other quant types) as they are. Decode
  // streams every matrix once per token; from the file's page cache (4 KiB
  // pages) F16 decode ran 13-20 % slower.
  struct Place {
    MatrixView* view;
    size_t offset;
    bool pack;
  };
  std::vector<Place> places;
  size_t total = 0;
  for (MatrixView* v : views) {
    if (v->empty()) continue;
    const bool pack = packable(v->type);
    places.push_back({v, total, pack});
    const size_t bytes = pack ? packed_matrix_bytes(*v) : v->row_bytes * static_cast<size_t>(v->rows);
    total += (bytes + 63) / 64 * 64;
  }
  if (total == 0) return;
  weight_memory_ = allocate_huge_pages(total, "repacking the weights");
  for (const Place& p : places) {
    MatrixView* v = p.view;
    uint8_t* dst = weight_memory_.get() + p.offset;
    const size_t src_bytes = v->row_bytes * static_cast<size_t>(v->rows);
    if (p.pack) {
      packed_.push_back(pack_matrix(*v, threads, dst));
      v->packed = packed_.back().get();
    } else {
      constexpr size_t kChunk = size_t{4} << 20;
      const uint8_t* src = v->data;
      ThreadPool::global().run(static_cast<int64_t>((src_bytes + kChunk - 1) / kChunk), [&](int64_t c) {
        const size_t begin = static_cast<size_t>(c) * kChunk;
        std::memcpy(dst + begin, src + begin, std::min(kChunk, src_bytes - begin));
      }, threads);
    }
    // The source bytes are not read again (a tied output's embedding rows
    // fault back in from the file when looked up).
    file_.drop_pages(v->data, src_bytes);
    if (!p.pack) v->data = dst;
  }
}

std::unique_ptr<Model> Model::load(const std::string& path, const LoadOptions& options) {
  std::string file = path;
  if (std::filesystem::is_directory(path)) {
    if (!is_hf_folder(path)) fail(path, ": a folder without config.json (not a Hugging Face model folder)");
    file = hf_folder_gguf(path, options.note ? options.note : [](const std::string& line) {
      std::fprintf(stderr, "nomoat: %s\n", line.c_str());
    });
  }
  std::unique_ptr<Model> m(new Model(GgufFile::open(file)));
  const std::string arch = m->file_.architecture();
  if (arch.empty()) fail(path, ": no 'general.architecture' key: not a model file (a vocabulary only?)");
  const Architecture* a = find_architecture(arch);
  if (a == nullptr) fail(path, ": architecture '", arch, "' is not supported (supported: ", supported_architectures(), ")");
  m->spec_.arch = arch;
  a->read_spec(m->file_, m->spec_);
  a->bind(*m, m->spec_);
  if (options.repack && kernels::isa_uses_packed_weights(kernels::active_isa())) {
    m->repack(options.threads > 0 ? options.threads : ThreadPool::global().size());
  }
  return m;
}

MatrixView Model::matrix(const std::string& name, int64_t cols, int64_t rows) const {
  const GgufTensorInfo* t = file_.find_tensor(name);
  if (t == nullptr) fail(file_.path(), ": missing tensor '", name, "'");
  const int64_t t_rows = t->dims.size() > 1 ? t->n_elements / t->dims[0] : 1;
  if (t->dims[0] != cols || t_rows != rows) {
    fail(file_.path(), ": tensor '", name, "' has shape ", t->shape_string(), ", expected [", cols, ", ", rows, "]");
  }
  const DTypeTraits& traits = dtype_traits(t->type);
  if (traits.dequantize == nullptr) fail(file_.path(), ": tensor '", name, "' has type ", traits.name, ", which nomoat cannot compute with yet");
  return MatrixView{t->data, t->type, cols, rows, dtype_row_bytes(t->type, cols)};
}

std::vector<float> Model::vector(const std::string& name, int64_t n) const {
  const MatrixView v = matrix(name, n, 1);
  std::vector<float> out(static_cast<size_t>(n));
  dtype_traits(v.type).dequantize(v.data, out.data(), n);
  return out;
}

ExpertMatrices Model::experts(const std::string& name, int64_t cols, int64_t rows, int64_t n_expert) const {
  const GgufTensorInfo* t = file_.find_tensor(name);
  if (t == nullptr) fail(file_.path(), ": missing tensor '", name, "'");
  if (t->dims.size() != 3 || t->dims[0] != cols || t->dims[1] != rows || t->dims[2] != n_expert) {
    fail(file_.path(), ": tensor '", name, "' has shape ", t->shape_string(), ", expected [", cols, ", ", rows, ", ", n_expert, "]");
  }
  return ExpertMatrices{matrix(name, cols, rows * n_expert), rows};
}

void read_llama_like_spec(const GgufFile& f, ModelSpec& s) {
  const std::string a = s.arch + ".";
  s.n_embd = key_int(f, a + "embedding_length", 0, true);
  s.n_layer = key_int(f, a + "block_count", 0, true);
  s.n_head = key_int(f, a + "attention.head_count", 0, true);
  s.n_head_kv = key_int(f, a + "attention.head_count_kv", s.n_head, false);
  s.n_expert = key_int(f, a + "expert_count", 0, false);
  // A mixture-of-experts file may give only the experts' width.
  s.n_ff = key_int(f, a + "feed_forward_length", 0, s.n_expert == 0);
  s.n_ctx_train = key_int(f, a + "context_length", 2048, false);
  if (s.n_expert > 0) {
    s.n_expert_used = key_int(f, a + "expert_used_count", 0, true);
    s.n_ff_expert = key_int(f, a + "expert_feed_forward_length", s.n_ff, false);
    s.expert_weights_norm = f.get_bool_or(a + "expert_weights_norm", true);
    if (s.n_expert_used <= 0 || s.n_expert_used > s.n_expert || s.n_ff_expert <= 0) {
      fail(f.path(), ": '", a, "expert_used_count' must be in [1, expert_count] and the experts' feed-forward size positive");
    }
    if (s.n_ff <= 0) s.n_ff = s.n_ff_expert;
  }
  if (s.n_embd <= 0 || s.n_layer <= 0 || s.n_head <= 0 || s.n_head_kv <= 0 || s.n_ff <= 0) {
    fail(f.path(), ": model sizes in '", a, "*' must be positive");
  }
  if (s.n_head % s.n_head_kv != 0) {
    fail(f.path(), ": '", a, "attention.head_count' (", s.n_head, ") is not a multiple of head_count_kv (", s.n_head_kv, ")");
  }
  s.head_dim = key_int(f, a + "attention.key_length", s.n_embd / s.n_head, false);
  if (key_int(f, a + "attention.value_length", s.head_dim, false) != s.head_dim) {
    fail(f.path(), ": '", a, "attention.value_length' differs from key_length, which is not supported yet");
  }
  s.rope_dim = key_int(f, a + "rope.dimension_count", s.head_dim, false);
  if (s.rope_dim > s.head_dim || s.rope_dim % 2 != 0) fail(f.path(), ": '", a, "rope.dimension_count' must be even and at most the head size");
  s.norm_eps = static_cast<float>(f.get_f64_or(a + "attention.layer_norm_rms_epsilon", 1e-5));
  s.rope_base = static_cast<float>(f.get_f64_or(a + "rope.freq_base", 10000.0));
  read_rope_scaling(f, s);
}

void bind_llama_like(Model& m, ModelSpec& s, const LlamaLikeTensors& with) {
  const GgufTensorInfo* embd = m.file().find_tensor("token_embd.weight");
  if (embd == nullptr) fail(m.file().path(), ": missing tensor 'token_embd.weight'");
  const int64_t n_vocab = embd->dims.size() > 1 ? embd->dims[1] : 0;
  s.n_vocab = n_vocab;
  m.token_embd = m.matrix("token_embd.weight", s.n_embd, n_vocab);
  m.output_norm = m.vector("output_norm.weight", s.n_embd);
  if (m.has("output.weight")) {
    m.output = m.matrix("output.weight", s.n_embd, n_vocab);
  } else {
    s.tied_output = true;
    m.output = m.token_embd;
  }
  if (m.has("rope_freqs.weight")) m.rope_freq_factors = m.vector("rope_freqs.weight", s.rope_dim / 2);
  m.layers.resize(static_cast<size_t>(s.n_layer));
  for (int64_t i = 0; i < s.n_layer; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    LayerWeights& l = m.layers[static_cast<size_t>(i)];
    l.attn_norm = m.vector(p + "attn_norm.weight", s.n_embd);
    if (m.has(p + "attn_qkv.weight")) {
      l.wqkv = m.matrix(p + "attn_qkv.weight", s.n_embd, s.q_dim() + 2 * s.kv_dim());
    } else {
      l.wq = m.matrix(p + "attn_q.weight", s.n_embd, s.q_dim());
      l.wk = m.matrix(p + "attn_k.weight", s.n_embd, s.kv_dim());
      l.wv = m.matrix(p + "attn_v.weight", s.n_embd, s.kv_dim());
    }
    l.wo = m.matrix(p + "attn_output.weight", s.q_dim(), s.n_embd);
    if (with.qkv_bias) {
      l.bq = m.vector(p + "attn_q.bias", s.q_dim());
      l.bk = m.vector(p + "attn_k.bias", s.kv_dim());
      l.bv = m.vector(p + "attn_v.bias", s.kv_dim());
    }
    if (with.qk_norm) {
      l.q_norm = m.vector(p + "attn_q_norm.weight", s.head_dim);
      l.k_norm = m.vector(p + "attn_k_norm.weight", s.head_dim);
    }
    if (with.post_norms) {
      l.post_attn_norm = m.vector(p + "post_attention_norm.weight", s.n_embd);
      l.post_ffn_norm = m.vector(p + "post_ffw_norm.weight", s.n_embd);
    }
    l.ffn_norm = m.vector(p + "ffn_norm.weight", s.n_embd);
    if (s.n_expert > 0) {
      l.router = m.matrix(p + "ffn_gate_inp.weight", s.n_embd, s.n_expert);
      l.gate_exps = m.experts(p + "ffn_gate_exps.weight", s.n_embd, s.n_ff_expert, s.n_expert);
      l.up_exps = m.experts(p + "ffn_up_exps.weight", s.n_embd, s.n_ff_expert, s.n_expert);
      l.down_exps = m.experts(p + "ffn_down_exps.weight", s.n_ff_expert, s.n_embd, s.n_expert);
      continue;
    }
    if (with.fused_gate_up) {
      l.w_up = m.matrix(p + "ffn_up.weight", s.n_embd, 2 * s.n_ff);
    } else {
      l.w_gate = m.matrix(p + "ffn_gate.weight", s.n_embd, s.n_ff);
      l.w_up = m.matrix(p + "ffn_up.weight", s.n_embd, s.n_ff);
    }
    l.w_down = m.matrix(p + "ffn_down.weight", s.n_ff, s.n_embd);
  }
}

}  // namespace nomoat
