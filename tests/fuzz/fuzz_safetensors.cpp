// libFuzzer target: the safetensors reader must reject any input with
// nomoat::Error, never crash, hang, leak or allocate without bound.
#include <cstddef>
#include <cstdint>
#include <span>

#include "base/error.h"
#include "formats/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const nomoat::SafetensorsFile f = nomoat::SafetensorsFile::parse(std::span<const uint8_t>(data, size), "fuzz.safetensors");
    // Touch what the reader handed out: every tensor's first and last byte,
    // and the first values of the float ones as conversion reads them.
    volatile uint64_t sink = f.metadata().size();
    for (const auto& t : f.tensors()) {
      if (t.nbytes() > 0) sink = sink + t.data[0] + t.data[t.nbytes() - 1];
      if (nomoat::st_dtype_is_float(t.dtype) && t.n_elements > 0) {
        float v[4];
        const int64_t n = t.n_elements < 4 ? t.n_elements : 4;
        f.read_floats(t, t.n_elements - n, n, v);
        sink = sink + static_cast<uint64_t>(v[0] == v[0]);
      }
    }
    (void)sink;
  } catch (const nomoat::Error&) {
  }
  return 0;
}
