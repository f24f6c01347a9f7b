// libFuzzer target: the GGUF reader must reject any input with nomoat::Error,
// never crash, hang, leak or allocate without bound.
#include <cstddef>
#include <cstdint>
#include <span>

#include "base/error.h"
#include "formats/gguf.h"
#include "formats/gguf_summary.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const nomoat::GgufFile f = nomoat::GgufFile::parse(std::span<const uint8_t>(data, size), "fuzz.gguf");
    // Touch what the reader handed out: summaries and every tensor's bytes.
    const nomoat::GgufSummary s = nomoat::summarize(f);
    volatile uint64_t sink = s.tensor_bytes;
    for (const auto& t : f.tensors()) {
      if (t.nbytes > 0) sink = sink + t.data[0] + t.data[t.nbytes - 1];
    }
    (void)sink;
  } catch (const nomoat::Error&) {
  }
  return 0;
}
