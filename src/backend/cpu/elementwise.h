// Row-wise fp32 operations of the CPU backend (AVX2 + FMA; single-threaded: callers split rows across
// threads). Checked against the reference backend by tests/unit/test_backend.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace wisp::backend::cpu {

// y = (x − mean) / √(var + 1e-5) · gamma + beta, over n values; y may be x.
void layer_norm_row(const float* x, int n, const float* gamma, const float* beta, float* y);
// The same on AVX-512 (layer_norm_avx512.cpp), bit for bit.
void layer_norm_row_avx512(const float* x, int n, const float* gamma, const float* beta, float* y);
// In place; -inf entries become 0, and a row of only -inf becomes all zeros (no NaN).
void softmax_row(float* x, int n);
// max x[i] (-inf for n = 0).
float max_of(const float* x, int n);
// The first index of the largest x[i], as std::max_element (0 for n = 0).
int argmax(const float* x, int n);
// The indices of the k largest x[i], largest first; among equal values the earlier index first (a stable
// sort's first k). Fewer than k when n < k. out's capacity is kept (no allocation once it has grown).
void top_k(const float* x, int n, int k, std::vector<int>& out);
// log Σ exp(x[i]); -inf entries contribute nothing (-inf if all are).
float log_sum_exp(const float* x, int n);
// The same given mx = max_of(x, n) (a pass fewer when the caller has it: top_k's or argmax's first).
float log_sum_exp(const float* x, int n, float mx);
// x = GELU(x), erf form.
void gelu_inplace(float* x, size_t n);
// y += x.
void add_inplace(float* y, const float* x, size_t n);
// y = x · s.
void scale_inplace(float* x, size_t n, float s);
// IEEE half → float (exact); x need not be 2-byte aligned (16-bit weights where they lie in a model file).
void widen_f16(const void* x, float* y, size_t n);

}  // namespace wisp::backend::cpu
