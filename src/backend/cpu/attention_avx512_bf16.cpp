// Attention pieces for AVX-512 BF16 CPUs: the softmax that feeds bf16 probabilities to the value product,
// and bulk writes into the bf16 KV layouts.
#include <immintrin.h>

#include <cmath>

#include "backend/cpu/attention_kernels.h"
#include "backend/cpu/simd_avx512.h"

namespace wisp::backend::cpu {

void softmax_rows_to_bf16(float* S, int ld_s, int rows, int L, const int* visible, float scale, uint16_t* P,
                          int ld_p, float* inv_sum, float* probs, int64_t probs_ld) {
  // exp(scale · (s − shift)) = 2^(s · a − shift · a), a = scale · log2(e): one FMA before the power of two.
  const float a = scale * 1.44269504088896341f;
  const __m512 va = _mm512_set1_ps(a);
  const __m512 minus_inf = _mm512_set1_ps(-INFINITY);
  for (int i = 0; i < rows; ++i) {
    float* s = S + static_cast<size_t>(i) * ld_s;
    uint16_t* p = P + static_cast<size_t>(i) * ld_p;
    const int vis = visible[i], full = vis / 16 * 16;
    // The next row's scores come into L1 while this row's exponentials are computed (a block's scores are
    // in L2: 64 rows × 6 KB for 1,500 keys).
    const char* next = reinterpret_cast<const char*>(s + (i + 1 < rows ? ld_s : 0));
    // P = 2^(s·a − shift), its sum; e written back over the scores when they are asked for. The scores are
    // finite (products of finite bf16 values), so t = s·a − shift is too.
    auto exponentials = [&](__m512 shift, bool keep) {
      auto exp_at = [&](int k) {
        const __m512 e = avx512::exp2_bf16(_mm512_fmsub_ps(_mm512_loadu_ps(s + k), va, shift));
        if (keep) _mm512_storeu_ps(s + k, e);
        return e;
      };
      __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
      int j = 0;
      for (; j + 64 <= full; j += 64) {
        for (int l = 0; l < 4; ++l) _mm_prefetch(next + 4 * (j + 16 * l), _MM_HINT_T0);
        const __m512 e0 = exp_at(j), e1 = exp_at(j + 16), e2 = exp_at(j + 32), e3 = exp_at(j + 48);
        // Two vectors per conversion: one instruction for 32 probabilities.
        _mm512_storeu_si512(p + j, (__m512i)_mm512_cvtne2ps_pbh(e1, e0));
        _mm512_storeu_si512(p + j + 32, (__m512i)_mm512_cvtne2ps_pbh(e3, e2));
        s0 = _mm512_add_ps(s0, e0);
        s1 = _mm512_add_ps(s1, e1);
        s2 = _mm512_add_ps(s2, e2);
        s3 = _mm512_add_ps(s3, e3);
      }
      for (; j < full; j += 16) {
        const __m512 e = exp_at(j);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(p + j), (__m256i)_mm512_cvtneps_pbh(e));
        s0 = _mm512_add_ps(s0, e);
      }
      // The partial vector, then zeros up to ld_p (the value product reads whole blocks of keys).
      for (; j < ld_p; j += 16) {
        const __mmask16 live = avx512::first_lanes(vis - j);
        const __m512 x = _mm512_maskz_loadu_ps(live, s + j);
        const __m512 e = _mm512_maskz_mov_ps(live, avx512::exp2_bf16(_mm512_fmsub_ps(x, va, shift)));
        s1 = _mm512_add_ps(s1, e);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(p + j), (__m256i)_mm512_cvtneps_pbh(e));
        if (keep) _mm512_mask_storeu_ps(s + j, avx512::first_lanes(L - j), e);
      }
      return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
    };
    // Without a shift first: softmax needs the row's maximum subtracted only when 2^t would overflow or
    // every term underflow, which the sum shows (then again with the maximum). Not when the probabilities
    // are asked for: the scores are overwritten.
    float sum = probs ? 0.0f : exponentials(_mm512_setzero_ps(), false);
    if (!(sum >= 0x1p-60f && sum <= 0x1p100f)) {
      // Four running maxima: one accumulator would make every step wait for the previous one.
      __m512 m0 = minus_inf, m1 = minus_inf, m2 = minus_inf, m3 = minus_inf;
      int j = 0;
      for (; j + 64 <= full; j += 64) {
        m0 = _mm512_max_ps(m0, _mm512_loadu_ps(s + j));
        m1 = _mm512_max_ps(m1, _mm512_loadu_ps(s + j + 16));
        m2 = _mm512_max_ps(m2, _mm512_loadu_ps(s + j + 32));
        m3 = _mm512_max_ps(m3, _mm512_loadu_ps(s + j + 48));
      }
      for (; j < full; j += 16) m0 = _mm512_max_ps(m0, _mm512_loadu_ps(s + j));
      if (j < vis)
        m1 = _mm512_max_ps(m1, _mm512_mask_loadu_ps(minus_inf, avx512::first_lanes(vis - j), s + j));
      const __m512 vmax = _mm512_max_ps(_mm512_max_ps(m0, m1), _mm512_max_ps(m2, m3));
      sum = exponentials(_mm512_set1_ps(_mm512_reduce_max_ps(vmax) * a), probs != nullptr);
    }
    inv_sum[i] = sum > 0.0f ? 1.0f / sum : 0.0f;
    if (probs) {
      float* out = probs + i * probs_ld;
      const __m512 inv = _mm512_set1_ps(inv_sum[i]);
      for (int j = 0; j < L; j += 16) {
        const __mmask16 m = avx512::first_lanes(L - j);
        _mm512_mask_storeu_ps(out + j, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, s + j), inv));
      }
    }
  }
}

