// Vector math for AVX2 + FMA kernels (8 floats): exp for x <= 0, erf, GELU, epilogue stores. Internal
// linkage only (static inline), so translation units built for different ISAs never share a definition.
#pragma once

#if !defined(__AVX2__) || !defined(__FMA__)
#error "simd_avx2.h needs -mavx2 -mfma"
#endif

#include <immintrin.h>

#include "backend/cpu/gemm.h"

namespace wisp::backend::cpu::avx2 {

// exp(x) for x <= 0, relative error ~2e-7: 2^n · e^r with |r| <= ln2/2 and a degree-6 polynomial.
// Underflow (x < -87, and -inf) gives exactly 0.
static inline __m256 exp_nonpos(__m256 x_in) {
  const __m256 x = _mm256_max_ps(x_in, _mm256_set1_ps(-87.0f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145751953125f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.428606765330187045e-06f), r);
  __m256 p = _mm256_set1_ps(1.0f / 720);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  const __m256 result = _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
  return _mm256_andnot_ps(_mm256_cmp_ps(x_in, _mm256_set1_ps(-87.0f), _CMP_LT_OQ), result);
}

// erf(x), Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7).
static inline __m256 erf(__m256 x) {
  const __m256 sign = _mm256_and_ps(x, _mm256_set1_ps(-0.0f));
  const __m256 a = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
  const __m256 t = _mm256_div_ps(_mm256_set1_ps(1.0f),
                                 _mm256_fmadd_ps(_mm256_set1_ps(0.3275911f), a, _mm256_set1_ps(1.0f)));
  __m256 poly = _mm256_fmadd_ps(_mm256_set1_ps(1.061405429f), t, _mm256_set1_ps(-1.453152027f));
  poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(1.421413741f));
  poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(-0.284496736f));
  poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(0.254829592f));
  poly = _mm256_mul_ps(poly, t);
  const __m256 e = exp_nonpos(_mm256_mul_ps(_mm256_sub_ps(_mm256_setzero_ps(), a), a));
  const __m256 y = _mm256_fnmadd_ps(poly, e, _mm256_set1_ps(1.0f));
  return _mm256_or_ps(y, sign);
}

// GELU, erf form: x/2 · (1 + erf(x/√2)).
static inline __m256 gelu(__m256 v) {
  const __m256 e = erf(_mm256_mul_ps(v, _mm256_set1_ps(0.70710678118654752f)));
  return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), v), _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

static inline __m256i first_lanes(int n) {  // lanes [0, n) set, n in [0, 8]
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// Bias for 8 columns starting at n, of which `cols` are real (zero when there is no bias).
static inline __m256 bias8(const Epilogue& ep, int n, int cols) {
  if (!ep.bias || cols <= 0) return _mm256_setzero_ps();
  return cols >= 8 ? _mm256_loadu_ps(ep.bias + n) : _mm256_maskload_ps(ep.bias + n, first_lanes(cols));
}

// Finishes 8 outputs of one row (already scaled, bias added): GELU, accumulate, store the first `cols`.
static inline void store8(__m256 v, const Epilogue& ep, float* y, int cols) {
  if (ep.gelu) v = gelu(v);
  if (cols >= 8) {
    if (ep.accumulate) v = _mm256_add_ps(v, _mm256_loadu_ps(y));
    _mm256_storeu_ps(y, v);
  } else if (cols > 0) {
    const __m256i mask = first_lanes(cols);
    if (ep.accumulate) v = _mm256_add_ps(v, _mm256_maskload_ps(y, mask));
    _mm256_maskstore_ps(y, mask, v);
  }
}

}  // namespace wisp::backend::cpu::avx2
