// The CPU backend's row-wise fp32 operations (used by attention, layer norm and the decoding logic) against
// double-precision definitions, with the edge cases that occur: masked (-inf) entries, fully masked rows,
// GELU far in the tails, tails of every vector width.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "backend/cpu/elementwise.h"
#include "backend/cpu/isa.h"

namespace wisp::backend::cpu {
namespace {

std::vector<float> random_vec(size_t n, std::mt19937& rng, float scale) {
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

TEST(Elementwise, SoftmaxWithMaskedEntries) {
  std::mt19937 rng(3);
  for (int n : {1, 7, 8, 9, 17, 448, 1500}) {
    auto x = random_vec(n, rng, 3.0f);
    x[0] = -INFINITY;
    std::vector<float> y = x;
    softmax_row(y.data(), n);
    double mx = -INFINITY, sum = 0;
    for (float v : x) mx = std::max<double>(mx, v);
    for (float v : x) sum += std::isinf(v) ? 0.0 : std::exp(v - mx);
    for (int i = 0; i < n; ++i) {
      const double expected = std::isinf(x[i]) || std::isinf(mx) ? 0.0 : std::exp(x[i] - mx) / sum;
      EXPECT_NEAR(y[i], expected, 5e-7) << n << " at " << i;
    }
    EXPECT_EQ(y[0], 0.0f);
  }
  std::vector<float> masked(9, -INFINITY);
  softmax_row(masked.data(), 9);
  for (float v : masked) EXPECT_EQ(v, 0.0f);  // a fully masked row: zeros, no NaN
}

TEST(Elementwise, LogSumExp) {
  std::mt19937 rng(5);
  for (int n : {1, 7, 8, 9, 1501, 51865}) {
    auto x = random_vec(n, rng, 5.0f);
    x[0] = -INFINITY;  // masked entries are common (logit filters)
    if (n == 1) {
      EXPECT_EQ(log_sum_exp(x.data(), n), -INFINITY);
      continue;
    }
    double mx = -INFINITY, sum = 0;
    for (float v : x) mx = std::max<double>(mx, v);
    for (float v : x) sum += std::exp(static_cast<double>(v) - mx);
    EXPECT_NEAR(log_sum_exp(x.data(), n), mx + std::log(sum), 1e-4) << n;
  }
}

TEST(Elementwise, GeluIncludingTails) {
  std::vector<float> x{-100.0f, -10.0f, -3.0f, -1e-8f, 0.0f, 1e-8f, 0.5f, 3.0f, 10.0f, 100.0f, 1.7f};
  std::vector<float> y = x;
  gelu_inplace(y.data(), y.size());
  for (size_t i = 0; i < x.size(); ++i)
    EXPECT_NEAR(y[i], 0.5 * x[i] * (1.0 + std::erf(x[i] / std::sqrt(2.0))), 1e-5 * (1 + std::fabs(x[i])))
        << x[i];
}

TEST(Elementwise, LayerNormAddScaleWiden) {
  std::mt19937 rng(6);
  for (int n : {1, 7, 8, 384, 385}) {
    const auto x = random_vec(n, rng, 3.0f), g = random_vec(n, rng, 1.0f), b = random_vec(n, rng, 1.0f);
    std::vector<float> y(n);
    layer_norm_row(x.data(), n, g.data(), b.data(), y.data());
    double mean = 0, var = 0;
    for (float v : x) mean += v;
    mean /= n;
    for (float v : x) var += (v - mean) * (v - mean);
    const double inv = 1.0 / std::sqrt(var / n + 1e-5);
    for (int i = 0; i < n; ++i)
      EXPECT_NEAR(y[i], (x[i] - mean) * inv * g[i] + b[i], 2e-5 * (1 + std::fabs(g[i])));
    std::vector<float> z = x;
    add_inplace(z.data(), g.data(), static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) EXPECT_EQ(z[i], x[i] + g[i]);
    scale_inplace(z.data(), static_cast<size_t>(n), 0.5f);
    for (int i = 0; i < n; ++i) EXPECT_EQ(z[i], (x[i] + g[i]) * 0.5f);
  }
  const uint16_t halves[] = {0x3c00, 0xc000, 0x0001, 0x7bff, 0x8000, 0x3555, 0x0400, 0xfbff, 0x3800};
  float out[9];
  widen_f16(halves, out, 9);
  const float expected[] = {1.0f,        -2.0f,         5.9604645e-8f, 65504.0f, -0.0f,
                            0.33325195f, 6.1035156e-5f, -65504.0f,     0.5f};
  for (int i = 0; i < 9; ++i) EXPECT_EQ(out[i], expected[i]) << i;
  // The same halves at an odd address (16-bit weights are read where they lie in a model file, whose
  // variables follow names of any length): the vector part and the tail alike.
  unsigned char odd[2 * 9 + 1];
  std::memcpy(odd + 1, halves, sizeof halves);
  float out_odd[9];
  widen_f16(odd + 1, out_odd, 9);
  for (int i = 0; i < 9; ++i) EXPECT_EQ(out_odd[i], expected[i]) << i;
}

// NaN (from a corrupt input) goes through every path without a float -> int conversion of NaN (undefined;
// the sanitizer build checks float-cast-overflow): the exp is vector code even for the scalar tails.
// The first index of the largest value, as std::max_element: ties, -inf, the maximum in the tail or first.
TEST(Elementwise, ArgmaxIsTheFirstMaximum) {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> level(0, 20);
  for (int n : {1, 7, 8, 9, 31, 33, 100, 51864})
    for (int trial = 0; trial < 20; ++trial) {
      std::vector<float> x(n);
      for (auto& v : x) v = trial % 5 == 0 ? -INFINITY : static_cast<float>(level(rng));  // many ties
      if (trial % 7 == 1) x[n - 1] = 1000.0f;
      if (trial % 7 == 2) x[0] = 1000.0f;
      EXPECT_EQ(argmax(x.data(), n), std::max_element(x.begin(), x.end()) - x.begin()) << n << " " << trial;
      EXPECT_EQ(max_of(x.data(), n), *std::max_element(x.begin(), x.end()));
    }
}

// top_k against the plain one-pass selection it replaced: ties (earlier index first), -inf, NaN, k past n,
// the best entries in the first block, the scalar tail or anywhere.
TEST(Elementwise, TopKIsAStableSortsFirstK) {
  auto reference = [](const std::vector<float>& x, int k) {
    std::vector<int> out;
    for (int i = 0; i < static_cast<int>(x.size()); ++i) {
      if (static_cast<int>(out.size()) == k && x[i] <= x[out.back()]) continue;
      auto pos = std::upper_bound(out.begin(), out.end(), i, [&](int a, int b) { return x[a] > x[b]; });
      out.insert(pos, i);
      if (static_cast<int>(out.size()) > k) out.pop_back();
    }
    return out;
  };
  std::mt19937 rng(6);
  std::uniform_int_distribution<int> level(0, 30);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::vector<int> got;
  for (int n : {1, 3, 7, 8, 9, 17, 100, 1000, 51864})
    for (int k : {1, 2, 6, 11})
      for (int trial = 0; trial < 12; ++trial) {
        std::vector<float> x(n);
        for (auto& v : x) v = trial % 3 == 0 ? static_cast<float>(level(rng)) : normal(rng);  // ties or not
        if (trial % 4 == 1)
          for (int i = 0; i < n; i += 3) x[i] = -INFINITY;
        if (trial == 5) x[n - 1] = 1e6f;
        if (trial == 7) x[0] = 1e6f;
        if (trial == 9) x[n / 2] = NAN;
        if (trial == 11) std::sort(x.begin(), x.end());  // every block beats the last: the slow path
        top_k(x.data(), n, k, got);
        EXPECT_EQ(got, reference(x, k)) << n << " " << k << " " << trial;
      }
}

// Given the maximum (as top_k's or argmax's first), the log-sum-exp is the one that finds it itself.
TEST(Elementwise, LogSumExpGivenTheMaximumIsTheSame) {
  std::mt19937 rng(8);
  std::normal_distribution<float> normal(0.0f, 4.0f);
  for (int n : {1, 7, 8, 9, 33, 1501, 51864}) {
    std::vector<float> x(n);
    for (auto& v : x) v = normal(rng);
    for (int i = 0; i < n; i += 5) x[i] = -INFINITY;
    EXPECT_EQ(log_sum_exp(x.data(), n, x[argmax(x.data(), n)]), log_sum_exp(x.data(), n)) << n;
    std::fill(x.begin(), x.end(), -INFINITY);
    EXPECT_EQ(log_sum_exp(x.data(), n, x[argmax(x.data(), n)]), -INFINITY);
  }
}

TEST(Elementwise, NanIsDefinedBehaviour) {
  for (int n : {2, 3, 7, 9, 17}) {
    std::vector<float> x(n, 0.5f);
    x[n - 1] = NAN;
    (void)log_sum_exp(x.data(), n);
    (void)argmax(x.data(), n);
    softmax_row(x.data(), n);
    std::vector<float> g(n, NAN);
    gelu_inplace(g.data(), g.size());
    EXPECT_TRUE(std::isnan(g[n - 1])) << n;
  }
}

}  // namespace
}  // namespace wisp::backend::cpu
