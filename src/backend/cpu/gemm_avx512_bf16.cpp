// bf16 GEMM with AVX-512 BF16: vdpbf16ps multiplies pairs of bf16 and adds both products to an fp32 lane.
// Register tile: MR rows × NV·16 columns of fp32 accumulators.
#include "backend/cpu/gemm_kernels.h"
#include "backend/cpu/simd_avx512.h"
#include "backend/cpu/tile_table.h"

namespace wisp::backend::cpu {
namespace {

constexpr int kMaxRows = 6, kMaxVecs = 4;

// (Flat accumulator array and fully unrolled loops: see gemm_avx512_vnni.cpp.)
template <int MR, int NV>
struct Tile {
  static void run(const Bf16Block& b, int m, int n);
};

template <int MR, int NV>
void Tile<MR, NV>::run(const Bf16Block& b, int m, int n) {
  const PackedView& w = b.w;
  const int Kp = w.Kp;
  const size_t panel = w.panel_elems();  // elements per 16-column panel
  const uint16_t* bp = static_cast<const uint16_t*>(w.data) + static_cast<size_t>(n / 16) * panel;
  const uint16_t* ap = b.a + static_cast<size_t>(m) * b.lda;
  __m512 acc[MR * NV];
#pragma GCC unroll 32
  for (int i = 0; i < MR * NV; ++i) acc[i] = _mm512_setzero_ps();
  for (int k = 0; k < Kp; k += 2) {
    __m512bh bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      bv[v] = (__m512bh)_mm512_load_si512(
          reinterpret_cast<const void*>(bp + v * panel + static_cast<size_t>(k) * 16));
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m512bh av = (__m512bh)_mm512_set1_epi32(
          *reinterpret_cast<const int32_t*>(ap + static_cast<size_t>(r) * b.lda + k));
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r * NV + v] = _mm512_dpbf16_ps(acc[r * NV + v], av, bv[v]);
    }
  }
  avx512::store_tile<MR, NV>(acc, b.ep, b.y + static_cast<size_t>(m) * b.ldy, b.ldy, n, w.N);
}

constexpr auto kTiles = make_tile_table<Bf16Block, Tile, kMaxRows, kMaxVecs>();

}  // namespace

void gemm_bf16_avx512_bf16(const Bf16Block& b, int m0, int m1, int n0, int n1) {
  run_tiles<Bf16Block, kMaxRows, kMaxVecs>(kTiles, b, m0, m1, n0, n1);
}

}  // namespace wisp::backend::cpu
