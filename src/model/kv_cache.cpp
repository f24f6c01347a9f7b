#include "model/kv_cache.h"

#include <new>

#include "base/error.h"

namespace nomoat {

KvCache::KvCache(const ModelSpec& spec, int64_t n_ctx, int n_seq, DType type)
    : n_layer_(spec.n_layer), kv_dim_(spec.kv_dim()), n_ctx_(n_ctx), n_seq_(n_seq), type_(type) {
  if (type != DType::F16 && type != DType::F32 && type != DType::Q8_0) {
    fail("KV cache type ", dtype_name(type), " is not supported (f16, f32 or q8_0)");
  }
  if (n_ctx <= 0 || n_seq <= 0) fail("KV cache needs a positive context and sequence count");
  const DTypeTraits& t = dtype_traits(type);
  if (kv_dim_ % t.block_size != 0) {
    fail("KV cache type ", t.name, " needs a key/value size that is a multiple of ", t.block_size, " (this model's is ", kv_dim_, ")");
  }
  row_bytes_ = dtype_row_bytes(type, kv_dim_);
  const uint64_t total = static_cast<uint64_t>(n_layer_) * static_cast<uint64_t>(n_seq) * static_cast<uint64_t>(n_ctx) * row_bytes_;
  buffer_bytes_ = total;
  k_.reset(static_cast<uint8_t*>(std::calloc(total, 1)));
  v_.reset(static_cast<uint8_t*>(std::calloc(total, 1)));
  if (!k_ || !v_) throw std::bad_alloc();
}

uint64_t KvCache::bytes() const { return 2 * buffer_bytes_; }

size_t KvCache::offset(int64_t layer, int seq, int64_t pos) const {
  return ((static_cast<size_t>(layer) * static_cast<size_t>(n_seq_) + static_cast<size_t>(seq)) * static_cast<size_t>(n_ctx_) +
          static_cast<size_t>(pos)) * row_bytes_;
}

void KvCache::check(int seq, int64_t pos) const {
  if (seq < 0 || seq >= n_seq_) fail("sequence ", seq, " is outside the KV cache's ", n_seq_, " sequences");
  if (pos < 0 || pos >= n_ctx_) fail("position ", pos, " is outside the context of ", n_ctx_, " tokens (raise -c)");
}

void KvCache::store(int64_t layer, int seq, int64_t pos, const float* k, const float* v) {
  const QuantizeFn quantize = dtype_traits(type_).quantize;
  quantize(k, k_.get() + offset(layer, seq, pos), kv_dim_);
  quantize(v, v_.get() + offset(layer, seq, pos), kv_dim_);
}

kernels::KvRows KvCache::rows(int64_t layer, int seq) const {
  return kernels::KvRows{type_, k_.get() + offset(layer, seq, 0), v_.get() + offset(layer, seq, 0), row_bytes_};
}

void KvCache::load(int64_t layer, int seq, int64_t n, float* k, float* v) const {
  const DequantizeFn dequantize = dtype_traits(type_).dequantize;
  // Positions of one sequence are contiguous.
  dequantize(k_.get() + offset(layer, seq, 0), k, n * kv_dim_);
  dequantize(v_.get() + offset(layer, seq, 0), v, n * kv_dim_);
}

}  // namespace nomoat
