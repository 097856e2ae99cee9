// fp32 GEMM with AVX-512 FMA. Register tile: MR rows × NV·16 columns (flat accumulators, fully unrolled
// loops: see gemm_avx512_vnni.cpp).
#include "backend/cpu/gemm_kernels.h"
#include "backend/cpu/simd_avx512.h"
#include "backend/cpu/tile_table.h"

namespace wisp::backend::cpu {
namespace {

constexpr int kMaxRows = 6, kMaxVecs = 4;

template <int MR, int NV>
struct Tile {
  static void run(const F32Block& b, int m, int n);
};

template <int MR, int NV>
void Tile<MR, NV>::run(const F32Block& b, int m, int n) {
  const PackedView& w = b.w;
  const size_t panel = w.panel_elems();
  const float* bp = static_cast<const float*>(w.data) + static_cast<size_t>(n / 16) * panel;
  const float* ap = b.a + static_cast<size_t>(m) * b.lda;
  __m512 acc[MR * NV];
#pragma GCC unroll 32
  for (int i = 0; i < MR * NV; ++i) acc[i] = _mm512_setzero_ps();
  for (int k = 0; k < w.K; ++k) {
    __m512 bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bv[v] = _mm512_load_ps(bp + v * panel + static_cast<size_t>(k) * 16);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m512 av = _mm512_set1_ps(ap[static_cast<size_t>(r) * b.lda + k]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r * NV + v] = _mm512_fmadd_ps(av, bv[v], acc[r * NV + v]);
    }
  }
  avx512::store_tile<MR, NV>(acc, b.ep, b.y + static_cast<size_t>(m) * b.ldy, b.ldy, n, w.N);
}

constexpr auto kTiles = make_tile_table<F32Block, Tile, kMaxRows, kMaxVecs>();

}  // namespace

void gemm_f32_avx512(const F32Block& b, int m0, int m1, int n0, int n1) {
  run_tiles<F32Block, kMaxRows, kMaxVecs>(kTiles, b, m0, m1, n0, n1);
}

}  // namespace wisp::backend::cpu
