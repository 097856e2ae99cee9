// Internal to the CPU kernels: the body of linear_f16.h's kernel, written once for every vector width. A
// translation unit per ISA supplies Vec (the vector type and lanes, zero, load, load_f16, fmadd, sum) and
// instantiates linear_f16_cols<Vec>. Internal linkage (the unnamed namespace), as tile_table.h: no
// translation unit can be handed another one's code built for a different ISA.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace wisp::backend::cpu {
namespace {  // NOLINT(build/namespaces): deliberate, see above

constexpr int kF16Rows = 8;  // rows per pass: the accumulators stay in registers

// y[m][n] = x[m] · W[n] for M rows and columns [n0, n1): each fp16 weight vector is widened once and used
// for every row.
template <typename Vec, int M>
void f16_rows(const float* x, int K, const uint16_t* W, int n0, int n1, float* y, int ldy) {
  for (int n = n0; n < n1; ++n) {
    const uint16_t* w = W + static_cast<size_t>(n) * K;
    typename Vec::type acc[M];
#pragma GCC unroll 8
    for (int m = 0; m < M; ++m) acc[m] = Vec::zero();
    int k = 0;
    for (; k + Vec::kLanes <= K; k += Vec::kLanes) {
      const auto wv = Vec::load_f16(w + k);
#pragma GCC unroll 8
      for (int m = 0; m < M; ++m)
        acc[m] = Vec::fmadd(Vec::load(x + static_cast<size_t>(m) * K + k), wv, acc[m]);
    }
#pragma GCC unroll 8
    for (int m = 0; m < M; ++m) {
      float sum = Vec::sum(acc[m]);
      for (int kk = k; kk < K; ++kk) sum += x[static_cast<size_t>(m) * K + kk] * _cvtsh_ss(w[kk]);
      y[static_cast<size_t>(m) * ldy + n] = sum;
    }
  }
}

template <typename Vec>
void linear_f16_cols(const float* x, int M, int K, const uint16_t* W, int n0, int n1, float* y, int ldy) {
  using RowsFn = void (*)(const float*, int, const uint16_t*, int, int, float*, int);
  static constexpr RowsFn kFns[kF16Rows] = {&f16_rows<Vec, 1>, &f16_rows<Vec, 2>, &f16_rows<Vec, 3>,
                                            &f16_rows<Vec, 4>, &f16_rows<Vec, 5>, &f16_rows<Vec, 6>,
                                            &f16_rows<Vec, 7>, &f16_rows<Vec, 8>};
  for (int m0 = 0; m0 < M; m0 += kF16Rows)
    kFns[std::min(kF16Rows, M - m0) - 1](x + static_cast<size_t>(m0) * K, K, W, n0, n1,
                                         y + static_cast<size_t>(m0) * ldy, ldy);
}

}  // namespace
}  // namespace wisp::backend::cpu
