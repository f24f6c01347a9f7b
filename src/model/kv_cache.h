// Keys and values of past positions for several sequences at once, one
// fixed-size slot of `n_ctx` positions per sequence, stored as F16 (default),
// F32 or Q8_0.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>

#include "kernels/attention.h"
#include "model/model_spec.h"
#include "tensor/dtype.h"

namespace nomoat {

class KvCache {
 public:
  KvCache(const ModelSpec& spec, int64_t n_ctx, int n_seq, DType type = DType::F16);

  int64_t n_ctx() const { return n_ctx_; }
  int n_seq() const { return n_seq_; }
  DType type() const { return type_; }
  uint64_t bytes() const;

  // Stores the key and value rows (kv_dim floats each) of one position.
  void store(int64_t layer, int seq, int64_t pos, const float* k, const float* v);
  // Reads positions [0, n) of a sequence as floats (n x kv_dim each).
  void load(int64_t layer, int seq, int64_t n, float* k, float* v) const;
  // The stored rows of one sequence in one layer, for kernels::attention
  // (positions are contiguous).
  kernels::KvRows rows(int64_t layer, int seq) const;
  // Checks that (seq, pos) is inside the cache; throws Error naming the limit.
  void check(int seq, int64_t pos) const;

 private:
  size_t offset(int64_t layer, int seq, int64_t pos) const;
  int64_t n_layer_, kv_dim_, n_ctx_;
  int n_seq_;
  DType type_;
  size_t row_bytes_;
  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  // calloc'd: large blocks come as untouched zero pages, so memory is only
  // committed for the positions actually used (a model's 128K-token context
  // costs nothing until the conversation gets long).
  std::unique_ptr<uint8_t[], Free> k_, v_;
  uint64_t buffer_bytes_ = 0;  // of each of k_ and v_
};

}  // namespace nomoat
