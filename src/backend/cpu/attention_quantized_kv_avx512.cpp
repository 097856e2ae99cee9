// The int8 and int4 cross-attention caches' writes (attention_kernels.h): one scale per position and head;
// int8 keys offset by 128 (unsigned bytes), values as signed bytes, in the layouts the AMX and VNNI kernels
// read; int4 keys and values offset by 8, two of those bytes' nibbles to a byte. AVX-512 F/BW/DQ only, so a
// CPU with any of the kernels runs them.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "backend/cpu/attention_i8.h"
#include "backend/cpu/attention_kernels.h"

namespace wisp::backend::cpu {
namespace {

constexpr int kDh = i8attn::kDh;

// x (64 floats) → 64 integers |q| ≤ levels (127: int8, 7: int4) with x ≈ q · scale; returns the scale (0 for
// a zero row). The scalar and the vector forms round alike (nearest even, the same products), so a
// position's bytes do not depend on which one wrote them.
float quantize64_scalar(const float* x, float levels, int8_t* q) {
  float amax = 0.0f;
  for (int d = 0; d < kDh; ++d) amax = std::max(amax, std::fabs(x[d]));
  const float inv = amax > 0.0f ? levels / amax : 0.0f;
  for (int d = 0; d < kDh; ++d) q[d] = static_cast<int8_t>(std::nearbyint(x[d] * inv));
  return amax / levels;
}

// x0..x3 (16 products each, |x| ≤ 127) rounded to 64 int8 in order. (The lane of an insert must be a literal:
// a loop index is one only once the loop is unrolled, which builds without optimisation do not do.)
__m512i round_to_bytes(__m512 x0, __m512 x1, __m512 x2, __m512 x3) {
  __m512i out = _mm512_castsi128_si512(_mm512_cvtepi32_epi8(_mm512_cvtps_epi32(x0)));
  out = _mm512_inserti32x4(out, _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(x1)), 1);
  out = _mm512_inserti32x4(out, _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(x2)), 2);
  return _mm512_inserti32x4(out, _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(x3)), 3);
}

// Sixteen rows x + i · ldx (64 floats each) → q[i], 64 bytes as quantize64_scalar makes them (the same bytes
// and scales[i]), with the rows' maxima found together: their vectors transposed, then one max across them
// (a horizontal reduction per row waited on its own chain of shuffles).
void quantize16(const float* x, int64_t ldx, float levels, float* scales, __m512i q[16]) {
  __m512i m[16];
  for (int i = 0; i < 16; ++i) {
    const float* r = x + i * ldx;
    const __m512 a = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(r)), _mm512_abs_ps(_mm512_loadu_ps(r + 16)));
    const __m512 b =
        _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(r + 32)), _mm512_abs_ps(_mm512_loadu_ps(r + 48)));
    m[i] = _mm512_castps_si512(_mm512_max_ps(a, b));
  }
  avx512::transpose16x16_epi32(m);  // m[j]: lane j of every row's maxima
  __m512 amax = _mm512_castsi512_ps(m[0]);
  for (int j = 1; j < 16; ++j) amax = _mm512_max_ps(amax, _mm512_castsi512_ps(m[j]));
  const __mmask16 live = _mm512_cmp_ps_mask(amax, _mm512_setzero_ps(), _CMP_GT_OQ);
  const __m512 inv = _mm512_maskz_div_ps(live, _mm512_set1_ps(levels), amax);
  _mm512_storeu_ps(scales, _mm512_div_ps(amax, _mm512_set1_ps(levels)));
  for (int i = 0; i < 16; ++i) {
    const float* r = x + i * ldx;
    const __m512 s = _mm512_permutexvar_ps(_mm512_set1_epi32(i), inv);
    q[i] =
        round_to_bytes(_mm512_mul_ps(_mm512_loadu_ps(r), s), _mm512_mul_ps(_mm512_loadu_ps(r + 16), s),
                       _mm512_mul_ps(_mm512_loadu_ps(r + 32), s), _mm512_mul_ps(_mm512_loadu_ps(r + 48), s));
  }
}

