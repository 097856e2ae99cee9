// Cross-attention over an int8 cache with AMX (head_dim 64): keys and values stored as int8 with one scale
// per position and head, read by a decoder step at half the bytes of bf16. The query (15 bits) and the
// probabilities (16 bits) are each split into a high and a low byte and multiplied in two byte products,
// so the only rounding beyond the bf16 path's is the cache's own (attention_kernels.h). Keys are stored
// offset by 128 (unsigned) so that the one-row kernel can use AVX-512 VNNI (unsigned × signed bytes) with
// the query as the signed operand; the offset comes back out as 128 · Σ query per row.
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

// Byte offsets inside one head (attention_kernels.h): keys [key/16][d/4][16][4], values [d/16][key/4][16][4].
size_t key_byte(int key, int d) {
  return ((static_cast<size_t>(key / 16) * 16 + d / 4) * 16 + key % 16) * 4 + d % 4;
}
size_t value_byte(int key, int d, int value_depth) {
  return ((static_cast<size_t>(d / 16) * (value_depth / 4) + key / 4) * 16 + d % 16) * 4 + key % 4;
}

}  // namespace

void kv_write_head_i8(const float* k, int64_t ldk, const float* v, int64_t ldv, int n, int position,
                      int value_depth, uint8_t* keys, int8_t* values, float* key_scale, float* value_scale) {
  // Keys: whole panels of 16 as one 16 × 16-dword transpose (a dword = 4 dims of one key), else byte by byte.
  for (int t = 0; t < n;) {
    const int key = position + t;
    if (key % 16 == 0 && n - t >= 16) {
      __m512i r[16];
      for (int i = 0; i < 16; ++i)
        r[i] = _mm512_xor_si512(quantize64(k + (t + i) * ldk, &key_scale[key + i]), _mm512_set1_epi8(-128));
      transpose16x16_epi32(r);
      auto* panel = reinterpret_cast<__m512i*>(keys + static_cast<size_t>(key / 16) * 16 * 64);
      for (int j = 0; j < 16; ++j) _mm512_storeu_si512(panel + j, r[j]);
      t += 16;
    } else {
      int8_t q[kDh];
      key_scale[key] = quantize64_scalar(k + t * ldk, q);
      for (int d = 0; d < kDh; ++d) keys[key_byte(key, d)] = static_cast<uint8_t>(q[d] + 128);
      ++t;
    }
  }
  // Values: four positions at a time, interleaved byte by byte within each 16-dim panel (one 128-bit lane of
  // the quantized rows per panel), then the lanes regrouped into the panels' 64-byte rows.
  for (int t = 0; t < n;) {
    const int key = position + t;
    if (key % 4 == 0 && n - t >= 4) {
      __m512i a[4];
      for (int i = 0; i < 4; ++i) a[i] = quantize64(v + (t + i) * ldv, &value_scale[key + i]);
      const __m512i t0 = _mm512_unpacklo_epi8(a[0], a[1]), t1 = _mm512_unpackhi_epi8(a[0], a[1]);
      const __m512i t2 = _mm512_unpacklo_epi8(a[2], a[3]), t3 = _mm512_unpackhi_epi8(a[2], a[3]);
      // w_i, lane l: dims 16l + 4i .. 16l + 4i + 3 of the four positions.
      const __m512i w0 = _mm512_unpacklo_epi16(t0, t2), w1 = _mm512_unpackhi_epi16(t0, t2);
      const __m512i w2 = _mm512_unpacklo_epi16(t1, t3), w3 = _mm512_unpackhi_epi16(t1, t3);
      const __m512i u0 = _mm512_shuffle_i32x4(w0, w1, 0x44), u1 = _mm512_shuffle_i32x4(w2, w3, 0x44);
      const __m512i u2 = _mm512_shuffle_i32x4(w0, w1, 0xee), u3 = _mm512_shuffle_i32x4(w2, w3, 0xee);
      const __m512i panel[4] = {_mm512_shuffle_i32x4(u0, u1, 0x88), _mm512_shuffle_i32x4(u0, u1, 0xdd),
                                _mm512_shuffle_i32x4(u2, u3, 0x88), _mm512_shuffle_i32x4(u2, u3, 0xdd)};
      for (int p = 0; p < 4; ++p)
        _mm512_storeu_si512(values + value_byte(key, 16 * p, value_depth), panel[p]);
      t += 4;
    } else {
      int8_t q[kDh];
      value_scale[key] = quantize64_scalar(v + t * ldv, q);
      for (int d = 0; d < kDh; ++d) values[value_byte(key, d, value_depth)] = q[d];
      ++t;
    }
  }
}

