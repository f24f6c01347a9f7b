// Storing float weights in the types a quantization mix picks: the one path
// `nomoat quantize` (GGUF in) and `nomoat convert` (safetensors in) share.
// Each tensor is read row by row as floats from its source and encoded when
// the GGUF writer reaches it, in parallel over rows, so no whole model is
// ever held in memory as floats.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "model/quant_mix.h"
#include "tensor/dtype.h"

namespace nomoat {

class GgufWriter;

struct WeightSource {
  std::string name;           // GGUF name ("blk.0.attn_q.weight")
  std::vector<int64_t> dims;  // GGUF dims, innermost first; rows = product of dims[1..]
  DType type = DType::F32;    // the type the source holds (for the summary, and raw copies)
  // Fills `out` with rows [first_row, first_row + n_rows) as floats
  // (dims[0] values per row). Called from several threads at once.
  std::function<void(int64_t first_row, int64_t n_rows, float* out)> read_rows;
  // The source's bytes in `type`, when it has them contiguous and unchanged:
  // copied as they are when the chosen type equals `type` (no re-encoding).
  const void* raw = nullptr;
  // Forces this tensor's type (e.g. F32 for norms); nullopt: the mix decides.
  std::optional<DType> forced_type;
};

struct WeightPlan {
  std::string name;
  std::vector<int64_t> dims;
  DType from;
  DType to;
  uint64_t bytes;  // encoded size in `to`
};

// Adds every source to `writer` in order, each in the type
// quant_mix_type(mix, ...) picks (or its forced type). The data is produced
// when writer.write() runs, on `threads` threads (0: all cores). Returns the
// plan (for summaries). Sources must outlive the write.
std::vector<WeightPlan> add_weights(GgufWriter& writer, const std::vector<WeightSource>& sources, const QuantMix& mix,
                                    const QuantModelFacts& facts, int threads = 0);

// Encodes `n_rows` rows of `n_cols` floats into `to` (dst holds
// n_rows * dtype_row_bytes(to, n_cols) bytes), on `threads` threads (0: all cores).
void encode_rows(const float* src, int64_t n_rows, int64_t n_cols, DType to, uint8_t* dst, int threads = 0);

}  // namespace nomoat
