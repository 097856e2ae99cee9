// linear_f16.h with AVX-512: 16 lanes per FMA.
#include <immintrin.h>

#include <algorithm>

#include "backend/cpu/linear_f16.h"

namespace wisp::backend::cpu {
namespace {

constexpr int kRows = 8;

template <int M>
void rows(const float* x, int K, const uint16_t* W, int n0, int n1, float* y, int ldy) {
  for (int n = n0; n < n1; ++n) {
    const uint16_t* w = W + static_cast<size_t>(n) * K;
    __m512 acc[M];
#pragma GCC unroll 8
    for (int m = 0; m < M; ++m) acc[m] = _mm512_setzero_ps();
    int k = 0;
    for (; k + 16 <= K; k += 16) {
      const __m512 wv = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + k)));
#pragma GCC unroll 8
      for (int m = 0; m < M; ++m)
        acc[m] = _mm512_fmadd_ps(_mm512_loadu_ps(x + static_cast<size_t>(m) * K + k), wv, acc[m]);
    }
#pragma GCC unroll 8
    for (int m = 0; m < M; ++m) {
      float sum = _mm512_reduce_add_ps(acc[m]);
      for (int kk = k; kk < K; ++kk) sum += x[static_cast<size_t>(m) * K + kk] * _cvtsh_ss(w[kk]);
      y[static_cast<size_t>(m) * ldy + n] = sum;
    }
  }
}

using RowsFn = void (*)(const float*, int, const uint16_t*, int, int, float*, int);
constexpr RowsFn kRowsFns[kRows] = {&rows<1>, &rows<2>, &rows<3>, &rows<4>,
                                    &rows<5>, &rows<6>, &rows<7>, &rows<8>};

}  // namespace

void linear_f16_cols_avx512(const float* x, int M, int K, const uint16_t* W, int n0, int n1, float* y,
                            int ldy) {
  for (int m0 = 0; m0 < M; m0 += kRows)
    kRowsFns[std::min(kRows, M - m0) - 1](x + static_cast<size_t>(m0) * K, K, W, n0, n1,
                                          y + static_cast<size_t>(m0) * ldy, ldy);
}

}  // namespace wisp::backend::cpu
