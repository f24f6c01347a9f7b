#include "model/weight_writer.h"

#include <algorithm>
#include <cstring>

#include "base/error.h"
#include "base/threads.h"
#include "formats/gguf_writer.h"

namespace nomoat {
namespace {

int64_t row_count(const std::vector<int64_t>& dims) {
  int64_t rows = 1;
  for (size_t i = 1; i < dims.size(); ++i) rows *= dims[i];
  return rows;
}

// Rows per unit of work: about 256 KiB of floats, at least one row.
int64_t rows_per_chunk(int64_t n_cols) { return std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(1, n_cols)); }

void encode_source(const WeightSource& s, DType to, int threads, uint8_t* dst) {
  const int64_t n_cols = s.dims.at(0);
  const int64_t rows = row_count(s.dims);
  const size_t row_bytes = dtype_row_bytes(to, n_cols);
  const DTypeTraits& traits = dtype_traits(to);
  if (traits.quantize == nullptr) fail("cannot write tensor '", s.name, "' as ", traits.name);
  const int64_t chunk = rows_per_chunk(n_cols);
  const int64_t chunks = (rows + chunk - 1) / chunk;
  parallel_for(chunks, [&](int64_t c0, int64_t c1) {
    std::vector<float> buf(static_cast<size_t>(chunk * n_cols));
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t r0 = c * chunk;
      const int64_t nr = std::min(chunk, rows - r0);
      s.read_rows(r0, nr, buf.data());
      traits.quantize(buf.data(), dst + static_cast<size_t>(r0) * row_bytes, nr * n_cols);
    }
  }, threads);
}

}  // namespace

void encode_rows(const float* src, int64_t n_rows, int64_t n_cols, DType to, uint8_t* dst, int threads) {
  const DTypeTraits& traits = dtype_traits(to);
  if (traits.quantize == nullptr) fail("cannot write ", traits.name, " data");
  const size_t row_bytes = dtype_row_bytes(to, n_cols);
  const int64_t chunk = rows_per_chunk(n_cols);
  parallel_for((n_rows + chunk - 1) / chunk, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t r0 = c * chunk;
      const int64_t nr = std::min(chunk, n_rows - r0);
      traits.quantize(src + r0 * n_cols, dst + static_cast<size_t>(r0) * row_bytes, nr * n_cols);
    }
  }, threads);
}

std::vector<WeightPlan> add_weights(GgufWriter& writer, const std::vector<WeightSource>& sources, const QuantMix& mix,
                                    const QuantModelFacts& facts, int threads) {
  std::vector<WeightPlan> plan;
  plan.reserve(sources.size());
  for (const WeightSource& s : sources) {
    if (s.dims.empty()) fail("tensor '", s.name, "' has no dimensions");
    const DType to = s.forced_type ? *s.forced_type : quant_mix_type(mix, s.name, s.dims, facts);
    const uint64_t bytes = dtype_row_bytes(to, s.dims[0]) * static_cast<uint64_t>(row_count(s.dims));
    plan.push_back({s.name, s.dims, s.type, to, bytes});
    if (s.raw != nullptr && to == s.type) {
      writer.add_tensor_bytes(s.name, to, s.dims, s.raw);
    } else {
      writer.add_tensor(s.name, to, s.dims, [&s, to, threads](uint8_t* dst, size_t) { encode_source(s, to, threads, dst); });
    }
  }
  return plan;
}

}  // namespace nomoat
