// layer_norm_row on AVX-512, bit for bit the AVX2 one (elementwise.cpp): its four running 8-lane sums are
// the two halves of two 16-lane ones, added in the same order, and the rest is per element.
#include <immintrin.h>

#include <cmath>

#include "backend/cpu/elementwise.h"

namespace wisp::backend::cpu {
namespace {

// Σ over x[0, n rounded down to 8) as elementwise.cpp's fold4: sums a0..a3 of the 8-float blocks 4i..4i+3
// (the last blocks past a multiple of 32 into a0), then (a0 + a1) + (a2 + a3) and its horizontal sum.
// a01 holds a0 and a1 in its low and high halves, a23 a2 and a3. step(acc, v) adds one block's term.
template <typename Step>
float fold_sum(const float* x, int n, Step step, int* done) {
  __m512 a01 = _mm512_setzero_ps(), a23 = _mm512_setzero_ps();
  int j = 0;
  for (; j + 32 <= n; j += 32) {
    a01 = step(a01, _mm512_loadu_ps(x + j));
    a23 = step(a23, _mm512_loadu_ps(x + j + 16));
  }
  for (; j + 8 <= n; j += 8)  // into a0 only: the low half
    a01 = _mm512_mask_mov_ps(a01, 0x00ff, step(a01, _mm512_maskz_loadu_ps(0x00ff, x + j)));
  *done = j;
  const __m256 s01 = _mm256_add_ps(_mm512_castps512_ps256(a01), _mm512_extractf32x8_ps(a01, 1));
  const __m256 s23 = _mm256_add_ps(_mm512_castps512_ps256(a23), _mm512_extractf32x8_ps(a23, 1));
  const __m256 v = _mm256_add_ps(s01, s23);
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

}  // namespace

void layer_norm_row_avx512(const float* x, int n, const float* gamma, const float* beta, float* y) {
  int j = 0;
  float sum = fold_sum(
      x, n, [](__m512 acc, __m512 v) { return _mm512_add_ps(acc, v); }, &j);
  for (; j < n; ++j) sum += x[j];
  const float mean = sum / static_cast<float>(n);
  const __m512 vmean = _mm512_set1_ps(mean);
  float var = fold_sum(
      x, n,
      [&](__m512 acc, __m512 v) {
        const __m512 d = _mm512_sub_ps(v, vmean);
        return _mm512_fmadd_ps(d, d, acc);
      },
      &j);
  for (; j < n; ++j) var += (x[j] - mean) * (x[j] - mean);
  const float inv = 1.0f / std::sqrt(var / static_cast<float>(n) + 1e-5f);
  const __m512 vinv = _mm512_set1_ps(inv);
  for (j = 0; j + 16 <= n; j += 16) {
    const __m512 d = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(x + j), vmean), vinv);
    _mm512_storeu_ps(y + j, _mm512_fmadd_ps(d, _mm512_loadu_ps(gamma + j), _mm512_loadu_ps(beta + j)));
  }
  if (j + 8 <= n) {  // as the AVX2 loop's last whole block of 8
    const __mmask16 m = 0x00ff;
    const __m512 d = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + j), vmean), vinv);
    _mm512_mask_storeu_ps(
        y + j, m,
        _mm512_fmadd_ps(d, _mm512_maskz_loadu_ps(m, gamma + j), _mm512_maskz_loadu_ps(m, beta + j)));
    j += 8;
  }
  for (; j < n; ++j) y[j] = (x[j] - mean) * inv * gamma[j] + beta[j];
}

}  // namespace wisp::backend::cpu
