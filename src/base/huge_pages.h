// Memory for data that is streamed whole, over and over: a model's repacked
// weights, read once per generated token, and the read-bandwidth probe that
// is their yardstick. On 2 MiB pages a TLB entry covers 512 times more of
// the stream; in a virtual machine every TLB miss is a two-level page walk.
// Measured on a 2-vCPU VM: a plain read ran 15-25 % faster on huge pages,
// and a layer's Q/K/V/O matrices (under 4 MiB each, so on 4 KiB pages until
// the model packed everything into one buffer) 10-15 % faster.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace nomoat {

using HugeBuffer = std::unique_ptr<uint8_t, void (*)(void*)>;

// `bytes` (rounded up to whole 2 MiB pages), 2 MiB aligned, with the kernel
// asked for transparent huge pages over all of it (a hint: where it is
// refused, only speed is lost). Pages are committed when first written.
// Throws Error naming `what` when out of memory.
HugeBuffer allocate_huge_pages(size_t bytes, const char* what);

inline constexpr size_t kHugePageBytes = size_t{2} << 20;

}  // namespace nomoat