// Byte offsets inside one head (attention_kernels.h): keys [key/16][d/4][16][4], values [d/16][key/4][16][4].
size_t key_byte(int key, int d) {
  return ((static_cast<size_t>(key / 16) * 16 + d / 4) * 16 + key % 16) * 4 + d % 4;
}
size_t value_byte(int key, int d, int value_depth) {
  return ((static_cast<size_t>(d / 16) * (value_depth / 4) + key / 4) * 16 + d % 16) * 4 + key % 4;
}

// Four positions' quantized rows a[0..3] (64 bytes each) → their row of each 16-dim value panel: interleaved
// byte by byte within each panel (one 128-bit lane of the rows per panel), then the lanes regrouped into the
// panels' 64-byte rows (16 dims × 4 positions).
void interleave_four(const __m512i a[4], __m512i panel[4]) {
  const __m512i t0 = _mm512_unpacklo_epi8(a[0], a[1]), t1 = _mm512_unpackhi_epi8(a[0], a[1]);
  const __m512i t2 = _mm512_unpacklo_epi8(a[2], a[3]), t3 = _mm512_unpackhi_epi8(a[2], a[3]);
  // w_i, lane l: dims 16l + 4i .. 16l + 4i + 3 of the four positions.
  const __m512i w0 = _mm512_unpacklo_epi16(t0, t2), w1 = _mm512_unpackhi_epi16(t0, t2);
  const __m512i w2 = _mm512_unpacklo_epi16(t1, t3), w3 = _mm512_unpackhi_epi16(t1, t3);
  const __m512i u0 = _mm512_shuffle_i32x4(w0, w1, 0x44), u1 = _mm512_shuffle_i32x4(w2, w3, 0x44);
  const __m512i u2 = _mm512_shuffle_i32x4(w0, w1, 0xee), u3 = _mm512_shuffle_i32x4(w2, w3, 0xee);
  panel[0] = _mm512_shuffle_i32x4(u0, u1, 0x88);
  panel[1] = _mm512_shuffle_i32x4(u0, u1, 0xdd);
  panel[2] = _mm512_shuffle_i32x4(u2, u3, 0x88);
  panel[3] = _mm512_shuffle_i32x4(u2, u3, 0xdd);
}

// int4 caches: the byte holding a key's or a value's nibble, and which nibble (0 low, 4 high).
size_t key_byte_i4(int key, int d) {
  return static_cast<size_t>(key / 32) * 1024 + (d / 4) * 64 + (key % 16) * 4 + d % 4;
}
int key_shift_i4(int key) { return key % 32 >= 16 ? 4 : 0; }
size_t value_byte_i4(int key, int d, int value_depth) {
  return (static_cast<size_t>(d / 16) * (value_depth / 8) + key / 8) * 64 + (d % 16) * 4 + key % 4;
}
int value_shift_i4(int key) { return key % 8 >= 4 ? 4 : 0; }
void put_nibble(uint8_t* byte, int shift, int8_t q) {
  *byte = static_cast<uint8_t>((*byte & ~(15 << shift)) | ((q + 8) << shift));
}

}  // namespace

