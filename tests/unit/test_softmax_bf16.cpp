// The bf16 attention's softmax (scores to bf16 probabilities and 1 / Σ) against a double-precision softmax,
// for rows near zero and rows far from it: where 2^(scale · s) overflows fp32 or every term underflows it
// must fall back to subtracting the row's maximum. And the AMX kernel that fuses the scores with the softmax
// gives the two-step path's probabilities and sums to the bit.
#include <gtest/gtest.h>

#include <algorithm>
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

TEST(SoftmaxBf16, FusedAmxKernelIsTheTwoStepPathToTheBit) {
  if (!cpu::isa_supported(cpu::Isa::Amx)) GTEST_SKIP() << "no AMX on this CPU";
  std::mt19937 rng(6);
  std::normal_distribution<float> d(0.0f, 1.0f);
  const float scale = 0.125f;
  for (const int L : {1, 15, 16, 17, 100, 127, 128, 129, 333, 1500})
    for (const int rows : {1, 5, 16, 17, 45, 64})
      for (const bool causal : {false, true}) {
        SCOPED_TRACE(testing::Message() << "L " << L << " rows " << rows << " causal " << causal);
        const int rows16 = (rows + 15) / 16 * 16, ld = (L + 31) / 32 * 32, panels = (L + 15) / 16;
        const int value_depth = (L + 63) / 64 * 64;
        // Queries as bf16 rows of 64 (zero rows up to 16), keys packed by the cache's own writer.
        std::vector<float> qf(static_cast<size_t>(rows) * 64), k(static_cast<size_t>(L) * 64),
            v(static_cast<size_t>(L) * 64);
        for (float& x : qf) x = 3.0f * d(rng);
        for (float& x : k) x = d(rng);
        for (float& x : v) x = d(rng);
        std::vector<uint16_t> q(static_cast<size_t>(rows16) * 64, 0);
        for (size_t i = 0; i < qf.size(); ++i) {
          uint32_t bits;
          std::memcpy(&bits, &qf[i], sizeof bits);
          q[i] = static_cast<uint16_t>((bits + 0x7fff + ((bits >> 16) & 1)) >> 16);  // nearest even
        }
        std::vector<uint16_t> keys(static_cast<size_t>(panels) * 64 * 16, 0),
            values(static_cast<size_t>(4) * value_depth * 16, 0);
        cpu::kv_write_head_bf16(k.data(), 64, v.data(), 64, L, 0, 64, 64, value_depth, keys.data(),
                                values.data());
        std::vector<int> visible(rows);
        for (int i = 0; i < rows; ++i) visible[i] = causal ? std::max(1, L - rows + i + 1) : L;

        std::vector<float> S(static_cast<size_t>(rows16) * ld), inv_two(rows), inv_fused(rows);
        std::vector<uint16_t> P_two(static_cast<size_t>(rows) * ld), P_fused(P_two.size(), 0xffff);
        cpu::scores_amx_d64(q.data(), 64, rows, keys.data(), L, S.data(), ld);
        cpu::softmax_rows_to_bf16(S.data(), ld, rows, L, visible.data(), scale, P_two.data(), ld,
                                  inv_two.data(), nullptr, 0);
        std::vector<float> scratch(cpu::scores_softmax_amx_scratch_floats());
        ASSERT_TRUE(cpu::scores_softmax_amx_d64(q.data(), 64, rows, keys.data(), L, visible.data(), scale,
                                                P_fused.data(), ld, inv_fused.data(), scratch.data()));
        ASSERT_EQ(P_fused, P_two);
        ASSERT_EQ(std::memcmp(inv_fused.data(), inv_two.data(), sizeof(float) * rows), 0);
      }
  // Sums out of range: the fused kernel says so (the caller then takes the two-step path).
  std::vector<uint16_t> q(16 * 64, 0x4400), keys(64 * 16, 0x4400);  // every score 64 · 512² = 2^24
  std::vector<float> inv(1), scratch(cpu::scores_softmax_amx_scratch_floats());
  std::vector<uint16_t> P(32);
  const int visible = 16;
  EXPECT_FALSE(cpu::scores_softmax_amx_d64(q.data(), 64, 1, keys.data(), 16, &visible, 0.125f, P.data(), 32,
                                           inv.data(), scratch.data()));
}

}  // namespace
