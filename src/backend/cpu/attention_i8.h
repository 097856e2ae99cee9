// What the int8 and int4 cross-attention kernels (AMX: attention_i8_amx.cpp, attention_i4_amx.cpp; AVX-512
// VNNI: attention_i8_avx512_vnni.cpp, attention_i4_avx512_vnni.cpp) share around their products: the scratch
// layout, the queries as 15-bit fixed point, the softmax into 16-bit probabilities and the outputs. Internal
// linkage only (static inline), as simd_avx512.h: each translation unit that includes it is built for its own
// ISA.
//
// Rows of the byte operands: query i's high bytes in row 2i and its low bytes in row 2i + 1 (a value of 15 or
// 16 bits = 256 · high + low), so that one AMX tile product gives both halves of a score or an output for up
// to 8 queries. Up to 8 queries the tiles have exactly 2 · rows rows; past that, blocks of 8 queries (16
// rows), the last padded with zeros. The VNNI kernel reads and writes the same rows.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "backend/cpu/attention_kernels.h"
#include "backend/cpu/simd_avx512.h"

namespace wisp::backend::cpu::i8attn {

constexpr int kDh = 64;  // head_dim of the int8 layout

static inline size_t up(size_t x, size_t m) { return (x + m - 1) / m * m; }

static inline int pair_rows(int rows) {
  return rows <= 8 ? 2 * rows : static_cast<int>(up(static_cast<size_t>(rows), 8)) * 2;
}

struct Scratch {
  int r2 = 0, lp = 0;         // byte-operand rows; keys rounded up to 64
  int8_t* q = nullptr;        // (r2, 64) the queries' bytes
  int32_t* scores = nullptr;  // (r2, lp) both halves' products; row 2i becomes row i's fp32 scores
  uint8_t* probs = nullptr;   // (r2, lp) the probabilities' bytes
  int32_t* out = nullptr;     // (r2, 64) both halves' products
  float* q_scale = nullptr;   // (rows) each query's scale
  int32_t* offset = nullptr;  // (rows) 128 · Σ q15: the keys are stored + 128
  float* factor = nullptr;    // (rows) each output row's scale
};

static inline size_t scratch_bytes(int rows, int L) {
  const size_t r2 = static_cast<size_t>(pair_rows(rows)), lp = up(static_cast<size_t>(L), 64);
  return r2 * kDh + r2 * lp * 4 + r2 * lp + r2 * kDh * 4 + static_cast<size_t>(rows) * 4 * 3 + 256;
}

static inline Scratch carve(void* scratch, int rows, int L) {
  Scratch s;
  s.r2 = pair_rows(rows);
  s.lp = static_cast<int>(up(static_cast<size_t>(L), 64));
  s.q = static_cast<int8_t*>(scratch);
  s.scores = reinterpret_cast<int32_t*>(s.q + s.r2 * kDh);
  s.probs = reinterpret_cast<uint8_t*>(s.scores + static_cast<size_t>(s.r2) * s.lp);
  s.out = reinterpret_cast<int32_t*>(s.probs + static_cast<size_t>(s.r2) * s.lp);
  s.q_scale = reinterpret_cast<float*>(s.out + s.r2 * kDh);
  s.offset = reinterpret_cast<int32_t*>(s.q_scale + rows);
  s.factor = reinterpret_cast<float*>(s.offset + rows);
  return s;
}

// The scratch laid out for `job`, with its queries in 15-bit fixed point per row: q15 = 256 · hi + lo with
// both bytes signed (lo the low byte sign-extended, |hi| ≤ 64). Padding rows are zeros.
static inline Scratch begin(const I8HeadJob& job, void* scratch) {
  const Scratch s = carve(scratch, job.rows, job.L);
  const int rows = job.rows;
  std::memset(s.q + 2 * rows * kDh, 0, static_cast<size_t>(s.r2 - 2 * rows) * kDh);
  for (int i = 0; i < rows; ++i) {
    int8_t* hi = s.q + 2 * i * kDh;
    int8_t* lo = hi + kDh;
    const float* x = job.q + i * job.ldq;
    __m512 v[4], amax = _mm512_setzero_ps();
    for (int c = 0; c < 4; ++c) {
      v[c] = _mm512_loadu_ps(x + 16 * c);
      amax = _mm512_max_ps(amax, _mm512_abs_ps(v[c]));
    }
    const float m = _mm512_reduce_max_ps(amax);
    const __m512 inv = _mm512_set1_ps(m > 0.0f ? 16383.0f / m : 0.0f);
    s.q_scale[i] = m / 16383.0f;
    __m512i sum = _mm512_setzero_si512();
    for (int c = 0; c < 4; ++c) {
      const __m512i q15 = _mm512_cvtps_epi32(_mm512_mul_ps(v[c], inv));
      const __m512i l = _mm512_srai_epi32(_mm512_slli_epi32(q15, 24), 24);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(hi + 16 * c),
                       _mm512_cvtepi32_epi8(_mm512_srai_epi32(_mm512_sub_epi32(q15, l), 8)));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(lo + 16 * c), _mm512_cvtepi32_epi8(l));
      sum = _mm512_add_epi32(sum, q15);
    }
    s.offset[i] = 128 * _mm512_reduce_add_epi32(sum);
  }
  return s;
}

