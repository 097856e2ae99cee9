// The fast CPU kernels against the reference kernels, over awkward shapes (1, odd, tails, strides).
#include <gtest/gtest.h>

#include <immintrin.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/ops.h"

namespace wisp::kernels {
namespace {

std::vector<float> random_vec(size_t n, std::mt19937& rng, float scale = 1.0f) {
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  float m = 0.0f;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

TEST(Kernels, LinearMatchesReferenceOnAwkwardShapes) {
  std::mt19937 rng(1);
  for (int M : {1, 2, 5, 7, 8, 9, 33, 130})
    for (int K : {1, 3, 64, 385})
      for (int N : {1, 17, 384, 1001}) {
        auto x = random_vec(static_cast<size_t>(M) * K, rng), W = random_vec(static_cast<size_t>(N) * K, rng),
             b = random_vec(N, rng);
        std::vector<float> y(static_cast<size_t>(M) * N), y_ref(y.size());
        linear(x.data(), M, K, W.data(), b.data(), N, y.data());
        ref::linear(x.data(), M, K, W.data(), b.data(), N, y_ref.data());
        EXPECT_LT(max_abs_diff(y, y_ref), 1e-4f * std::sqrt(static_cast<float>(K)) + 1e-5f)
            << "M=" << M << " K=" << K << " N=" << N;
        linear(x.data(), M, K, W.data(), nullptr, N, y.data());
        ref::linear(x.data(), M, K, W.data(), nullptr, N, y_ref.data());
        EXPECT_LT(max_abs_diff(y, y_ref), 1e-4f * std::sqrt(static_cast<float>(K)) + 1e-5f);
      }
}

TEST(Kernels, GemmWithTransposesAndStrides) {
  std::mt19937 rng(2);
  const int M = 13, N = 29, K = 70, lda = 80, ldb = 90, ldc = 40;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      auto A = random_vec(static_cast<size_t>(std::max(M, K)) * lda, rng);
      auto B = random_vec(static_cast<size_t>(std::max(N, K)) * ldb, rng);
      auto C = random_vec(static_cast<size_t>(M) * ldc, rng), C_ref = C;
      gemm(ta, tb, M, N, K, 0.5f, A.data(), lda, B.data(), ldb, 0.25f, C.data(), ldc);
      ref::gemm(ta, tb, M, N, K, 0.5f, A.data(), lda, B.data(), ldb, 0.25f, C_ref.data(), ldc);
      EXPECT_LT(max_abs_diff(C, C_ref), 1e-4f) << ta << tb;
    }
}

TEST(Kernels, LayerNormGeluSoftmaxAdd) {
  std::mt19937 rng(3);
  for (int M : {1, 3, 17, 40})
    for (int N : {1, 7, 384, 1500}) {
      auto x = random_vec(static_cast<size_t>(M) * N, rng, 3.0f), g = random_vec(N, rng),
           b = random_vec(N, rng);
      std::vector<float> y(x.size()), y_ref(x.size());
      layer_norm(x.data(), M, N, g.data(), b.data(), y.data());
      ref::layer_norm(x.data(), M, N, g.data(), b.data(), y_ref.data());
      EXPECT_LT(max_abs_diff(y, y_ref), 2e-4f) << "layer_norm M=" << M << " N=" << N;

      y = x;
      y_ref = x;
      gelu(y.data(), y.size());
      ref::gelu(y_ref.data(), y_ref.size());
      EXPECT_LT(max_abs_diff(y, y_ref), 1e-5f * 4) << "gelu";

      y = x;
      y_ref = x;
      y[0] = y_ref[0] = -INFINITY;  // masked entries (causal attention) must give 0
      if (N > 1) {
        softmax_rows(y.data(), M, N);
        ref::softmax_rows(y_ref.data(), M, N);
        EXPECT_LT(max_abs_diff(y, y_ref), 5e-6f) << "softmax";
        EXPECT_EQ(y[0], 0.0f);
      }

      y = x;
      y_ref = x;
      add(y.data(), g.data(), std::min<size_t>(N, y.size()));
      ref::add(y_ref.data(), g.data(), std::min<size_t>(N, y.size()));
      EXPECT_EQ(y, y_ref);
    }
}

TEST(Kernels, GeluExtremes) {
  std::vector<float> x{-100.0f, -10.0f, -1e-8f, 0.0f, 1e-8f, 10.0f, 100.0f}, r = x;
  gelu(x.data(), x.size());
  ref::gelu(r.data(), r.size());
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(x[i], r[i], 1e-5f) << i;
}

}  // namespace
}  // namespace wisp::kernels

namespace wisp::kernels {
namespace {

uint16_t float_to_half_bits(float f) { return _cvtss_sh(f, 0); }

TEST(Kernels, LinearF16MatchesReference) {
  std::mt19937 rng(4);
  std::normal_distribution<float> d(0.0f, 1.0f);
  for (int M : {1, 3, 5, 8, 9, 17})
    for (int K : {1, 7, 8, 64, 385})
      for (int N : {1, 13, 384}) {
        std::vector<float> x(static_cast<size_t>(M) * K), b(N), y(static_cast<size_t>(M) * N),
            y_ref(y.size());
        std::vector<uint16_t> W(static_cast<size_t>(N) * K);
        for (auto& v : x) v = d(rng);
        for (auto& v : b) v = d(rng);
        for (auto& v : W) v = float_to_half_bits(d(rng));
        linear_f16(x.data(), M, K, W.data(), b.data(), N, y.data());
        ref::linear_f16(x.data(), M, K, W.data(), b.data(), N, y_ref.data());
        float err = 0.0f;
        for (size_t i = 0; i < y.size(); ++i) err = std::max(err, std::fabs(y[i] - y_ref[i]));
        EXPECT_LT(err, 1e-4f * std::sqrt(static_cast<float>(K)) + 1e-5f)
            << "M=" << M << " K=" << K << " N=" << N;
      }
}

}  // namespace
}  // namespace wisp::kernels

namespace wisp::kernels {
namespace {

TEST(Kernels, LogSumExpMatchesReference) {
  std::mt19937 rng(5);
  std::normal_distribution<float> d(0.0f, 5.0f);
  for (int n : {1, 7, 8, 9, 1501, 51865}) {
    std::vector<float> x(n);
    for (auto& v : x) v = d(rng);
    x[0] = -INFINITY;  // masked entries are common (logit filters)
    if (n == 1) {
      EXPECT_EQ(log_sum_exp(x.data(), n), -INFINITY);
      continue;
    }
    EXPECT_NEAR(log_sum_exp(x.data(), n), ref::log_sum_exp(x.data(), n), 1e-4f) << n;
  }
}

// NaN (from a corrupt model or input) must flow through the scalar exp as NaN, not through a NaN -> int
// conversion (undefined; UBSan's float-cast-overflow). Short rows use only the scalar path.
TEST(Kernels, NanThroughTheScalarExpIsDefined) {
  for (int n : {2, 3, 7, 9}) {
    std::vector<float> x(n, 0.5f);
    x[n - 1] = NAN;
    EXPECT_TRUE(std::isnan(log_sum_exp(x.data(), n))) << n;
    softmax_rows(x.data(), 1, n);
    std::vector<float> g(n, NAN);
    gelu(g.data(), g.size());
    EXPECT_TRUE(std::isnan(g[n - 1])) << n;
  }
}

}  // namespace
}  // namespace wisp::kernels
