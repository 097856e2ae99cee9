// Vector math for AVX-512 kernels (16 floats): exp for x <= 0, erf, GELU, epilogue stores, a 16 × 16 dword
// transpose. Internal linkage only (static inline), so translation units built for different ISAs never
// share a definition.
#pragma once

#if !defined(__AVX512F__) || !defined(__AVX512BW__)
#error "simd_avx512.h needs -mavx512f -mavx512bw"
#endif

#include <immintrin.h>

#include "backend/cpu/gemm.h"

namespace wisp::backend::cpu::avx512 {

// exp(x) for x <= 0 (see simd_avx2.h); below -87 (underflow) and -inf give 0, NaN gives NaN. The power of
// two n = round(x · log2 e) comes from adding and subtracting 1.5 · 2^23 (exact for |x · log2 e| < 2^22, and
// outside [-87, 0] the lane is zeroed): two µops that either vector port runs, where vrndscaleps is two on
// one port. The same results as rounding with vrndscaleps and clamping x at -87 first (checked for every
// float through erf).
__attribute__((always_inline)) static inline __m512 exp_nonpos(__m512 x) {
  const __m512 round = _mm512_set1_ps(12582912.0f);  // 1.5 · 2^23
  const __m512 n =
      _mm512_sub_ps(_mm512_add_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)), round), round);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187045e-06f), r);
  __m512 p = _mm512_set1_ps(1.0f / 720);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  const __mmask16 live = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.0f), _CMP_NLT_UQ);  // x >= -87 or NaN
  return _mm512_maskz_scalef_ps(live, p, n);                                          // p · 2^n
}

// t − round(t) (ties to even), exact: one vreduceps, where vrndscaleps and a subtraction are three µops;
// t − fraction(t) is then round(t) exactly.
__attribute__((always_inline)) static inline __m512 fraction(__m512 t) {
  return _mm512_reduce_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

// 2^t for finite t <= 0 with relative error < 2e-5 (degree-4 polynomial on the fraction, scalef for the
// power; below 2^-149 it gives 0): for probabilities that are rounded to bf16 (relative precision 4e-3)
// right after. Not for t = -inf (NaN).
__attribute__((always_inline)) static inline __m512 exp2_nonpos_fast(__m512 t) {
  const __m512 f = fraction(t);  // [-0.5, 0.5]
  const __m512 n = _mm512_sub_ps(t, f);
  __m512 p = _mm512_set1_ps(0.009618129f);
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0.05550411f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0.2402265f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0.6931472f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, n);
}

// 2^t for finite t with relative error < 8e-5, a 26th of bf16's rounding (for probabilities rounded to
// bf16 right after): a degree-3 polynomial on the fraction (fitted for relative error on [-1/2, 1/2]),
// scalef for the power (inf past 2^128, 0 below 2^-149).
__attribute__((always_inline)) static inline __m512 exp2_bf16(__m512 t) {
  const __m512 f = fraction(t);
  const __m512 n = _mm512_sub_ps(t, f);
  __m512 p = _mm512_set1_ps(0.05517167f);
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0.24261115f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0.69326099f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0.99992807f));
  return _mm512_scalef_ps(p, n);
}

__attribute__((always_inline)) static inline __m512 erf(__m512 x) {
  const __m512 a = _mm512_abs_ps(x);
  const __m512 t = _mm512_div_ps(_mm512_set1_ps(1.0f),
                                 _mm512_fmadd_ps(_mm512_set1_ps(0.3275911f), a, _mm512_set1_ps(1.0f)));
  __m512 poly = _mm512_fmadd_ps(_mm512_set1_ps(1.061405429f), t, _mm512_set1_ps(-1.453152027f));
  poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(1.421413741f));
  poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(-0.284496736f));
  poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(0.254829592f));
  poly = _mm512_mul_ps(poly, t);
  const __m512 e = exp_nonpos(_mm512_fnmadd_ps(a, a, _mm512_setzero_ps()));  // exp(−a²)
  const __m512 y = _mm512_fnmadd_ps(poly, e, _mm512_set1_ps(1.0f));
  // y with x's sign: bits of y, or of x where the mask has the sign bit (y ≥ 0)
  return _mm512_castsi512_ps(_mm512_ternarylogic_epi32(_mm512_castps_si512(y), _mm512_castps_si512(x),
                                                       _mm512_set1_epi32(static_cast<int>(0x80000000u)),
                                                       0xF8));
}

