// int8 and bf16 GEMM with AMX. Eight tile registers of 16 rows × 64 bytes: up to 2 × 2 accumulator
// tiles (32 rows × 32 columns of int32 / fp32), two A tiles (16 rows of activations each) and two B tiles
// (one 1 KB block of a packed 16-column panel each). One tdpbssd / tdpbf16ps multiplies a 16 × 64-byte A
// tile by a B tile into an accumulator. Accumulators go through a small buffer to the AVX-512 epilogue.
#include <algorithm>
#include <cstdint>

#include "backend/cpu/amx_tiles.h"
#include "backend/cpu/gemm_kernels.h"
#include "backend/cpu/simd_avx512.h"

namespace wisp::backend::cpu {
namespace {

// MT × NT accumulator tiles (16·MT rows × 16·NT columns) over the whole depth; C tiles land in c (row
// stride 32 elements). Kind: 0 int8, 1 bf16.
template <int Kind, int MT, int NT>
void block(const void* a, size_t lda_bytes, const void* panels, size_t panel_bytes, int Kp, void* c) {
  _tile_zero(0);
  if (NT > 1) _tile_zero(1);
  if (MT > 1) _tile_zero(2);
  if (MT > 1 && NT > 1) _tile_zero(3);
  const auto* A = static_cast<const uint8_t*>(a);
  const auto* B = static_cast<const uint8_t*>(panels);
  // One B tile covers 64 bytes of depth per column: 64 int8 or 32 bf16 values of k.
  const int k_step = Kind == 0 ? 64 : 32, elem = Kind == 0 ? 1 : 2;
  for (int k = 0; k < Kp; k += k_step) {
    const size_t a_off = static_cast<size_t>(k) * elem, b_off = static_cast<size_t>(k) * 16 * elem;
    _tile_loadd(4, A + a_off, lda_bytes);
    if (MT > 1) _tile_loadd(5, A + 16 * lda_bytes + a_off, lda_bytes);
    _tile_loadd(6, B + b_off, 64);
    if (NT > 1) _tile_loadd(7, B + panel_bytes + b_off, 64);
    if constexpr (Kind == 0) {
      _tile_dpbssd(0, 4, 6);
      if (NT > 1) _tile_dpbssd(1, 4, 7);
      if (MT > 1) _tile_dpbssd(2, 5, 6);
      if (MT > 1 && NT > 1) _tile_dpbssd(3, 5, 7);
    } else {
      _tile_dpbf16ps(0, 4, 6);
      if (NT > 1) _tile_dpbf16ps(1, 4, 7);
      if (MT > 1) _tile_dpbf16ps(2, 5, 6);
      if (MT > 1 && NT > 1) _tile_dpbf16ps(3, 5, 7);
    }
  }
  auto* C = static_cast<uint8_t*>(c);
  constexpr size_t kStride = 32 * 4;  // bytes per row of c
  _tile_stored(0, C, kStride);
  if (NT > 1) _tile_stored(1, C + 64, kStride);
  if (MT > 1) _tile_stored(2, C + 16 * kStride, kStride);
  if (MT > 1 && NT > 1) _tile_stored(3, C + 16 * kStride + 64, kStride);
}

template <int Kind, int MT, int NT>
void run_block(const void* a, size_t lda_bytes, const void* panels, size_t panel_bytes, int Kp, void* c) {
  block<Kind, MT, NT>(a, lda_bytes, panels, panel_bytes, Kp, c);
}

using BlockFn = void (*)(const void*, size_t, const void*, size_t, int, void*);

template <int Kind>
BlockFn pick(int mt, int nt) {
  if (mt == 2) return nt == 2 ? &run_block<Kind, 2, 2> : &run_block<Kind, 2, 1>;
  return nt == 2 ? &run_block<Kind, 1, 2> : &run_block<Kind, 1, 1>;
}

}  // namespace

void gemm_i8_amx(const I8Block& b, int m0, int m1, int n0, int n1) {
  amx_use_tiles(std::min(m1 - m0, 16));  // tiles: C 0-3, A 4-5, B 6-7; fewer rows for a few rows
  const PackedView& w = b.w;
  const size_t panel_bytes = w.panel_elems();
  alignas(64) int32_t c[32 * 32];
  const float* wscale = w.scale;
  // Rows outer: a band's activations stay in L1 while its output is written row after row.
  for (int m = m0; m < m1; m += 32) {
    const int mt = m1 - m > 16 ? 2 : 1;
    for (int n = n0; n < n1; n += 32) {
      const int nt = n1 - n >= 32 ? 2 : 1;
      pick<0>(mt, nt)(b.a + static_cast<size_t>(m) * b.lda, b.lda,
                      static_cast<const int8_t*>(w.data) + (n / 16) * panel_bytes, panel_bytes, w.Kp, c);
      for (int j = 0; j < nt; ++j) {
        const int col = n + 16 * j, cols = w.N - col;
        const __m512 ws = _mm512_load_ps(wscale + col);
        const __m512 bias = avx512::bias16(b.ep, col, cols);
        for (int r = 0; r < 16 * mt && m + r < m1; ++r) {
          const __m512 dot = _mm512_cvtepi32_ps(_mm512_load_si512(c + r * 32 + 16 * j));
          const __m512 s = _mm512_mul_ps(_mm512_set1_ps(b.a_scale[m + r]), ws);
          avx512::store16(_mm512_fmadd_ps(dot, s, bias), b.ep, b.y + static_cast<size_t>(m + r) * b.ldy + col,
                          cols);
        }
      }
    }
  }
}

void gemm_bf16_amx(const Bf16Block& b, int m0, int m1, int n0, int n1) {
  amx_use_tiles(std::min(m1 - m0, 16));  // tiles: C 0-3, A 4-5, B 6-7; fewer rows for a few rows
  const PackedView& w = b.w;
  const size_t panel_bytes = w.panel_elems() * 2;
  alignas(64) float c[32 * 32];
  for (int m = m0; m < m1; m += 32) {
    const int mt = m1 - m > 16 ? 2 : 1;
    for (int n = n0; n < n1; n += 32) {
      const int nt = n1 - n >= 32 ? 2 : 1;
      pick<1>(mt, nt)(
          b.a + static_cast<size_t>(m) * b.lda, static_cast<size_t>(b.lda) * 2,
          reinterpret_cast<const uint8_t*>(static_cast<const uint16_t*>(w.data)) + (n / 16) * panel_bytes,
          panel_bytes, w.Kp, c);
      for (int j = 0; j < nt; ++j) {
        const int col = n + 16 * j, cols = w.N - col;
        const __m512 bias = avx512::bias16(b.ep, col, cols);
        for (int r = 0; r < 16 * mt && m + r < m1; ++r)
          avx512::store16(_mm512_add_ps(_mm512_load_ps(c + r * 32 + 16 * j), bias), b.ep,
                          b.y + static_cast<size_t>(m + r) * b.ldy + col, cols);
      }
    }
  }
}

}  // namespace wisp::backend::cpu
