// The compute primitives the network is written in. Two implementations of each:
//   wisp::kernels::ref — plain loops, obviously correct, the test oracle (src/kernels/ref);
//   wisp::kernels      — the fast CPU path (BLAS GEMM, vectorised loops, OpenMP) (src/kernels/cpu).
// Shapes are row-major; strides are in elements. Weights use PyTorch's Linear layout (out, in).
#pragma once

#include <cstddef>
#include <cstdint>

namespace wisp::kernels {

// C(M,N) = alpha * op(A) · op(B) + beta * C, op = transpose when trans_* (BLAS semantics, row-major).
void gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
          const float* B, int ldb, float beta, float* C, int ldc);
// y(M,N) = x(M,K) · W(N,K)^T + b(N); b may be null.
void linear(const float* x, int M, int K, const float* W, const float* b, int N, float* y);
// y(M,N) = x(M,K) · W(N,K)ᵀ + b(N) with W stored as IEEE half floats (widened exactly before multiplying).
// Made for few rows (decoder steps), where reading the weights is the cost; any M works.
void linear_f16(const float* x, int M, int K, const uint16_t* W, const float* b, int N, float* y);
// y(M,N) = LayerNorm over each row of x(M,N) with gamma, beta (eps 1e-5). y may alias x.
void layer_norm(const float* x, int M, int N, const float* gamma, const float* beta, float* y);
// x = GELU(x), the exact erf form Whisper uses.
void gelu(float* x, size_t n);
// Softmax over each row of x(M,N), in place.
void softmax_rows(float* x, int M, int N);
// log Σ exp(x[i]) over n elements; -inf entries contribute nothing (-inf if all are).
float log_sum_exp(const float* x, int n);
// y += x, n elements.
void add(float* y, const float* x, size_t n);

// Thread count for everything above (BLAS and OpenMP). Process-wide; set before computing.
void set_num_threads(int n);
int num_threads();

namespace ref {
void linear_f16(const float* x, int M, int K, const uint16_t* W, const float* b, int N, float* y);
void gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
          const float* B, int ldb, float beta, float* C, int ldc);
void linear(const float* x, int M, int K, const float* W, const float* b, int N, float* y);
void layer_norm(const float* x, int M, int N, const float* gamma, const float* beta, float* y);
void gelu(float* x, size_t n);
void softmax_rows(float* x, int M, int N);
void add(float* y, const float* x, size_t n);
float log_sum_exp(const float* x, int n);
}  // namespace ref

}  // namespace wisp::kernels
