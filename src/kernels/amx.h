// Intel AMX (tile matrix multiply) availability. The AMX kernels
// (packed_matmul_amx.cpp, bf16 tiles) run prompt batches where the CPU has
// AMX-BF16, AVX512-BF16 and AMX-INT8 (bench's peak loop) and the OS lets
// this process use the tile registers; decode keeps the AVX-512 VNNI
// kernels (one token would fill one row of a 16-row tile).
#pragma once

#include <optional>

namespace nomoat::kernels {

// This binary has the AMX kernels (the compiler knew the AMX flags), CPUID
// reports AMX-TILE, AMX-INT8, AMX-BF16 and AVX512-BF16, and Linux granted
// this process the tile data state (arch_prctl ARCH_REQ_XCOMP_PERM); asked
// once.
bool amx_supported();

// Whether packed prompt matmuls may use AMX: supported, and not turned off
// by NOMOAT_AMX=0 or by set_amx_override. (Packed matmuls run only on the
// AVX-512 path, so NOMOAT_ISA=avx2 or scalar leaves AMX out as well.)
bool amx_enabled();

// Tests and benchmarks: force AMX off (false) or back on where supported
// (true); nullopt returns to the environment's choice.
void set_amx_override(std::optional<bool> on);

}  // namespace nomoat::kernels