// From the products in s.scores (rows 2i, 2i + 1: Σ hi · (k + 128), Σ lo · (k + 128)): t = scale · log2(e)
// · q·k, k's scale applied per key; P = 2^(t − max t) (≤ 1); P · v_scale in 16-bit fixed point against the
// largest value scale, its high and low bytes in s.probs rows 2i and 2i + 1 (zeros past the visible keys up
// to s.lp and in padding rows); s.factor[i] the output's scale; the probabilities to job.probs if asked.
static inline void softmax(const Scratch& s, const I8HeadJob& job) {
  const int lp = s.lp, rows = job.rows, L = job.L;
  const int* visible = job.visible;
  const float *key_scale = job.key_scale, *value_scale = job.value_scale;
  float* probs = job.probs;
  const int64_t probs_ld = job.probs_ld;
  const float scale = job.scale;
  const float a = scale * 1.44269504088896341f;
  // A 32-key step's 16-bit probabilities, two vectors of 16 keys, into their low bytes in key order and
  // their high bytes in key order (AVX-512 F/BW only, no VBMI: the VNNI kernel runs on Cascade Lake):
  // packus_epi32 interleaves the two by 128-bit lane (lane l: keys 4l..4l+3, then 16+4l..16+4l+3); a
  // shuffle splits each lane into [low bytes | high bytes] (four dwords: low first, low second, high first,
  // high second); a dword permutation puts the low dwords in key order, then the high ones.
  const __m512i bytes_apart =
      _mm512_broadcast_i32x4(_mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15));
  const __m512i dwords_in_order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  // The largest value scale over a row's visible keys (every row's, in cross-attention: worked out once).
  int vm_keys = -1;
  float vm = 0.0f;
  for (int i = 0; i < rows; ++i) {
    const int vis = visible[i];
    float* t = reinterpret_cast<float*>(s.scores + static_cast<size_t>(2 * i) * lp);
    const int32_t* lo = s.scores + static_cast<size_t>(2 * i + 1) * lp;
    const __m512 qa = _mm512_set1_ps(s.q_scale[i] * a);
    const __m512i off = _mm512_set1_epi32(s.offset[i]);
    __m512 mx = _mm512_set1_ps(-INFINITY);
    for (int j = 0; j < vis; j += 16) {
      const __mmask16 m = avx512::first_lanes(vis - j);
      // q15 · k exactly: |256 · Σ hi · (k + 128)| ≤ 256 · 64 dims · 64 · 255 < 2^29, the sum and the offset
      // below 2^31.
      const __m512i dot =
          _mm512_sub_epi32(_mm512_add_epi32(_mm512_slli_epi32(_mm512_maskz_loadu_epi32(m, t + j), 8),
                                            _mm512_maskz_loadu_epi32(m, lo + j)),
                           off);
      const __m512 x =
          _mm512_mul_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(qa, _mm512_maskz_loadu_ps(m, key_scale + j)));
      _mm512_mask_storeu_ps(t + j, m, x);
      mx = _mm512_mask_max_ps(mx, m, mx, x);
    }
    if (vis != vm_keys) {
      __m512 vmax = _mm512_setzero_ps();
      for (int j = 0; j < vis; j += 16)
        vmax = _mm512_max_ps(vmax, _mm512_maskz_loadu_ps(avx512::first_lanes(vis - j), value_scale + j));
      vm = _mm512_reduce_max_ps(vmax);
      vm_keys = vis;
    }
    const __m512 vmx = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
    const __m512 to16 = _mm512_set1_ps(vm > 0.0f ? 65535.0f / vm : 0.0f);
    uint8_t* ph = s.probs + static_cast<size_t>(2 * i) * lp;
    uint8_t* pl = ph + lp;
    __m512 sum = _mm512_setzero_ps();
    // P · v_scale · to16 ≤ 65535 (P ≤ 1, v_scale ≤ vm), as a 16-bit integer: 32 keys at a time, their low
    // and high bytes apart. Past vis, P is 0 (lp, a multiple of 64, holds every 32-key step).
    auto fixed16 = [&](int j) {
      const __mmask16 m = avx512::first_lanes(vis - j);
      const __m512 e = _mm512_maskz_mov_ps(
          m, avx512::exp2_nonpos_fast(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, t + j), vmx)));
      sum = _mm512_add_ps(sum, e);
      if (probs) _mm512_mask_storeu_ps(t + j, m, e);
      return _mm512_cvtps_epu32(
          _mm512_mul_ps(_mm512_mul_ps(e, _mm512_maskz_loadu_ps(m, value_scale + j)), to16));
    };
    int j = 0;
    for (; j < vis; j += 32) {
      const __m512i u0 = fixed16(j), u1 = fixed16(j + 16);
      const __m512i bytes = _mm512_permutexvar_epi32(
          dwords_in_order, _mm512_shuffle_epi8(_mm512_packus_epi32(u0, u1), bytes_apart));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(pl + j), _mm512_castsi512_si256(bytes));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(ph + j), _mm512_extracti64x4_epi64(bytes, 1));
    }
    for (; j < lp; j += 32) {  // zeros up to the 64-key blocks the value product reads
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(ph + j), _mm256_setzero_si256());
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(pl + j), _mm256_setzero_si256());
    }
    const float total = _mm512_reduce_add_ps(sum);
    const float inv_sum = total > 0.0f ? 1.0f / total : 0.0f;
    s.factor[i] = inv_sum * (vm / 65535.0f);
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
  std::memset(s.probs + static_cast<size_t>(2 * rows) * lp, 0, static_cast<size_t>(s.r2 - 2 * rows) * lp);
}

// job.out from the value products in s.out (rows 2i, 2i + 1: high and low halves).
static inline void finish(const Scratch& s, const I8HeadJob& job) {
  const int rows = job.rows;
  float* out = job.out;
  const int64_t ldo = job.ldo;
  const __m512 k256 = _mm512_set1_ps(256.0f);
  for (int i = 0; i < rows; ++i) {
    const __m512 f = _mm512_set1_ps(s.factor[i]);
    for (int c = 0; c < kDh; c += 16) {
      const __m512 h = _mm512_cvtepi32_ps(_mm512_loadu_si512(s.out + 2 * i * kDh + c));
      const __m512 l = _mm512_cvtepi32_ps(_mm512_loadu_si512(s.out + (2 * i + 1) * kDh + c));
      _mm512_storeu_ps(out + i * ldo + c, _mm512_mul_ps(_mm512_fmadd_ps(h, k256, l), f));
    }
  }
}

}  // namespace wisp::backend::cpu::i8attn
