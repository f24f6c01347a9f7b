// AMX int8 peak loop (built with the AMX flags of *_amx.cpp, see
// CMakeLists.txt): TDPBSSD on full 16 x 64 tiles, a 2 x 2 block of C tiles
// fed by 2 A and 2 B tiles, as a GEMM would use them. The inputs hold
// varied non-zero bytes: on the dev VM's Xeon an all-zero tile multiplied
// twice as fast as real data. Only peak_isa.h and <immintrin.h> are
// included (see peak_isa.h for why).
#if defined(__x86_64__)
#include "kernels/peak_isa.h"

#if defined(__AMX_TILE__) && defined(__AMX_INT8__)
#include <immintrin.h>

namespace nomoat::kernels {
namespace {

struct alignas(64) TileConfig {
  unsigned char palette = 1;
  unsigned char start_row = 0;
  unsigned char reserved[14] = {};
  unsigned short colsb[16] = {};
  unsigned char rows[16] = {};
};

// 2 ops per multiply-add, 16 x 16 x 64 multiply-adds per TDPBSSD, 4 per iteration.
constexpr double kOpsPerIteration = 4.0 * 2 * 16 * 16 * 64;

double amx_int8_run(uint64_t iterations) {
  if (iterations == 0) return 0;
  TileConfig config;
  for (int t = 0; t < 8; ++t) {
    config.rows[t] = 16;
    config.colsb[t] = 64;
  }
  _tile_loadconfig(&config);
  alignas(64) signed char a[2][1024], b[2][1024];
  for (int i = 0; i < 1024; ++i) {
    a[0][i] = static_cast<signed char>((i * 37) % 251 - 125);
    a[1][i] = static_cast<signed char>((i * 53) % 241 - 120);
    b[0][i] = static_cast<signed char>((i * 29) % 239 - 119);
    b[1][i] = static_cast<signed char>((i * 61) % 233 - 116);
  }
  _tile_loadd(0, a[0], 64);
  _tile_loadd(1, a[1], 64);
  _tile_loadd(2, b[0], 64);
  _tile_loadd(3, b[1], 64);
  _tile_zero(4);
  _tile_zero(5);
  _tile_zero(6);
  _tile_zero(7);
  for (uint64_t i = 0; i < iterations; ++i) {
    _tile_dpbssd(4, 0, 2);
    _tile_dpbssd(5, 0, 3);
    _tile_dpbssd(6, 1, 2);
    _tile_dpbssd(7, 1, 3);
  }
  alignas(64) int c[256];
  _tile_stored(4, c, 64);
  _tile_release();
  return static_cast<double>(c[0]);
}

}  // namespace

const PeakLoop kPeakInt8Amx = {"amx", "tdpbssd (16 x 16 x 64 tiles)", kOpsPerIteration, amx_int8_run};

}  // namespace nomoat::kernels

#else  // the compiler has no AMX: no loop

namespace nomoat::kernels {
const PeakLoop kPeakInt8Amx = {"amx", "tdpbssd", 0, nullptr};
}

#endif
#endif
