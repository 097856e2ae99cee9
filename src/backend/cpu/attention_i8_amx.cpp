// Cross-attention over an int8 cache with AMX (head_dim 64): keys and values stored as int8 with one scale
// per position and head, read by a decoder step at half the bytes of bf16. The query (15 bits) and the
// probabilities (16 bits) are each split into a high and a low byte, multiplied in one tile product (the
// two bytes of a row in two tile rows), so the only rounding beyond the bf16 path's is the cache's own
// (attention_kernels.h).
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "backend/cpu/amx_tiles.h"
#include "backend/cpu/attention_kernels.h"
#include "backend/cpu/simd_avx512.h"

namespace wisp::backend::cpu {
namespace {

constexpr int kDh = 64;  // head_dim of the int8 layout

size_t up(size_t x, size_t m) { return (x + m - 1) / m * m; }

// x (64 floats) → 64 int8 with x ≈ q · scale; returns the scale (0 for a zero row). The scalar and the
// vector forms round alike (nearest even, the same products), so a position's bytes do not depend on which
// one wrote them.
float quantize64_scalar(const float* x, int8_t* q) {
  float amax = 0.0f;
  for (int d = 0; d < kDh; ++d) amax = std::max(amax, std::fabs(x[d]));
  const float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
  for (int d = 0; d < kDh; ++d) q[d] = static_cast<int8_t>(std::nearbyint(x[d] * inv));
  return amax / 127.0f;
}

__m512i quantize64(const float* x, float* scale) {
  __m512 v[4];
  __m512 amax = _mm512_setzero_ps();
  for (int i = 0; i < 4; ++i) {
    v[i] = _mm512_loadu_ps(x + 16 * i);
    amax = _mm512_max_ps(amax, _mm512_abs_ps(v[i]));
  }
  const float m = _mm512_reduce_max_ps(amax);
  const __m512 inv = _mm512_set1_ps(m > 0.0f ? 127.0f / m : 0.0f);
  *scale = m / 127.0f;
  __m512i out = _mm512_setzero_si512();
  for (int i = 0; i < 4; ++i)
    out = _mm512_inserti32x4(out, _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(v[i], inv))), i);
  return out;
}

// Rows r[0..16) of 16 dwords → column j of the 16 × 16 block in r[j].
__attribute__((always_inline)) inline void transpose16x16_epi32(__m512i r[16]) {
  __m512i t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
    r[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
    r[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
    r[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
  }
  for (int i = 0; i < 4; ++i) {
    t[i] = _mm512_shuffle_i32x4(r[i], r[4 + i], 0x88);
    t[4 + i] = _mm512_shuffle_i32x4(r[i], r[4 + i], 0xdd);
    t[8 + i] = _mm512_shuffle_i32x4(r[8 + i], r[12 + i], 0x88);
    t[12 + i] = _mm512_shuffle_i32x4(r[8 + i], r[12 + i], 0xdd);
  }
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm512_shuffle_i32x4(t[i], t[8 + i], 0x88);
    r[8 + i] = _mm512_shuffle_i32x4(t[i], t[8 + i], 0xdd);
    r[4 + i] = _mm512_shuffle_i32x4(t[4 + i], t[12 + i], 0x88);
    r[12 + i] = _mm512_shuffle_i32x4(t[4 + i], t[12 + i], 0xdd);
  }
}

// Sixteen rows x + i · ldx (64 floats each) → q[i], 64 int8 as quantize64 makes them (the same bytes and
// scales[i]), with the rows' maxima found together: their vectors transposed, then one max across them
// (a horizontal reduction per row waited on its own chain of shuffles).
void quantize16(const float* x, int64_t ldx, float* scales, __m512i q[16]) {
  __m512i m[16];
  for (int i = 0; i < 16; ++i) {
    const float* r = x + i * ldx;
    const __m512 a = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(r)), _mm512_abs_ps(_mm512_loadu_ps(r + 16)));
    const __m512 b =
        _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(r + 32)), _mm512_abs_ps(_mm512_loadu_ps(r + 48)));
    m[i] = _mm512_castps_si512(_mm512_max_ps(a, b));
  }
  transpose16x16_epi32(m);  // m[j]: lane j of every row's maxima
  __m512 amax = _mm512_castsi512_ps(m[0]);
  for (int j = 1; j < 16; ++j) amax = _mm512_max_ps(amax, _mm512_castsi512_ps(m[j]));
  const __mmask16 live = _mm512_cmp_ps_mask(amax, _mm512_setzero_ps(), _CMP_GT_OQ);
  const __m512 inv = _mm512_maskz_div_ps(live, _mm512_set1_ps(127.0f), amax);
  _mm512_storeu_ps(scales, _mm512_div_ps(amax, _mm512_set1_ps(127.0f)));
  for (int i = 0; i < 16; ++i) {
    const float* r = x + i * ldx;
    const __m512 s = _mm512_permutexvar_ps(_mm512_set1_epi32(i), inv);
    __m512i out = _mm512_setzero_si512();
    for (int c = 0; c < 4; ++c)
      out = _mm512_inserti32x4(
          out, _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(r + 16 * c), s))), c);
    q[i] = out;
  }
}