__attribute__((always_inline)) static inline __m512 gelu(__m512 v) {
  const __m512 e = erf(_mm512_mul_ps(v, _mm512_set1_ps(0.70710678118654752f)));
  return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), v), _mm512_add_ps(_mm512_set1_ps(1.0f), e));
}

// Rows r[0..16) of 16 dwords → column j of the 16 × 16 block in r[j], in four rounds of lane shuffles.
__attribute__((always_inline)) static inline void transpose16x16_epi32(__m512i r[16]) {
  __m512i t[16];
  for (int i = 0; i < 16; i += 2) {  // pairs of rows: dwords interleaved
    t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {  // quads: qwords interleaved
    r[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
    r[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
    r[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
    r[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
  }
  // Now r[4q + c] holds, in each 128-bit lane l, column c of rows 4q..4q+3 for columns 4l..4l+3.
  for (int i = 0; i < 4; ++i) {                                   // 128-bit lanes of quads 0/1 and 2/3
    t[i] = _mm512_shuffle_i32x4(r[i], r[4 + i], 0x88);            // lanes 0, 2 of each
    t[4 + i] = _mm512_shuffle_i32x4(r[i], r[4 + i], 0xdd);        // lanes 1, 3
    t[8 + i] = _mm512_shuffle_i32x4(r[8 + i], r[12 + i], 0x88);   // lanes 0, 2
    t[12 + i] = _mm512_shuffle_i32x4(r[8 + i], r[12 + i], 0xdd);  // lanes 1, 3
  }
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm512_shuffle_i32x4(t[i], t[8 + i], 0x88);            // columns 0-3
    r[8 + i] = _mm512_shuffle_i32x4(t[i], t[8 + i], 0xdd);        // columns 8-11
    r[4 + i] = _mm512_shuffle_i32x4(t[4 + i], t[12 + i], 0x88);   // columns 4-7
    r[12 + i] = _mm512_shuffle_i32x4(t[4 + i], t[12 + i], 0xdd);  // columns 12-15
  }
}

static inline __mmask16 first_lanes(int n) {  // n in [0, 16]
  return n >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << (n > 0 ? n : 0)) - 1);
}

// Finishes 16 outputs of one row (already scaled, bias added): GELU, accumulate, store the first `cols`.
__attribute__((always_inline)) static inline void store16(__m512 v, const Epilogue& ep, float* y, int cols) {
  if (cols <= 0) return;
  if (ep.gelu) v = gelu(v);
  const __mmask16 mask = first_lanes(cols);
  if (ep.accumulate) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, y));
  _mm512_mask_storeu_ps(y, mask, v);
}

// Bias for 16 columns starting at n (zero when there is none); columns past Np are never read: packed
// weights are padded to 16, and so are their biases' reads (masked by the caller's cols).
__attribute__((always_inline)) static inline __m512 bias16(const Epilogue& ep, int n, int cols) {
  return ep.bias ? _mm512_maskz_loadu_ps(first_lanes(cols), ep.bias + n) : _mm512_setzero_ps();
}

// The fp32 epilogue of an MR × NV-vector register tile of sums: + bias, then store16 (GELU, accumulate,
// the last vector masked at column N) to rows 0..MR of y (row stride ldy) at columns n... The sums go
// through L1 first, which keeps the kernel's loop free of register pressure.
template <int MR, int NV>
__attribute__((always_inline)) static inline void store_tile(const __m512* acc, const Epilogue& ep, float* y,
                                                             size_t ldy, int n, int N) {
  alignas(64) float c[MR * NV * 16];
#pragma GCC unroll 32
  for (int i = 0; i < MR * NV; ++i) _mm512_store_ps(c + 16 * i, acc[i]);
  for (int v = 0; v < NV; ++v) {
    const int cols = N - n - 16 * v;
    const __m512 bias = bias16(ep, n + 16 * v, cols);
    for (int r = 0; r < MR; ++r)
      store16(_mm512_add_ps(_mm512_load_ps(c + 16 * (r * NV + v)), bias), ep, y + r * ldy + n + 16 * v, cols);
  }
}

}  // namespace wisp::backend::cpu::avx512