namespace {

// Keys, layout [key/16][d/2][16][2]: the pair (d, d+1) of one key is one 32-bit word, and consecutive
// pairs are 16 words apart. One key at a time: a scatter of its pairs.
void key_write_one(const float* kr, int key, int head_dim, int key_depth, uint16_t* keys) {
  const __m512i pair_stride = _mm512_mullo_epi32(
      _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_epi32(16));
  auto* base =
      reinterpret_cast<int*>(keys + (static_cast<size_t>(key / 16) * (key_depth / 2) * 16 + key % 16) * 2);
  for (int d = 0; d < head_dim; d += 32) {
    const __mmask16 lo = avx512::first_lanes(head_dim - d), hi = avx512::first_lanes(head_dim - d - 16);
    const __m512bh pairs =
        _mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(hi, kr + d + 16), _mm512_maskz_loadu_ps(lo, kr + d));
    const __mmask16 words = avx512::first_lanes((head_dim - d + 1) / 2);
    _mm512_mask_i32scatter_epi32(base + (d / 2) * 16, words, pair_stride, (__m512i)pairs, 4);
  }
}

// Sixteen keys from key (a multiple of 16) on: their panel of [d/2][16] words, one 16 × 16 transpose per 32
// dims. The pairs past head_dim up to key_depth are written as zeros.
void key_write_panel(const float* k, int64_t ldk, int key, int head_dim, int key_depth, uint16_t* keys) {
  auto* panel = reinterpret_cast<__m512i*>(keys + static_cast<size_t>(key / 16) * (key_depth / 2) * 32);
  for (int d = 0; d < key_depth; d += 32) {
    const __mmask16 lo = avx512::first_lanes(head_dim - d), hi = avx512::first_lanes(head_dim - d - 16);
    __m512i r[16];
    for (int t = 0; t < 16; ++t) {
      const float* kr = k + t * ldk + d;
      r[t] = (__m512i)_mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(hi, kr + 16), _mm512_maskz_loadu_ps(lo, kr));
    }
    avx512::transpose16x16_epi32(r);
    for (int j = 0; j < 16; ++j) _mm512_storeu_si512(panel + d / 2 + j, r[j]);
  }
}

}  // namespace

void kv_write_head_bf16(const float* k, int64_t ldk, const float* v, int64_t ldv, int n, int position,
                        int head_dim, int key_depth, int value_depth, uint16_t* keys, uint16_t* values) {
  for (int t = 0; t < n;) {
    const int key = position + t;
    if (key % 16 == 0 && n - t >= 16) {
      key_write_panel(k + t * ldk, ldk, key, head_dim, key_depth, keys);
      t += 16;
    } else {
      key_write_one(k + t * ldk, key, head_dim, key_depth, keys);
      ++t;
    }
  }
  // Values, layout [d/16][key/2][16][2]: for keys 2j and 2j+1, the words (v[2j][d], v[2j+1][d]) of 16
  // consecutive dims are one 64-byte row.
  for (int t = 0; t < n;) {
    const int key = position + t;
    const bool pair = key % 2 == 0 && t + 1 < n;
    for (int d = 0; d < head_dim; d += 16) {
      const __mmask16 m = avx512::first_lanes(head_dim - d);
      uint16_t* row = values + (static_cast<size_t>(d / 16) * (value_depth / 2) + key / 2) * 32;
      const __m512 a = _mm512_maskz_loadu_ps(m, v + t * ldv + d);
      if (pair) {
        const __m512 b = _mm512_maskz_loadu_ps(m, v + (t + 1) * ldv + d);
        // Interleave a and b as bf16: word i = (a[i], b[i]).
        const __m256i a16 = (__m256i)_mm512_cvtneps_pbh(a), b16 = (__m256i)_mm512_cvtneps_pbh(b);
        const __m512i wa = _mm512_cvtepu16_epi32(a16), wb = _mm512_slli_epi32(_mm512_cvtepu16_epi32(b16), 16);
        _mm512_mask_storeu_epi32(row, m, _mm512_or_si512(wa, wb));
      } else {  // one key: half of each word
        const __m256i a16 = (__m256i)_mm512_cvtneps_pbh(a);
        alignas(32) uint16_t tmp[16];
        _mm256_store_si256(reinterpret_cast<__m256i*>(tmp), a16);
        for (int i = 0; i < 16 && d + i < head_dim; ++i) row[i * 2 + key % 2] = tmp[i];
      }
    }
    t += pair ? 2 : 1;
  }
}

}  // namespace wisp::backend::cpu