// Byte offsets inside one head (attention_kernels.h): keys [key/16][d/4][16][4], values [d/16][key/4][16][4].
size_t key_byte(int key, int d) {
  return ((static_cast<size_t>(key / 16) * 16 + d / 4) * 16 + key % 16) * 4 + d % 4;
}
size_t value_byte(int key, int d, int value_depth) {
  return ((static_cast<size_t>(d / 16) * (value_depth / 4) + key / 4) * 16 + d % 16) * 4 + key % 4;
}

}  // namespace

void kv_write_head_i8(const float* k, int64_t ldk, const float* v, int64_t ldv, int n, int position,
                      int value_depth, int8_t* keys, int8_t* values, float* key_scale, float* value_scale) {
  // Keys: whole panels of 16 as one 16 × 16-dword transpose (a dword = 4 dims of one key), else byte by byte.
  for (int t = 0; t < n;) {
    const int key = position + t;
    if (key % 16 == 0 && n - t >= 16) {
      __m512i r[16];
      quantize16(k + t * ldk, ldk, &key_scale[key], r);
      transpose16x16_epi32(r);
      auto* panel = reinterpret_cast<__m512i*>(keys + static_cast<size_t>(key / 16) * 16 * 64);
      for (int j = 0; j < 16; ++j) _mm512_storeu_si512(panel + j, r[j]);
      t += 16;
    } else {
      int8_t q[kDh];
      key_scale[key] = quantize64_scalar(k + t * ldk, q);
      for (int d = 0; d < kDh; ++d) keys[key_byte(key, d)] = q[d];
      ++t;
    }
  }
  // Values: four positions at a time (sixteen quantized together where they are there), interleaved byte by
  // byte within each 16-dim panel (one 128-bit lane of the quantized rows per panel), then the lanes
  // regrouped into the panels' 64-byte rows.
  auto write_four = [&](const __m512i a[4], int key) {
    const __m512i t0 = _mm512_unpacklo_epi8(a[0], a[1]), t1 = _mm512_unpackhi_epi8(a[0], a[1]);
    const __m512i t2 = _mm512_unpacklo_epi8(a[2], a[3]), t3 = _mm512_unpackhi_epi8(a[2], a[3]);
    // w_i, lane l: dims 16l + 4i .. 16l + 4i + 3 of the four positions.
    const __m512i w0 = _mm512_unpacklo_epi16(t0, t2), w1 = _mm512_unpackhi_epi16(t0, t2);
    const __m512i w2 = _mm512_unpacklo_epi16(t1, t3), w3 = _mm512_unpackhi_epi16(t1, t3);
    const __m512i u0 = _mm512_shuffle_i32x4(w0, w1, 0x44), u1 = _mm512_shuffle_i32x4(w2, w3, 0x44);
    const __m512i u2 = _mm512_shuffle_i32x4(w0, w1, 0xee), u3 = _mm512_shuffle_i32x4(w2, w3, 0xee);
    const __m512i panel[4] = {_mm512_shuffle_i32x4(u0, u1, 0x88), _mm512_shuffle_i32x4(u0, u1, 0xdd),
                              _mm512_shuffle_i32x4(u2, u3, 0x88), _mm512_shuffle_i32x4(u2, u3, 0xdd)};
    for (int p = 0; p < 4; ++p) _mm512_storeu_si512(values + value_byte(key, 16 * p, value_depth), panel[p]);
  };
  for (int t = 0; t < n;) {
    const int key = position + t;
    if (key % 16 == 0 && n - t >= 16) {
      __m512i r[16];
      quantize16(v + t * ldv, ldv, &value_scale[key], r);
      for (int g = 0; g < 16; g += 4) write_four(r + g, key + g);
      t += 16;
    } else if (key % 4 == 0 && n - t >= 4) {
      __m512i a[4];
      for (int i = 0; i < 4; ++i) a[i] = quantize64(v + (t + i) * ldv, &value_scale[key + i]);
      write_four(a, key);
      t += 4;
    } else {
      int8_t q[kDh];
      value_scale[key] = quantize64_scalar(v + t * ldv, q);
      for (int d = 0; d < kDh; ++d) values[value_byte(key, d, value_depth)] = q[d];
      ++t;
    }
  }
}

