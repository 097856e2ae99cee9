// The VAD's LSTM recurrence on two threads (half-steps claimed by whichever thread gets there) gives, bit for
// bit, what one thread gives, and both follow the textbook LSTM cell.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "vad/lstm_recurrence.h"

namespace {

using wisp::vad::kHidden;
constexpr int kGates = 4 * kHidden;

struct Inputs {
  std::vector<float> w_hh, out_w, gates;
  float out_b = 0.1f;
};

Inputs random_inputs(int n) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  Inputs in;
  in.w_hh.resize(static_cast<size_t>(kGates) * kHidden);
  for (float& x : in.w_hh) x = 0.2f * u(rng);
  in.out_w.resize(kHidden);
  for (float& x : in.out_w) x = u(rng);
  in.gates.resize(static_cast<size_t>(n) * kGates);
  for (float& x : in.gates) x = 2.0f * u(rng);
  return in;
}

struct Outputs {
  std::vector<float> probs, h, c;
};

Outputs run(const Inputs& in, int n, int threads) {
  const std::vector<float> packed = wisp::vad::pack_recurrent_weights(in.w_hh.data());
  std::vector<float> gates = in.gates;
  Outputs out{std::vector<float>(n), std::vector<float>(kHidden, 0.0f), std::vector<float>(kHidden, 0.0f)};
  // Two blocks, the state carried from one to the next.
  const int first = n / 3;
  for (const auto& [begin, end] : {std::pair{0, first}, std::pair{first, n}})
    wisp::vad::lstm_recurrence({.w_hh = packed.data(),
                                .out_w = in.out_w.data(),
                                .out_b = in.out_b,
                                .gates = gates.data() + static_cast<size_t>(begin) * kGates,
                                .n = end - begin,
                                .h = out.h.data(),
                                .c = out.c.data(),
                                .probs = out.probs.data() + begin},
                               threads);
  return out;
}

float sigmoid(double x) { return static_cast<float>(1.0 / (1.0 + std::exp(-x))); }

TEST(LstmRecurrence, TwoThreadsGiveOneThreadsResultToTheBit) {
  constexpr int n = 700;
  const Inputs in = random_inputs(n);
  const Outputs one = run(in, n, 1);
  for (int rep = 0; rep < 20; ++rep) {  // claims race differently from run to run
    const Outputs two = run(in, n, 2);
    ASSERT_EQ(two.probs, one.probs) << rep;
    ASSERT_EQ(two.h, one.h) << rep;
    ASSERT_EQ(two.c, one.c) << rep;
  }
}

TEST(LstmRecurrence, FollowsTheLstmCell) {
  constexpr int n = 50;
  const Inputs in = random_inputs(n);
  const Outputs fast = run(in, n, 2);
  std::vector<double> h(kHidden, 0.0), c(kHidden, 0.0), g(kGates);
  for (int s = 0; s < n; ++s) {
    for (int r = 0; r < kGates; ++r) {
      double sum = in.gates[static_cast<size_t>(s) * kGates + r];
      for (int k = 0; k < kHidden; ++k) sum += in.w_hh[static_cast<size_t>(r) * kHidden + k] * h[k];
      g[r] = sum;
    }
    double logit = in.out_b;
    for (int u = 0; u < kHidden; ++u) {
      const double i = sigmoid(g[u]), f = sigmoid(g[kHidden + u]), cell = std::tanh(g[2 * kHidden + u]),
                   o = sigmoid(g[3 * kHidden + u]);
      c[u] = f * c[u] + i * cell;
      h[u] = o * std::tanh(c[u]);
      logit += in.out_w[u] * std::max(h[u], 0.0);
    }
    EXPECT_NEAR(fast.probs[s], sigmoid(logit), 1e-5) << s;
  }
  for (int u = 0; u < kHidden; ++u) EXPECT_NEAR(fast.h[u], h[u], 1e-5) << u;
}

}  // namespace
