// Reference kernels: the plainest correct loops, in double precision where it matters. The oracle that
// tests/unit/test_kernels.cpp checks the fast CPU kernels against. Never used on the hot path.
#include <cmath>
#include <vector>

#include "kernels/ops.h"

namespace wisp::kernels::ref {

void gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
          const float* B, int ldb, float beta, float* C, int ldc) {
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      double acc = 0.0;
      for (int k = 0; k < K; ++k) {
        const float a = trans_a ? A[k * lda + i] : A[i * lda + k];
        const float b = trans_b ? B[j * ldb + k] : B[k * ldb + j];
        acc += static_cast<double>(a) * b;
      }
      C[i * ldc + j] = static_cast<float>(alpha * acc + (beta == 0.0f ? 0.0 : beta * C[i * ldc + j]));
    }
}

void linear(const float* x, int M, int K, const float* W, const float* b, int N, float* y) {
  gemm(false, true, M, N, K, 1.0f, x, K, W, K, 0.0f, y, N);
  if (b)
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) y[i * N + j] += b[j];
}

// IEEE half → float, bit by bit (no hardware conversion: this is the oracle).
static float half_to_float_ref(uint16_t h) {
  const int sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  double v;
  if (exp == 0)
    v = std::ldexp(mant, -24);
  else if (exp == 31)
    v = mant ? NAN : INFINITY;
  else
    v = std::ldexp(1024 + mant, exp - 25);
  return static_cast<float>(sign ? -v : v);
}

void linear_f16(const float* x, int M, int K, const uint16_t* W, const float* b, int N, float* y) {
  std::vector<float> w(static_cast<size_t>(N) * K);
  for (size_t i = 0; i < w.size(); ++i) w[i] = half_to_float_ref(W[i]);
  linear(x, M, K, w.data(), b, N, y);
}

void layer_norm(const float* x, int M, int N, const float* gamma, const float* beta, float* y) {
  for (int i = 0; i < M; ++i) {
    double mean = 0.0, var = 0.0;
    for (int j = 0; j < N; ++j) mean += x[i * N + j];
    mean /= N;
    for (int j = 0; j < N; ++j) var += (x[i * N + j] - mean) * (x[i * N + j] - mean);
    var /= N;
    const double inv = 1.0 / std::sqrt(var + 1e-5);
    for (int j = 0; j < N; ++j)
      y[i * N + j] = static_cast<float>((x[i * N + j] - mean) * inv * gamma[j] + beta[j]);
  }
}

void gelu(float* x, size_t n) {
  for (size_t i = 0; i < n; ++i)
    x[i] = static_cast<float>(0.5 * x[i] * (1.0 + std::erf(x[i] / std::sqrt(2.0))));
}

void softmax_rows(float* x, int M, int N) {
  for (int i = 0; i < M; ++i) {
    float* r = x + static_cast<size_t>(i) * N;
    double mx = r[0];
    for (int j = 1; j < N; ++j) mx = std::max<double>(mx, r[j]);
    double sum = 0.0;
    for (int j = 0; j < N; ++j) sum += std::exp(r[j] - mx);
    for (int j = 0; j < N; ++j) r[j] = static_cast<float>(std::exp(r[j] - mx) / sum);
  }
}

float log_sum_exp(const float* x, int n) {
  double mx = -INFINITY;
  for (int i = 0; i < n; ++i) mx = std::max<double>(mx, x[i]);
  if (mx == -INFINITY) return -INFINITY;
  double sum = 0.0;
  for (int i = 0; i < n; ++i) sum += std::exp(x[i] - mx);
  return static_cast<float>(mx + std::log(sum));
}

void add(float* y, const float* x, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] += x[i];
}

}  // namespace wisp::kernels::ref
