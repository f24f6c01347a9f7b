#include "base/huge_pages.h"

#include <algorithm>
#include <cstdlib>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "base/error.h"

namespace nomoat {

HugeBuffer allocate_huge_pages(size_t bytes, const char* what) {
  const size_t rounded = (std::max<size_t>(bytes, 1) + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  void* mem = nullptr;
  if (posix_memalign(&mem, kHugePageBytes, rounded) != 0) fail(what, ": out of memory for ", rounded, " bytes");
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  ::madvise(mem, rounded, MADV_HUGEPAGE);
#endif
  return HugeBuffer(static_cast<uint8_t*>(mem), &std::free);
}

}  // namespace nomoat
