// int8 GEMM with AVX-512 VNNI: vpdpbusd multiplies 4 unsigned activation bytes by 4 signed weight bytes
// and adds them to a 32-bit lane. Register tile: MR rows × NV·16 columns of int32 accumulators.
#include "backend/cpu/gemm_kernels.h"
#include "backend/cpu/simd_avx512.h"
#include "backend/cpu/tile_table.h"

namespace wisp::backend::cpu {
namespace {

constexpr int kMaxRows = 6, kMaxVecs = 4;

// (GCC keeps an array of vector accumulators in registers only when every loop over it is unrolled: hence
// the flat array and the pragmas.)
template <int MR, int NV>
struct Tile {
  static void run(const I8Block& b, int m, int n);
};

template <int MR, int NV>
void Tile<MR, NV>::run(const I8Block& b, int m, int n) {
  const PackedView& w = b.w;
  const int Kp = w.Kp;
  const size_t panel_bytes = w.panel_elems();
  const int8_t* bp = static_cast<const int8_t*>(w.data) + static_cast<size_t>(n / 16) * panel_bytes;
  const int8_t* ap = b.a + static_cast<size_t>(m) * b.lda;
  __m512i acc[MR * NV];
#pragma GCC unroll 32
  for (int i = 0; i < MR * NV; ++i) acc[i] = _mm512_setzero_si512();
  for (int k = 0; k < Kp; k += 4) {
    __m512i bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      bv[v] = _mm512_load_si512(
          reinterpret_cast<const void*>(bp + v * panel_bytes + static_cast<size_t>(k) * 16));
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m512i av =
          _mm512_set1_epi32(*reinterpret_cast<const int32_t*>(ap + static_cast<size_t>(r) * b.lda + k));
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r * NV + v] = _mm512_dpbusd_epi32(acc[r * NV + v], av, bv[v]);
    }
  }
  // The accumulators go through L1 to the epilogue, which keeps the loop above free of register pressure.
  alignas(64) int32_t c[MR * NV * 16];
#pragma GCC unroll 32
  for (int i = 0; i < MR * NV; ++i) _mm512_store_si512(c + 16 * i, acc[i]);
  // dot = acc − 128 · Σ_k w (the activations were shifted by +128); y = dot · xscale · wscale + bias.
  for (int v = 0; v < NV; ++v) {
    const int cols = w.N - n - 16 * v;
    const __m512i shift = _mm512_slli_epi32(_mm512_load_si512(w.col_sum + n + 16 * v), 7);
    const __m512 ws = _mm512_load_ps(w.scale + n + 16 * v);
    const __m512 bias = avx512::bias16(b.ep, n + 16 * v, cols);
    for (int r = 0; r < MR; ++r) {
      const __m512 dot =
          _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_load_si512(c + 16 * (r * NV + v)), shift));
      const __m512 s = _mm512_mul_ps(_mm512_set1_ps(b.a_scale[m + r]), ws);
      avx512::store16(_mm512_fmadd_ps(dot, s, bias), b.ep,
                      b.y + static_cast<size_t>(m + r) * b.ldy + n + 16 * v, cols);
    }
  }
}

constexpr auto kTiles = make_tile_table<I8Block, Tile, kMaxRows, kMaxVecs>();

}  // namespace

void gemm_i8_avx512_vnni(const I8Block& b, int m0, int m1, int n0, int n1) {
  run_tiles<I8Block, kMaxRows, kMaxVecs>(kTiles, b, m0, m1, n0, n1);
}

}  // namespace wisp::backend::cpu