size_t attention_i8_scratch_bytes(int rows, int L) {
  const size_t rp = up(static_cast<size_t>(rows), 16), lp = up(static_cast<size_t>(L), 64);
  return rp * kDh * 2         // query, high and low bytes
         + rp * lp * 4 * 2    // scores: high and low products (the high ones become the fp32 scores)
         + rp * lp * 2        // probabilities, high and low bytes
         + rp * kDh * 4 * 2   // output: high and low products
         + rp * 4 * 3 + 256;  // query scales, output factors, offsets
}

void attention_head_i8_amx(const float* q, int64_t ldq, int rows, const int* visible, int L,
                           const uint8_t* keys, const int8_t* values, const float* key_scale,
                           const float* value_scale, int value_depth, float scale, float* out, int64_t ldo,
                           float* probs, int64_t probs_ld, void* scratch) {
  // Up to 16 rows the tiles have exactly `rows` rows; past that whole tiles of 16, the last padded with
  // zeros.
  const int rp = rows <= 16 ? rows : static_cast<int>(up(static_cast<size_t>(rows), 16));
  const int lp = static_cast<int>(up(static_cast<size_t>(L), 64));
  auto* q_hi = static_cast<int8_t*>(scratch);
  int8_t* q_lo = q_hi + rp * kDh;
  auto* s_hi = reinterpret_cast<int32_t*>(q_lo + rp * kDh);
  int32_t* s_lo = s_hi + static_cast<size_t>(rp) * lp;
  auto* p_hi = reinterpret_cast<uint8_t*>(s_lo + static_cast<size_t>(rp) * lp);
  uint8_t* p_lo = p_hi + static_cast<size_t>(rp) * lp;
  auto* o_hi = reinterpret_cast<int32_t*>(p_lo + static_cast<size_t>(rp) * lp);
  int32_t* o_lo = o_hi + rp * kDh;
  auto* q_scale = reinterpret_cast<float*>(o_lo + rp * kDh);
  float* o_factor = q_scale + rp;
  int32_t* offset = reinterpret_cast<int32_t*>(o_factor + rp);  // 128 · Σ q15 of each row

  // Query rows → 15-bit fixed point per row, q15 = 256 · hi + lo with both bytes signed (lo the low byte
  // sign-extended, |hi| ≤ 64). Rows past `rows` up to the tile's 16 are zeros.
  for (int i = 0; i < rp; ++i) {
    int8_t* hi = q_hi + i * kDh;
    int8_t* lo = q_lo + i * kDh;
    offset[i] = 0;
    if (i >= rows) {
      std::memset(hi, 0, kDh);
      std::memset(lo, 0, kDh);
      continue;
    }
    const float* x = q + i * ldq;
    __m512 v[4], amax = _mm512_setzero_ps();
    for (int c = 0; c < 4; ++c) {
      v[c] = _mm512_loadu_ps(x + 16 * c);
      amax = _mm512_max_ps(amax, _mm512_abs_ps(v[c]));
    }
    const float m = _mm512_reduce_max_ps(amax);
    const __m512 inv = _mm512_set1_ps(m > 0.0f ? 16383.0f / m : 0.0f);
    q_scale[i] = m / 16383.0f;
    __m512i sum = _mm512_setzero_si512();
    for (int c = 0; c < 4; ++c) {
      const __m512i q15 = _mm512_cvtps_epi32(_mm512_mul_ps(v[c], inv));
      const __m512i l = _mm512_srai_epi32(_mm512_slli_epi32(q15, 24), 24);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(hi + 16 * c),
                       _mm512_cvtepi32_epi8(_mm512_srai_epi32(_mm512_sub_epi32(q15, l), 8)));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(lo + 16 * c), _mm512_cvtepi32_epi8(l));
      sum = _mm512_add_epi32(sum, q15);
    }
    offset[i] = 128 * _mm512_reduce_add_epi32(sum);
  }

  const int panels = (L + 15) / 16;
  const size_t ld_s = static_cast<size_t>(lp) * 4;  // bytes
  // The cache streams in from memory (a decoder step reads every window's): a tile load waits for its
  // lines, and the tiles' dependencies leave few loads in flight, so the lines are prefetched: keys 4 KB
  // ahead into L1, and meanwhile this head's values into L2 at the same pace.
  const char* key_end = reinterpret_cast<const char*>(keys) + static_cast<size_t>(panels) * 1024;
  const size_t value_panel = static_cast<size_t>(value_depth / 4) * 64,
               value_used = static_cast<size_t>(lp) * 16;
  int value_panel_ahead =
      0;  // the next value line to prefetch: this panel (of 4), this byte in its used part
  size_t value_ahead = 0;
  // Scores. One row (greedy decoding): AVX-512 VNNI, four 16-key panels at a time, all eight sums in flight
  // (AMX would wait on each 16-key result tile's store). More rows: tiles 4/5 the query's high/low bytes,
  // 6/7 two 16-key panels, 0-3 their four products.
  if (rows == 1) {
    const auto* qh = reinterpret_cast<const int32_t*>(q_hi);
    const auto* ql = reinterpret_cast<const int32_t*>(q_lo);
    const auto* kp = reinterpret_cast<const __m512i*>(keys);
    for (int p = 0; p < panels; p += 4) {
      const int np = std::min(4, panels - p);
      const char* ahead = reinterpret_cast<const char*>(kp + (p + 8) * 16);
      for (int l = 0; l < 64 && ahead + l * 64 < key_end; ++l) _mm_prefetch(ahead + l * 64, _MM_HINT_T0);
      __m512i hi[4], lo[4];
      for (int i = 0; i < 4; ++i) hi[i] = lo[i] = _mm512_setzero_si512();
      for (int g = 0; g < 16; ++g) {
        const __m512i bh = _mm512_set1_epi32(qh[g]), bl = _mm512_set1_epi32(ql[g]);
        for (int i = 0; i < np; ++i) {
          const __m512i z = _mm512_loadu_si512(kp + (p + i) * 16 + g);
          hi[i] = _mm512_dpbusd_epi32(hi[i], z, bh);
          lo[i] = _mm512_dpbusd_epi32(lo[i], z, bl);
        }
      }
      for (int i = 0; i < np; ++i) {
        _mm512_storeu_si512(s_hi + (p + i) * 16, hi[i]);
        _mm512_storeu_si512(s_lo + (p + i) * 16, lo[i]);
      }
    }
  } else {
    amx_use_tiles(std::min(rows, 16));
  }
  for (int r = 0; r < (rows == 1 ? 0 : rp); r += 16) {
    _tile_loadd(4, q_hi + r * kDh, kDh);
    _tile_loadd(5, q_lo + r * kDh, kDh);
    auto* hi_row = reinterpret_cast<uint8_t*>(s_hi + static_cast<size_t>(r) * lp);
    auto* lo_row = reinterpret_cast<uint8_t*>(s_lo + static_cast<size_t>(r) * lp);
    for (int p = 0; p < panels; p += 2) {
      const char* ahead = reinterpret_cast<const char*>(keys) + static_cast<size_t>(p + 4) * 1024;
      for (int l = 0; l < 32 && ahead + l * 64 < key_end; ++l) _mm_prefetch(ahead + l * 64, _MM_HINT_T0);
      for (int l = 0; l < 32 && value_panel_ahead < 4; ++l) {
        _mm_prefetch(reinterpret_cast<const char*>(values) + value_panel_ahead * value_panel + value_ahead,
                     _MM_HINT_T1);
        if ((value_ahead += 64) == value_used) {
          value_ahead = 0;
          ++value_panel_ahead;
        }
      }
      _tile_loadd(6, keys + static_cast<size_t>(p) * 1024, 64);
      _tile_zero(0);
      _tile_zero(1);
      _tile_dpbsud(0, 4, 6);
      _tile_dpbsud(1, 5, 6);
      if (p + 1 < panels) {
        _tile_loadd(7, keys + static_cast<size_t>(p + 1) * 1024, 64);
        _tile_zero(2);
        _tile_zero(3);
        _tile_dpbsud(2, 4, 7);
        _tile_dpbsud(3, 5, 7);
        _tile_stored(2, hi_row + (p + 1) * 64, ld_s);
        _tile_stored(3, lo_row + (p + 1) * 64, ld_s);
      }
      _tile_stored(0, hi_row + p * 64, ld_s);
      _tile_stored(1, lo_row + p * 64, ld_s);
    }
  }

  // Softmax. t = scale · log2(e) · q·k, k's scale applied per key; P = 2^(t − max t) (≤ 1), P · v_scale in
  // 16-bit fixed point against the largest value scale, split into high and low bytes like the query.
  const float a = scale * 1.44269504088896341f;
  for (int i = 0; i < rows; ++i) {
    const int vis = visible[i];
    float* t = reinterpret_cast<float*>(s_hi + static_cast<size_t>(i) * lp);
    const int32_t* lo = s_lo + static_cast<size_t>(i) * lp;
    const __m512 qa = _mm512_set1_ps(q_scale[i] * a);
    const __m512i off = _mm512_set1_epi32(offset[i]);
    __m512 mx = _mm512_set1_ps(-INFINITY), vmax = _mm512_setzero_ps();
    for (int j = 0; j < vis; j += 16) {
      const __mmask16 m = avx512::first_lanes(vis - j);
      // q15 · k exactly: |256 · hi| < 2^28 (64 dims × 64 × 255), the sum and the offset < 2^31.
      const __m512i dot =
          _mm512_sub_epi32(_mm512_add_epi32(_mm512_slli_epi32(_mm512_maskz_loadu_epi32(m, t + j), 8),
                                            _mm512_maskz_loadu_epi32(m, lo + j)),
                           off);
      const __m512 x =
          _mm512_mul_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(qa, _mm512_maskz_loadu_ps(m, key_scale + j)));
      _mm512_mask_storeu_ps(t + j, m, x);
      mx = _mm512_mask_max_ps(mx, m, mx, x);
      vmax = _mm512_max_ps(vmax, _mm512_maskz_loadu_ps(m, value_scale + j));
    }
    const __m512 vmx = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
    const float vm = _mm512_reduce_max_ps(vmax);
    const __m512 to16 = _mm512_set1_ps(vm > 0.0f ? 65535.0f / vm : 0.0f);
    uint8_t* ph = p_hi + static_cast<size_t>(i) * lp;
    uint8_t* pl = p_lo + static_cast<size_t>(i) * lp;
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
  for (int i = rows; i < rp; ++i) {  // padded rows of the last tile: zero probabilities
    std::memset(p_hi + static_cast<size_t>(i) * lp, 0, lp);
    std::memset(p_lo + static_cast<size_t>(i) * lp, 0, lp);
  }

  // Values: tiles 4/5 the probabilities' high/low bytes for 64 keys, 6/7 two 16-dim panels of those keys,
  // 0-3 the four products, accumulated over the keys; two passes for the four panels of 64 dims.
  const int blocks = lp / 64;
  if (rows == 1) {  // four positions at a time into all four 16-dim panels (eight sums in flight)
    const auto* ph = reinterpret_cast<const int32_t*>(p_hi);
    const auto* pl = reinterpret_cast<const int32_t*>(p_lo);
    const size_t panel = static_cast<size_t>(value_depth / 4);  // 64-byte rows per 16-dim panel
    const auto* vp = reinterpret_cast<const __m512i*>(values);
    __m512i hi[4], lo[4];
    for (int i = 0; i < 4; ++i) hi[i] = lo[i] = _mm512_setzero_si512();
    const int groups = (visible[0] + 3) / 4;
    for (int g = 0; g < groups; ++g) {
      if (g % 16 == 0 && g + 32 < groups)
        for (int d = 0; d < 4; ++d)
          for (int l = 0; l < 16; ++l)
            _mm_prefetch(reinterpret_cast<const char*>(vp + d * panel + g + 32 + l), _MM_HINT_T0);
      const __m512i bh = _mm512_set1_epi32(ph[g]), bl = _mm512_set1_epi32(pl[g]);
      for (int d = 0; d < 4; ++d) {
        const __m512i z = _mm512_loadu_si512(vp + d * panel + g);
        hi[d] = _mm512_dpbusd_epi32(hi[d], bh, z);
        lo[d] = _mm512_dpbusd_epi32(lo[d], bl, z);
      }
    }
    for (int d = 0; d < 4; ++d) {
      _mm512_storeu_si512(o_hi + d * 16, hi[d]);
      _mm512_storeu_si512(o_lo + d * 16, lo[d]);
    }
  }
  for (int r = 0; r < (rows == 1 ? 0 : rp); r += 16) {
    for (int dp = 0; dp < 4; dp += 2) {
      _tile_zero(0);
      _tile_zero(1);
      _tile_zero(2);
      _tile_zero(3);
      const int8_t* v0 = values + static_cast<size_t>(dp) * (value_depth / 4) * 64;
      const int8_t* v1 = v0 + static_cast<size_t>(value_depth / 4) * 64;
      for (int b = 0; b < blocks; ++b) {
        if (b + 2 < blocks)
          for (int l = 0; l < 16; ++l) {
            _mm_prefetch(reinterpret_cast<const char*>(v0) + (b + 2) * 1024 + l * 64, _MM_HINT_T0);
            _mm_prefetch(reinterpret_cast<const char*>(v1) + (b + 2) * 1024 + l * 64, _MM_HINT_T0);
          }
        _tile_loadd(4, p_hi + static_cast<size_t>(r) * lp + b * 64, lp);
        _tile_loadd(5, p_lo + static_cast<size_t>(r) * lp + b * 64, lp);
        _tile_loadd(6, v0 + static_cast<size_t>(b) * 1024, 64);
        _tile_loadd(7, v1 + static_cast<size_t>(b) * 1024, 64);
        _tile_dpbusd(0, 4, 6);
        _tile_dpbusd(1, 5, 6);
        _tile_dpbusd(2, 4, 7);
        _tile_dpbusd(3, 5, 7);
      }
      _tile_stored(0, o_hi + r * kDh + dp * 16, kDh * 4);
      _tile_stored(1, o_lo + r * kDh + dp * 16, kDh * 4);
      _tile_stored(2, o_hi + r * kDh + (dp + 1) * 16, kDh * 4);
      _tile_stored(3, o_lo + r * kDh + (dp + 1) * 16, kDh * 4);
    }
  }
  const __m512 k256 = _mm512_set1_ps(256.0f);
  for (int i = 0; i < rows; ++i) {
    const __m512 f = _mm512_set1_ps(o_factor[i]);
    for (int c = 0; c < kDh; c += 16) {
      const __m512 h = _mm512_cvtepi32_ps(_mm512_loadu_si512(o_hi + i * kDh + c));
      const __m512 l = _mm512_cvtepi32_ps(_mm512_loadu_si512(o_lo + i * kDh + c));
      _mm512_storeu_ps(out + i * ldo + c, _mm512_mul_ps(_mm512_fmadd_ps(h, k256, l), f));
    }
  }
}

}  // namespace wisp::backend::cpu
