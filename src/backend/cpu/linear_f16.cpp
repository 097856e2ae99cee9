#include "backend/cpu/linear_f16.h"

#include <immintrin.h>

#include <algorithm>

namespace wisp::backend::cpu {
namespace {

constexpr int kRows = 8;  // rows per pass: accumulators stay in registers

float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

template <int M>
void rows(const float* x, int K, const uint16_t* W, int n0, int n1, float* y, int ldy) {
  for (int n = n0; n < n1; ++n) {
    const uint16_t* w = W + static_cast<size_t>(n) * K;
    __m256 acc[M];
#pragma GCC unroll 8
    for (int m = 0; m < M; ++m) acc[m] = _mm256_setzero_ps();
    int k = 0;
    for (; k + 8 <= K; k += 8) {
      const __m256 wv = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + k)));
#pragma GCC unroll 8
      for (int m = 0; m < M; ++m)
        acc[m] = _mm256_fmadd_ps(_mm256_loadu_ps(x + static_cast<size_t>(m) * K + k), wv, acc[m]);
    }
#pragma GCC unroll 8
    for (int m = 0; m < M; ++m) {
      float sum = hsum(acc[m]);
      for (int kk = k; kk < K; ++kk) sum += x[static_cast<size_t>(m) * K + kk] * _cvtsh_ss(w[kk]);
      y[static_cast<size_t>(m) * ldy + n] = sum;
    }
  }
}

using RowsFn = void (*)(const float*, int, const uint16_t*, int, int, float*, int);
constexpr RowsFn kRowsFns[kRows] = {&rows<1>, &rows<2>, &rows<3>, &rows<4>,
                                    &rows<5>, &rows<6>, &rows<7>, &rows<8>};

}  // namespace

void linear_f16_cols_avx2(const float* x, int M, int K, const uint16_t* W, int n0, int n1, float* y,
                          int ldy) {
  for (int m0 = 0; m0 < M; m0 += kRows)
    kRowsFns[std::min(kRows, M - m0) - 1](x + static_cast<size_t>(m0) * K, K, W, n0, n1,
                                          y + static_cast<size_t>(m0) * ldy, ldy);
}

}  // namespace wisp::backend::cpu
