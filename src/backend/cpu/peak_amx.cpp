#include <immintrin.h>

#include <cstdint>

#include "backend/cpu/amx_tiles.h"
#include "backend/cpu/peak.h"

namespace wisp::backend::cpu {
namespace {

// Four accumulators, two A and two B tiles: the 2 × 2 block of the GEMM kernel, without loads in the loop.
template <bool Int8>
double loop(long iters) {
  amx_use_tiles();
  alignas(64) static thread_local uint8_t data[1024] = {};
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  _tile_loadd(4, data, 64);
  _tile_loadd(5, data, 64);
  _tile_loadd(6, data, 64);
  _tile_loadd(7, data, 64);
  for (long it = 0; it < iters; ++it) {
    if constexpr (Int8) {
      _tile_dpbssd(0, 4, 6);
      _tile_dpbssd(1, 4, 7);
      _tile_dpbssd(2, 5, 6);
      _tile_dpbssd(3, 5, 7);
    } else {
      _tile_dpbf16ps(0, 4, 6);
      _tile_dpbf16ps(1, 4, 7);
      _tile_dpbf16ps(2, 5, 6);
      _tile_dpbf16ps(3, 5, 7);
    }
  }
  alignas(64) static thread_local int32_t out[256];
  _tile_stored(0, out, 64);
  volatile int32_t sink = out[0];
  (void)sink;
  // One tile product: 16 × 16 outputs × 64 int8 (or 32 bf16) multiply-adds.
  return static_cast<double>(iters) * 4 * 16 * 16 * (Int8 ? 64 : 32) * 2;
}

}  // namespace

double peak_loop_amx_int8(long iters) { return loop<true>(iters); }
double peak_loop_amx_bf16(long iters) { return loop<false>(iters); }

}  // namespace wisp::backend::cpu