void kv_write_head_i4(const float* k, int64_t ldk, const float* v, int64_t ldv, int n, int position,
                      int value_depth, uint8_t* keys, uint8_t* values, float* key_scale, float* value_scale) {
  const __m512i eight = _mm512_set1_epi8(8);
  // Keys: whole blocks of 32 as two 16-key panels (as the int8 keys, + 8), the second in the high nibbles.
  for (int t = 0; t < n;) {
    const int key = position + t;
    if (key % 32 == 0 && n - t >= 32) {
      __m512i lo[16], hi[16];
      quantize16(k + t * ldk, ldk, 7.0f, &key_scale[key], lo);
      quantize16(k + (t + 16) * ldk, ldk, 7.0f, &key_scale[key + 16], hi);
      avx512::transpose16x16_epi32(lo);
      avx512::transpose16x16_epi32(hi);
      auto* block = reinterpret_cast<__m512i*>(keys + static_cast<size_t>(key / 32) * 1024);
      for (int g = 0; g < 16; ++g)
        _mm512_storeu_si512(block + g, _mm512_or_si512(_mm512_add_epi8(lo[g], eight),
                                                       _mm512_slli_epi16(_mm512_add_epi8(hi[g], eight), 4)));
      t += 32;
    } else {
      int8_t q[kDh];
      key_scale[key] = quantize64_scalar(k + t * ldk, 7.0f, q);
      for (int d = 0; d < kDh; ++d) put_nibble(keys + key_byte_i4(key, d), key_shift_i4(key), q[d]);
      ++t;
    }
  }
  // Values: whole groups of 16 positions, as the int8 values' rows (+ 8), each odd row of 4 positions in the
  // high nibbles of the even row before it.
  for (int t = 0; t < n;) {
    const int key = position + t;
    if (key % 16 == 0 && n - t >= 16) {
      __m512i r[16];
      quantize16(v + t * ldv, ldv, 7.0f, &value_scale[key], r);
      for (int i = 0; i < 16; ++i) r[i] = _mm512_add_epi8(r[i], eight);
      for (int g = 0; g < 16; g += 8) {
        __m512i even[4], odd[4];
        interleave_four(r + g, even);
        interleave_four(r + g + 4, odd);
        for (int p = 0; p < 4; ++p)
          _mm512_storeu_si512(values + value_byte_i4(key + g, 16 * p, value_depth),
                              _mm512_or_si512(even[p], _mm512_slli_epi16(odd[p], 4)));
      }
      t += 16;
    } else {
      int8_t q[kDh];
      value_scale[key] = quantize64_scalar(v + t * ldv, 7.0f, q);
      for (int d = 0; d < kDh; ++d)
        put_nibble(values + value_byte_i4(key, d, value_depth), value_shift_i4(key), q[d]);
      ++t;
    }
  }
}

void kv_write_head_i8(const float* k, int64_t ldk, const float* v, int64_t ldv, int n, int position,
                      int value_depth, uint8_t* keys, int8_t* values, float* key_scale, float* value_scale) {
  // Keys: whole panels of 16 as one 16 × 16-dword transpose (a dword = 4 dims of one key), else byte by byte.
  for (int t = 0; t < n;) {
    const int key = position + t;
    if (key % 16 == 0 && n - t >= 16) {
      __m512i r[16];
      quantize16(k + t * ldk, ldk, 127.0f, &key_scale[key], r);
      for (int i = 0; i < 16; ++i) r[i] = _mm512_xor_si512(r[i], _mm512_set1_epi8(-128));  // + 128
      avx512::transpose16x16_epi32(r);
      auto* panel = reinterpret_cast<__m512i*>(keys + static_cast<size_t>(key / 16) * 16 * 64);
      for (int j = 0; j < 16; ++j) _mm512_storeu_si512(panel + j, r[j]);
      t += 16;
    } else {
      int8_t q[kDh];
      key_scale[key] = quantize64_scalar(k + t * ldk, 127.0f, q);
      for (int d = 0; d < kDh; ++d) keys[key_byte(key, d)] = static_cast<uint8_t>(q[d] + 128);
      ++t;
    }
  }
  // Values: whole groups of 16 positions, four at a time interleaved into the panels' rows; else byte by
  // byte.
  for (int t = 0; t < n;) {
    const int key = position + t;
    if (key % 16 == 0 && n - t >= 16) {
      __m512i r[16];
      quantize16(v + t * ldv, ldv, 127.0f, &value_scale[key], r);
      for (int g = 0; g < 16; g += 4) {
        __m512i panel[4];
        interleave_four(r + g, panel);
        for (int p = 0; p < 4; ++p)
          _mm512_storeu_si512(values + value_byte(key + g, 16 * p, value_depth), panel[p]);
      }
      t += 16;
    } else {
      int8_t q[kDh];
      value_scale[key] = quantize64_scalar(v + t * ldv, 127.0f, q);
      for (int d = 0; d < kDh; ++d) values[value_byte(key, d, value_depth)] = q[d];
      ++t;
    }
  }
}

size_t attention_i8_scratch_bytes(int rows, int L) { return i8attn::scratch_bytes(rows, L); }

}  // namespace wisp::backend::cpu
