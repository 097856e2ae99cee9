// Attention scores with AMX for head_dim 64: the query block stays in four tiles (32 rows × 2 halves of
// the head dimension) while the keys stream past one 16-key panel (two B tiles) at a time; each pair of
// accumulator tiles is stored straight into the score rows — or, fused with the softmax, into a chunk of
// 128 keys in L1 that AVX-512 turns into bf16 probabilities while the tiles multiply the next chunk.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "backend/cpu/amx_tiles.h"
#include "backend/cpu/attention_kernels.h"
#include "backend/cpu/simd_avx512.h"

namespace wisp::backend::cpu {
void scores_amx_d64(const uint16_t* q, int ldq, int rows, const uint16_t* keys, int L, float* S, int ld_s) {
  amx_use_tiles(std::min(rows, 16));                     // a decoder step's few rows: tiles of that many rows
  const size_t q_stride = static_cast<size_t>(ldq) * 2;  // bytes
  const size_t s_stride = static_cast<size_t>(ld_s) * 4;
  const int panels = (L + 15) / 16;
  for (int r = 0; r < rows; r += 32) {
    const bool two = rows - r > 16;
    // Tiles 2-5: query rows [r, r+16) and [r+16, r+32), dims [0, 32) and [32, 64).
    const uint16_t* qr = q + static_cast<size_t>(r) * ldq;
    _tile_loadd(2, qr, q_stride);
    _tile_loadd(3, qr + 32, q_stride);
    if (two) {
      _tile_loadd(4, qr + static_cast<size_t>(16) * ldq, q_stride);
      _tile_loadd(5, qr + static_cast<size_t>(16) * ldq + 32, q_stride);
    }
    auto* out = reinterpret_cast<uint8_t*>(S + static_cast<size_t>(r) * ld_s);
    for (int p = 0; p < panels; ++p) {
      const uint16_t* panel = keys + static_cast<size_t>(p) * 64 * 16;  // 32 pairs × 16 keys × 2
      _tile_loadd(6, panel, 64);                                        // pairs 0-15: dims 0-31
      _tile_loadd(7, panel + 16 * 32, 64);                              // pairs 16-31: dims 32-63
      _tile_zero(0);
      _tile_dpbf16ps(0, 2, 6);
      _tile_dpbf16ps(0, 3, 7);
      _tile_stored(0, out + p * 64, s_stride);
      if (two) {
        _tile_zero(1);
        _tile_dpbf16ps(1, 4, 6);
        _tile_dpbf16ps(1, 5, 7);
        _tile_stored(1, out + 16 * s_stride + p * 64, s_stride);
      }
    }
  }
}

bool scores_softmax_amx_d64(const uint16_t* q, int ldq, int rows, const uint16_t* keys, int L,
                            const int* visible, float scale, uint16_t* P, int ld_p, float* inv_sum,
                            float* scratch) {
  amx_use_tiles(std::min(rows, 16));
  const size_t q_stride = static_cast<size_t>(ldq) * 2;  // bytes
  constexpr int kChunk = kScoresChunk;                   // eight panels
  constexpr size_t kStageStride = kChunk * 4;            // bytes per row of a chunk's scores
  constexpr size_t kStageFloats = 32 * kChunk;           // a chunk of a 32-row group: 16 KB
  const int panels = (L + 15) / 16, chunks = (panels + kChunk / 16 - 1) / (kChunk / 16);
  const __m512 va = _mm512_set1_ps(scale * 1.44269504088896341f);  // 2^(s · a) = exp(scale · s)
  float* stage[2] = {scratch, scratch + kStageFloats};
  // Per row, the four running sums of softmax_rows_to_bf16 (the same vectors added in the same order, so
  // the same probabilities and sums to the bit).
  float* sums = scratch + 2 * kStageFloats;
  for (int r = 0; r < rows; r += 32) {
    const bool two = rows - r > 16;
    const int group = std::min(32, rows - r);
    const uint16_t* qr = q + static_cast<size_t>(r) * ldq;
    _tile_loadd(2, qr, q_stride);
    _tile_loadd(3, qr + 32, q_stride);
    if (two) {
      _tile_loadd(4, qr + static_cast<size_t>(16) * ldq, q_stride);
      _tile_loadd(5, qr + static_cast<size_t>(16) * ldq + 32, q_stride);
    }
    std::fill(sums, sums + static_cast<size_t>(group) * 64, 0.0f);
    // Chunk c's scores (rows of the group × keys [128c, 128c + 128)) into stage[c % 2]; panels past L are
    // not there (nor read: their keys are masked).
    auto scores = [&](int c) {
      auto* out = reinterpret_cast<uint8_t*>(stage[c % 2]);
      for (int p = c * kChunk / 16; p < std::min(panels, (c + 1) * kChunk / 16); ++p) {
        const uint16_t* panel = keys + static_cast<size_t>(p) * 64 * 16;
        _tile_loadd(6, panel, 64);
        _tile_loadd(7, panel + 16 * 32, 64);
        _tile_zero(0);
        _tile_dpbf16ps(0, 2, 6);
        _tile_dpbf16ps(0, 3, 7);
        _tile_stored(0, out + (p - c * kChunk / 16) * 64, kStageStride);
        if (two) {
          _tile_zero(1);
          _tile_dpbf16ps(1, 4, 6);
          _tile_dpbf16ps(1, 5, 7);
          _tile_stored(1, out + 16 * kStageStride + (p - c * kChunk / 16) * 64, kStageStride);
        }
      }
    };
    // Chunk c's probabilities: P = 2^(s · a) as bf16, masked past each row's visible keys, up to ld_p.
    auto softmax = [&](int c) {
      const float* st = stage[c % 2];
      const int k0 = c * kChunk, width = std::min(kChunk, ld_p - k0);
      for (int i = 0; i < group; ++i) {
        const int vis = visible[r + i], full = vis / 16 * 16;
        const float* s = st + static_cast<size_t>(i) * kChunk;
        uint16_t* p = P + static_cast<size_t>(r + i) * ld_p + k0;
        float* acc = sums + static_cast<size_t>(i) * 64;
        if (k0 + kChunk <= full) {  // every key visible (nearly every chunk): no masks, the sums held
          __m512 a0 = _mm512_loadu_ps(acc), a1 = _mm512_loadu_ps(acc + 16), a2 = _mm512_loadu_ps(acc + 32),
                 a3 = _mm512_loadu_ps(acc + 48);
          for (int v = 0; v < kChunk / 16; v += 4) {
            const __m512 e0 = avx512::exp2_bf16(_mm512_mul_ps(_mm512_loadu_ps(s + 16 * v), va));
            const __m512 e1 = avx512::exp2_bf16(_mm512_mul_ps(_mm512_loadu_ps(s + 16 * v + 16), va));
            const __m512 e2 = avx512::exp2_bf16(_mm512_mul_ps(_mm512_loadu_ps(s + 16 * v + 32), va));
            const __m512 e3 = avx512::exp2_bf16(_mm512_mul_ps(_mm512_loadu_ps(s + 16 * v + 48), va));
            _mm512_storeu_si512(p + 16 * v, (__m512i)_mm512_cvtne2ps_pbh(e1, e0));
            _mm512_storeu_si512(p + 16 * v + 32, (__m512i)_mm512_cvtne2ps_pbh(e3, e2));
            a0 = _mm512_add_ps(a0, e0);
            a1 = _mm512_add_ps(a1, e1);
            a2 = _mm512_add_ps(a2, e2);
            a3 = _mm512_add_ps(a3, e3);
          }
          _mm512_storeu_ps(acc, a0);
          _mm512_storeu_ps(acc + 16, a1);
          _mm512_storeu_ps(acc + 32, a2);
          _mm512_storeu_ps(acc + 48, a3);
          continue;
        }
        __m512 e[kChunk / 16];
        for (int v = 0; v < width / 16; ++v) {
          const int j = k0 + 16 * v;
          e[v] = _mm512_maskz_mov_ps(avx512::first_lanes(vis - j),
                                     avx512::exp2_bf16(_mm512_mul_ps(_mm512_loadu_ps(s + 16 * v), va)));
        }
        for (int v = 0; v < width / 16; v += 2)
          _mm512_storeu_si512(p + 16 * v, (__m512i)_mm512_cvtne2ps_pbh(e[v + 1], e[v]));
        // The sums as softmax_rows_to_bf16 adds them: a whole 64 below `full` one vector into each, then
        // whole vectors into the first and the partial one into the second.
        for (int v0 = 0; v0 < width / 16; v0 += 4) {
          if (k0 + 16 * v0 + 64 <= full) {
            for (int v = 0; v < 4; ++v)
              _mm512_storeu_ps(acc + 16 * v, _mm512_add_ps(_mm512_loadu_ps(acc + 16 * v), e[v0 + v]));
            continue;
          }
          for (int v = v0; v < std::min(v0 + 4, width / 16); ++v) {
            const int j = k0 + 16 * v;
            float* sum = j < full ? acc : j < vis ? acc + 16 : nullptr;
            if (sum) _mm512_storeu_ps(sum, _mm512_add_ps(_mm512_loadu_ps(sum), e[v]));
          }
        }
      }
    };
    scores(0);
    for (int c = 0; c < chunks; ++c) {
      if (c + 1 < chunks) scores(c + 1);  // the tiles multiply while the vector units exponentiate
      softmax(c);
    }
    for (int i = 0; i < group; ++i) {
      const float* acc = sums + static_cast<size_t>(i) * 64;
      const float sum = _mm512_reduce_add_ps(
          _mm512_add_ps(_mm512_add_ps(_mm512_loadu_ps(acc), _mm512_loadu_ps(acc + 16)),
                        _mm512_add_ps(_mm512_loadu_ps(acc + 32), _mm512_loadu_ps(acc + 48))));
      if (!(sum >= 0x1p-60f && sum <= 0x1p100f)) return false;
      inv_sum[r + i] = 1.0f / sum;
    }
  }
  return true;
}

}  // namespace wisp::backend::cpu