// Rows of the byte operands: query i's high bytes in row 2i and its low bytes in row 2i + 1, so that one
// tile product gives both halves of a score (or of an output) for up to 8 queries. Up to 8 queries the
// tiles have exactly 2 · rows rows; past that, blocks of 8 queries (16 rows), the last padded with zeros.
int pair_rows(int rows) {
  return rows <= 8 ? 2 * rows : static_cast<int>(up(static_cast<size_t>(rows), 8)) * 2;
}

size_t attention_i8_scratch_bytes(int rows, int L) {
  const size_t r2 = static_cast<size_t>(pair_rows(rows)), lp = up(static_cast<size_t>(L), 64);
  return r2 * kDh        // query bytes
         + r2 * lp * 4   // scores: both halves' products (the high rows become the fp32 scores)
         + r2 * lp       // probabilities' bytes
         + r2 * kDh * 4  // output: both halves' products
         + static_cast<size_t>(rows) * 4 * 2 + 256;  // query scales, output factors
}

void attention_head_i8_amx(const float* q, int64_t ldq, int rows, const int* visible, int L,
                           const int8_t* keys, const int8_t* values, const float* key_scale,
                           const float* value_scale, int value_depth, float scale, float* out, int64_t ldo,
                           float* probs, int64_t probs_ld, void* scratch) {
  const int r2 = pair_rows(rows), tile_rows = std::min(r2, 16);
  const int lp = static_cast<int>(up(static_cast<size_t>(L), 64));
  auto* qb = static_cast<int8_t*>(scratch);                                  // (r2, 64)
  auto* sc = reinterpret_cast<int32_t*>(qb + r2 * kDh);                      // (r2, lp)
  auto* pb = reinterpret_cast<uint8_t*>(sc + static_cast<size_t>(r2) * lp);  // (r2, lp)
  auto* ob = reinterpret_cast<int32_t*>(pb + static_cast<size_t>(r2) * lp);  // (r2, 64)
  auto* q_scale = reinterpret_cast<float*>(ob + r2 * kDh);
  float* o_factor = q_scale + rows;

  // Queries → 15-bit fixed point per row, q15 = 256 · hi + lo with both bytes signed (lo the low byte
  // sign-extended, |hi| ≤ 64). Padding rows are zeros.
  std::memset(qb + 2 * rows * kDh, 0, static_cast<size_t>(r2 - 2 * rows) * kDh);
  for (int i = 0; i < rows; ++i) {
    int8_t* hi = qb + 2 * i * kDh;
    int8_t* lo = hi + kDh;
    const float* x = q + i * ldq;
    __m512 v[4], amax = _mm512_setzero_ps();
    for (int c = 0; c < 4; ++c) {
      v[c] = _mm512_loadu_ps(x + 16 * c);
      amax = _mm512_max_ps(amax, _mm512_abs_ps(v[c]));
    }
    const float m = _mm512_reduce_max_ps(amax);
    const __m512 inv = _mm512_set1_ps(m > 0.0f ? 16383.0f / m : 0.0f);
    q_scale[i] = m / 16383.0f;
    for (int c = 0; c < 4; ++c) {
      const __m512i q15 = _mm512_cvtps_epi32(_mm512_mul_ps(v[c], inv));
      const __m512i l = _mm512_srai_epi32(_mm512_slli_epi32(q15, 24), 24);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(hi + 16 * c),
                       _mm512_cvtepi32_epi8(_mm512_srai_epi32(_mm512_sub_epi32(q15, l), 8)));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(lo + 16 * c), _mm512_cvtepi32_epi8(l));
    }
  }

  const int panels = (L + 15) / 16;
  const size_t ld_s = static_cast<size_t>(lp) * 4;  // bytes
  // Scores: per block of 8 queries, tile 5 their bytes, tiles 6/7 in turn a 16-key panel, tiles 0-4 the
  // products of five panels (a result tile waits for its store before it takes the next panel).
  amx_use_tiles(tile_rows);
  for (int r = 0; r < r2; r += 16) {
    _tile_loadd(5, qb + r * kDh, kDh);
    auto* row = reinterpret_cast<uint8_t*>(sc + static_cast<size_t>(r) * lp);
    for (int p = 0; p < panels; p += 5) {
      const int np = std::min(5, panels - p);
// Panel p + J into result tile J through B tile B (tile numbers must be literals).
#define WISP_SCORE_PANEL(J, B)                                      \
  if ((J) < np) {                                                   \
    _tile_loadd(B, keys + static_cast<size_t>(p + (J)) * 1024, 64); \
    _tile_zero(J);                                                  \
    _tile_dpbssd(J, 5, B);                                          \
    _tile_stored(J, row + (p + (J)) * 64, ld_s);                    \
  }
      WISP_SCORE_PANEL(0, 6)
      WISP_SCORE_PANEL(1, 7)
      WISP_SCORE_PANEL(2, 6)
      WISP_SCORE_PANEL(3, 7)
      WISP_SCORE_PANEL(4, 6)
#undef WISP_SCORE_PANEL
    }
  }

  // Softmax. t = scale · log2(e) · q·k, k's scale applied per key; P = 2^(t − max t) (≤ 1), P · v_scale in
  // 16-bit fixed point against the largest value scale, its high and low bytes in rows 2i and 2i + 1.
  const float a = scale * 1.44269504088896341f;
  for (int i = 0; i < rows; ++i) {
    const int vis = visible[i];
    float* t = reinterpret_cast<float*>(sc + static_cast<size_t>(2 * i) * lp);
    const int32_t* lo = sc + static_cast<size_t>(2 * i + 1) * lp;
    const __m512 qa = _mm512_set1_ps(q_scale[i] * a);
    __m512 mx = _mm512_set1_ps(-INFINITY), vmax = _mm512_setzero_ps();
    for (int j = 0; j < vis; j += 16) {
      const __mmask16 m = avx512::first_lanes(vis - j);
      // q15 · k exactly: |256 · hi| ≤ 256 · 64 dims · 64 · 127 < 2^28.
      const __m512i dot = _mm512_add_epi32(_mm512_slli_epi32(_mm512_maskz_loadu_epi32(m, t + j), 8),
                                           _mm512_maskz_loadu_epi32(m, lo + j));
      const __m512 x =
          _mm512_mul_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(qa, _mm512_maskz_loadu_ps(m, key_scale + j)));
      _mm512_mask_storeu_ps(t + j, m, x);
      mx = _mm512_mask_max_ps(mx, m, mx, x);
      vmax = _mm512_max_ps(vmax, _mm512_maskz_loadu_ps(m, value_scale + j));
    }
    const __m512 vmx = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
    const float vm = _mm512_reduce_max_ps(vmax);
    const __m512 to16 = _mm512_set1_ps(vm > 0.0f ? 65535.0f / vm : 0.0f);
    uint8_t* ph = pb + static_cast<size_t>(2 * i) * lp;
    uint8_t* pl = ph + lp;
    __m512 sum = _mm512_setzero_ps();
    int j = 0;
    for (; j < vis; j += 16) {
      const __mmask16 m = avx512::first_lanes(vis - j);
      const __m512 e = _mm512_maskz_mov_ps(
          m, avx512::exp2_nonpos_fast(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, t + j), vmx)));
      sum = _mm512_add_ps(sum, e);
      if (probs) _mm512_mask_storeu_ps(t + j, m, e);
      const __m512i u = _mm512_cvtps_epu32(
          _mm512_mul_ps(_mm512_mul_ps(e, _mm512_maskz_loadu_ps(m, value_scale + j)), to16));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(ph + j), _mm512_cvtepi32_epi8(_mm512_srli_epi32(u, 8)));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(pl + j),
                       _mm512_cvtepi32_epi8(_mm512_and_si512(u, _mm512_set1_epi32(255))));
    }
    for (; j < lp; j += 16) {  // zeros up to the 64-key blocks the value product reads
      _mm_storeu_si128(reinterpret_cast<__m128i*>(ph + j), _mm_setzero_si128());
      _mm_storeu_si128(reinterpret_cast<__m128i*>(pl + j), _mm_setzero_si128());
    }
    const float total = _mm512_reduce_add_ps(sum);
    const float inv_sum = total > 0.0f ? 1.0f / total : 0.0f;
    o_factor[i] = inv_sum * (vm / 65535.0f);
    if (probs) {
      float* dst = probs + i * probs_ld;
      const __m512 inv = _mm512_set1_ps(inv_sum);
      for (j = 0; j < L; j += 16) {
        const __mmask16 m = avx512::first_lanes(L - j);
        const __mmask16 live = avx512::first_lanes(std::max(0, vis - j));
        _mm512_mask_storeu_ps(dst + j, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(live, t + j), inv));
      }
    }
  }
  std::memset(pb + static_cast<size_t>(2 * rows) * lp, 0, static_cast<size_t>(r2 - 2 * rows) * lp);

  // Values: per block of 8 queries, tile 5 their probabilities' bytes for 64 keys, tiles 6/7 in turn a
  // 16-dim panel of those keys' values, tiles 0-3 the four panels' products, accumulated over the keys.
  const size_t panel = static_cast<size_t>(value_depth / 4);  // 64-byte rows per 16-dim panel
  const int blocks = lp / 64;
  for (int r = 0; r < r2; r += 16) {
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    for (int b = 0; b < blocks; ++b) {
      _tile_loadd(5, pb + static_cast<size_t>(r) * lp + b * 64, lp);
      const int8_t* vb = values + static_cast<size_t>(b) * 1024;
      _tile_loadd(6, vb, 64);
      _tile_dpbusd(0, 5, 6);
      _tile_loadd(7, vb + panel * 64, 64);
      _tile_dpbusd(1, 5, 7);
      _tile_loadd(6, vb + 2 * panel * 64, 64);
      _tile_dpbusd(2, 5, 6);
      _tile_loadd(7, vb + 3 * panel * 64, 64);
      _tile_dpbusd(3, 5, 7);
    }
    _tile_stored(0, ob + r * kDh, kDh * 4);
    _tile_stored(1, ob + r * kDh + 16, kDh * 4);
    _tile_stored(2, ob + r * kDh + 32, kDh * 4);
    _tile_stored(3, ob + r * kDh + 48, kDh * 4);
  }

  const __m512 k256 = _mm512_set1_ps(256.0f);
  for (int i = 0; i < rows; ++i) {
    const __m512 f = _mm512_set1_ps(o_factor[i]);
    for (int c = 0; c < kDh; c += 16) {
      const __m512 h = _mm512_cvtepi32_ps(_mm512_loadu_si512(ob + 2 * i * kDh + c));
      const __m512 l = _mm512_cvtepi32_ps(_mm512_loadu_si512(ob + (2 * i + 1) * kDh + c));
      _mm512_storeu_ps(out + i * ldo + c, _mm512_mul_ps(_mm512_fmadd_ps(h, k256, l), f));
    }
  }
}

}  // namespace wisp::backend::cpu
