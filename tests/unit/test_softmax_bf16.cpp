// The bf16 attention's softmax (scores to bf16 probabilities and 1 / Σ) against a double-precision softmax,
// for rows near zero and rows far from it: where 2^(scale · s) overflows fp32 or every term underflows it
// must fall back to subtracting the row's maximum.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "backend/cpu/attention_kernels.h"
#include "backend/cpu/isa.h"

namespace {

namespace cpu = wisp::backend::cpu;

float from_bf16(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

TEST(SoftmaxBf16, MatchesSoftmaxNearAndFarFromZero) {
  if (!cpu::isa_supported(cpu::Isa::Avx512Bf16)) GTEST_SKIP() << "no AVX-512 BF16 on this CPU";
  std::mt19937 rng(5);
  const int L = 1500, ld = 1504;
  const float scale = 0.125f;
  // Row offsets of the scaled scores: near zero, 2^t past fp32's range, every term below it.
  for (const float offset : {0.0f, 400.0f, 1500.0f, -400.0f, -1500.0f}) {
    for (const float spread : {1.0f, 20.0f}) {
      std::normal_distribution<float> d(offset / scale, spread / scale);
      const int rows = 3;
      std::vector<float> S(static_cast<size_t>(rows) * ld), inv_sum(rows);
      for (float& x : S) x = d(rng);
      const std::vector<float> scores = S;
      std::vector<uint16_t> P(static_cast<size_t>(rows) * ld);
      const std::vector<int> visible = {L, L - 7, 1};
      cpu::softmax_rows_to_bf16(S.data(), ld, rows, L, visible.data(), scale, P.data(), ld, inv_sum.data(),
                                nullptr, 0);
      for (int i = 0; i < rows; ++i) {
        const float* s = &scores[static_cast<size_t>(i) * ld];
        double mx = -INFINITY, sum = 0.0;
        for (int j = 0; j < visible[i]; ++j) mx = std::max(mx, static_cast<double>(s[j]));
        for (int j = 0; j < visible[i]; ++j) sum += std::exp(scale * (s[j] - mx));
        for (int j = 0; j < ld; ++j) {
          const double want = j < visible[i] ? std::exp(scale * (s[j] - mx)) / sum : 0.0;
          const double got = from_bf16(P[static_cast<size_t>(i) * ld + j]) * static_cast<double>(inv_sum[i]);
          ASSERT_TRUE(std::isfinite(got)) << offset << " row " << i << " key " << j;
          ASSERT_NEAR(got, want, 4e-3 * want + 1e-9)
              << offset << " spread " << spread << " row " << i << " key " << j;
        }
      }
    }
  }
}

}  // namespace
