#include "kernels/amx.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "kernels/packed_matmul.h"

#if defined(__x86_64__) && defined(__linux__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace nomoat::kernels {

namespace {

// -1: environment decides; 0: off; 1: on where supported.
std::atomic<int> g_override{-1};

bool environment_allows_amx() {
  static const bool allowed = [] {
    const char* env = std::getenv("NOMOAT_AMX");
    return env == nullptr || std::strcmp(env, "0") != 0;
  }();
  return allowed;
}

}  // namespace

bool amx_supported() {
#if defined(__x86_64__) && defined(__linux__)
  static const bool supported = [] {
    if (kAmxKernels.q8_0 == nullptr) return false;  // built without AMX flags
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
    // AMX-TILE and AMX-BF16 (the kernels), AVX512-BF16 for their bf16
    // conversions, and AMX-INT8 for the peak that bench --roofline reports
    // beside them (every AMX CPU so far has all of them).
    const bool tile = (edx >> 24) & 1u, int8 = (edx >> 25) & 1u, bf16 = (edx >> 22) & 1u;
    if (!tile || !int8 || !bf16 || !__builtin_cpu_supports("avx512f")) return false;
    if (!__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) || !((eax >> 5) & 1u)) return false;
    // The tile data (8 KiB of register state) is off until the process asks
    // for it; the kernel then saves it on context switches.
    constexpr long kArchReqXcompPerm = 0x1023;
    constexpr long kXfeatureXtiledata = 18;
    return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
  }();
  return supported;
#else
  return false;
#endif
}

bool amx_enabled() {
  const int forced = g_override.load(std::memory_order_relaxed);
  if (forced == 0) return false;
  if (!amx_supported()) return false;
  return forced == 1 || environment_allows_amx();
}

void set_amx_override(std::optional<bool> on) { g_override.store(on ? (*on ? 1 : 0) : -1, std::memory_order_relaxed); }

}  // namespace nomoat::kernels
