// Few-row products against fp16 weights, widened exactly to fp32 (the float32 compute type's decoder steps).
// Each weight row is read once and dotted with all x rows while it sits in L1, so the weights stream
// through once per call: for a handful of rows this beats packing fp32 weights for a GEMM.
#pragma once

#include <cstdint>

namespace wisp::backend::cpu {

// y(M, n) for output columns n in [n0, n1) = x(M, K) · W(N, K)ᵀ, W as IEEE half floats; no bias.
void linear_f16_cols_avx2(const float* x, int M, int K, const uint16_t* W, int n0, int n1, float* y, int ldy);
void linear_f16_cols_avx512(const float* x, int M, int K, const uint16_t* W, int n0, int n1, float* y,
                            int ldy);

}  // namespace wisp::backend::cpu
