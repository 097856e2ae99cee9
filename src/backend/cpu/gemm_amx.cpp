// int8 and bf16 GEMM with AMX. Eight tile registers of 16 rows × 64 bytes: up to 2 × 2 accumulator
// tiles (32 rows × 32 columns of int32 / fp32), two A tiles (16 rows of activations each) and two B tiles
// (one 1 KB block of a packed 16-column panel each). One tdpbssd / tdpbf16ps multiplies a 16 × 64-byte A
// tile by a B tile into an accumulator. Accumulators go through a buffer to the AVX-512 epilogue.
//
// A band of 32 rows is multiplied by every column pair of its range, its rows' operand read again for each
// pair: it stays in L1 while it is at most kDepthChunk bytes per row. A deeper product (base's fc2, 2048)
// runs in chunks of that depth, each over all the pairs, with the accumulators kept in the buffer between
// chunks (integer sums: the same result; fp32 sums: the same order).
#include <algorithm>
#include <cstdint>
#include <vector>

#include "backend/cpu/amx_tiles.h"
#include "backend/cpu/gemm_kernels.h"
#include "backend/cpu/simd_avx512.h"

namespace wisp::backend::cpu {
namespace {

constexpr int kDepthChunk = 512;  // bytes of a row's operand per chunk: 32 rows = 16 KB of L1

// MT × NT accumulator tiles (16·MT rows × 16·NT columns) over bytes [0, depth) of the rows of a and of the
// panels; the tiles start from zero (`first`) or from c, and go back to c (row stride ldc bytes).
// Kind: 0 int8, 1 bf16.
template <int Kind, int MT, int NT>
void block(const uint8_t* A, size_t lda_bytes, const uint8_t* B, size_t panel_bytes, int depth, bool first,
           uint8_t* C, size_t ldc) {
  if (first) {
    _tile_zero(0);
    if (NT > 1) _tile_zero(1);
    if (MT > 1) _tile_zero(2);
    if (MT > 1 && NT > 1) _tile_zero(3);
  } else {
    _tile_loadd(0, C, ldc);
    if (NT > 1) _tile_loadd(1, C + 64, ldc);
    if (MT > 1) _tile_loadd(2, C + 16 * ldc, ldc);
    if (MT > 1 && NT > 1) _tile_loadd(3, C + 16 * ldc + 64, ldc);
  }
  // One step: 64 bytes of depth per row (64 int8 or 32 bf16 values of k); a panel holds 16 columns of it.
  for (int k = 0; k < depth; k += 64) {
    _tile_loadd(4, A + k, lda_bytes);
    if (MT > 1) _tile_loadd(5, A + 16 * lda_bytes + k, lda_bytes);
    _tile_loadd(6, B + static_cast<size_t>(k) * 16, 64);
    if (NT > 1) _tile_loadd(7, B + panel_bytes + static_cast<size_t>(k) * 16, 64);
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
  _tile_stored(0, C, ldc);
  if (NT > 1) _tile_stored(1, C + 64, ldc);
  if (MT > 1) _tile_stored(2, C + 16 * ldc, ldc);
  if (MT > 1 && NT > 1) _tile_stored(3, C + 16 * ldc + 64, ldc);
}

using BlockFn = void (*)(const uint8_t*, size_t, const uint8_t*, size_t, int, bool, uint8_t*, size_t);

template <int Kind>
BlockFn pick(int mt, int nt) {
  if (mt == 2) return nt == 2 ? &block<Kind, 2, 2> : &block<Kind, 2, 1>;
  return nt == 2 ? &block<Kind, 1, 2> : &block<Kind, 1, 1>;
}

// Rows [m0, m1) × columns [n0, n1) of a product with row operand a (lda bytes per row, depth_bytes used)
// and packed panels (panel_bytes each), a band of 32 rows at a time; epilogue(m, rows, n, cols, sums, ld)
// writes out each column pair once its last chunk is done.
template <int Kind, typename Epilogue>
void bands(const uint8_t* a, size_t lda, const uint8_t* panels, size_t panel_bytes, int depth_bytes, int m0,
           int m1, int n0, int n1, Epilogue&& epilogue) {
  // The sums of a band: per column pair, a 32 × 32 block of 4-byte sums (4 KB, rows 128 bytes apart) that
  // the tiles store and the epilogue reads while it is in L1; a thread's own, kept between calls.
  thread_local std::vector<uint32_t> acc_buffer;
  // One block serves every pair when the depth is one chunk (each is written out at once).
  const bool chunked = depth_bytes > kDepthChunk;
  const size_t pairs = chunked ? static_cast<size_t>(n1 - n0 + 31) / 32 : 1;
  if (acc_buffer.size() < pairs * 32 * 32) acc_buffer.resize(pairs * 32 * 32);
  auto* acc = reinterpret_cast<uint8_t*>(acc_buffer.data());
  constexpr size_t ldc = 32 * 4;
  for (int m = m0; m < m1; m += 32) {
    const int mt = m1 - m > 16 ? 2 : 1;
    const uint8_t* A = a + static_cast<size_t>(m) * lda;
    for (int k = 0; k < depth_bytes; k += kDepthChunk) {
      const int depth = std::min(kDepthChunk, depth_bytes - k);
      const bool last = k + kDepthChunk >= depth_bytes;
      for (int n = n0; n < n1; n += 32) {
        const int nt = n1 - n >= 32 ? 2 : 1;
        uint8_t* sums = chunked ? acc + static_cast<size_t>(n - n0) / 32 * 32 * ldc : acc;
        pick<Kind>(mt, nt)(A + k, lda, panels + (n / 16) * panel_bytes + static_cast<size_t>(k) * 16,
                           panel_bytes, depth, k == 0, sums, ldc);
        if (last) epilogue(m, std::min(32, m1 - m), n, 16 * nt, static_cast<const void*>(sums), 32);
      }
    }
  }
}

}  // namespace

void gemm_i8_amx(const I8Block& b, int m0, int m1, int n0, int n1) {
  amx_use_tiles(std::min(m1 - m0, 16));  // tiles: C 0-3, A 4-5, B 6-7; fewer rows for a few rows
  const PackedView& w = b.w;
  const float* wscale = w.scale;
  bands<0>(reinterpret_cast<const uint8_t*>(b.a), b.lda, static_cast<const uint8_t*>(w.data), w.panel_elems(),
           w.Kp, m0, m1, n0, n1, [&](int m, int rows, int n, int ncols, const void* sums, int ld) {
             const auto* c = static_cast<const int32_t*>(sums);
             for (int j = 0; j < ncols; j += 16) {
               const int col = n + j, cols = w.N - col;
               const __m512 ws = _mm512_load_ps(wscale + col);
               const __m512 bias = avx512::bias16(b.ep, col, cols);
               for (int r = 0; r < rows; ++r) {
                 const __m512 dot = _mm512_cvtepi32_ps(_mm512_load_si512(c + r * ld + j));
                 const __m512 s = _mm512_mul_ps(_mm512_set1_ps(b.a_scale[m + r]), ws);
                 avx512::store16(_mm512_fmadd_ps(dot, s, bias), b.ep,
                                 b.y + static_cast<size_t>(m + r) * b.ldy + col, cols);
               }
             }
           });
}

void gemm_bf16_amx(const Bf16Block& b, int m0, int m1, int n0, int n1) {
  amx_use_tiles(std::min(m1 - m0, 16));  // tiles: C 0-3, A 4-5, B 6-7; fewer rows for a few rows
  const PackedView& w = b.w;
  bands<1>(reinterpret_cast<const uint8_t*>(b.a), static_cast<size_t>(b.lda) * 2,
           static_cast<const uint8_t*>(w.data), w.panel_elems() * 2, w.Kp * 2, m0, m1, n0, n1,
           [&](int m, int rows, int n, int ncols, const void* sums, int ld) {
             const auto* c = static_cast<const float*>(sums);
             for (int j = 0; j < ncols; j += 16) {
               const int col = n + j, cols = w.N - col;
               const __m512 bias = avx512::bias16(b.ep, col, cols);
               for (int r = 0; r < rows; ++r)
                 avx512::store16(_mm512_add_ps(_mm512_load_ps(c + r * ld + j), bias), b.ep,
                                 b.y + static_cast<size_t>(m + r) * b.ldy + col, cols);
             }
           });
}

}  // namespace wisp::backend::cpu
