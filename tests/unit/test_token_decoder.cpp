// The token decoders' log-probabilities: each sampled token's log-prob travels with its sequence through
// beam search's reordering, forks and finished candidates, and adds up — the same additions in the same
// order — to the sequence's sum (which ranks candidates and gives avg_logprob).
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "backend/cpu/elementwise.h"
#include "decode/token_decoder.h"

namespace wisp::decode {
namespace {

constexpr int kVocab = 12, kEot = 11, kPrompt = 2;

// Random logits for `rows` rows, <|endoftext|> more likely step by step.
std::vector<float> logits_at(int step, int rows, std::mt19937& rng) {
  std::normal_distribution<float> nd(0.0f, 2.0f);
  std::vector<float> logits(static_cast<size_t>(rows) * kVocab);
  for (float& x : logits) x = nd(rng);
  for (int r = 0; r < rows; ++r)
    logits[static_cast<size_t>(r) * kVocab + kEot] += 0.6f * static_cast<float>(step);
  return logits;
}

void expect_sums_match(const Candidates& c) {
  for (size_t a = 0; a < c.tokens.size(); ++a)
    for (size_t i = 0; i < c.tokens[a].size(); ++i) {
      ASSERT_EQ(c.tokens[a][i].size(), c.token_logprobs[a][i].size());
      float sum = 0.0f;
      for (float lp : c.token_logprobs[a][i]) {
        EXPECT_LE(lp, 0.0f);
        sum += lp;
      }
      EXPECT_EQ(sum, c.sum_logprobs[a][i]) << "window " << a << ", candidate " << i;
    }
}

TEST(TokenDecoder, BeamSearchKeepsEachTokensLogprobWithItsSequence) {
  for (int seed = 0; seed < 20; ++seed) {
    std::mt19937 rng(seed);
    const int beam = 3, windows = 2, rows = beam * windows;
    auto decoder = make_beam_search_decoder(beam, kEot, 1.0f);
    std::vector<std::vector<int>> tokens(rows, std::vector<int>{7, 8});
    std::vector<std::vector<float>> logprobs(rows);
    std::vector<float> sums(rows, 0.0f);
    std::vector<int> source;
    bool done = false;
    for (int step = 0; step < 15 && !done; ++step) {
      const std::vector<float> logits = logits_at(step, rows, rng);
      done = decoder->update(tokens, logprobs, logits.data(), kVocab, sums, source);
      for (int r = 0; r < rows; ++r) {
        ASSERT_EQ(logprobs[r].size() + kPrompt, tokens[r].size());
        float sum = 0.0f;
        for (float lp : logprobs[r]) sum += lp;
        EXPECT_EQ(sum, sums[r]) << "seed " << seed << ", step " << step << ", row " << r;
      }
    }
    expect_sums_match(decoder->finalize(tokens, logprobs, sums, kPrompt));
  }
}

TEST(TokenDecoder, GreedyGivesTheLogSoftmaxOfEachChosenToken) {
  std::mt19937 rng(4), sampling(5);
  for (float temperature : {0.0f, 0.7f}) {
    const int rows = 3;
    auto decoder = make_greedy_decoder(temperature, kEot, rows, &sampling);
    std::vector<std::vector<int>> tokens(rows, std::vector<int>{7, 8});
    std::vector<std::vector<float>> logprobs(rows);
    std::vector<float> sums(rows, 0.0f);
    std::vector<int> source;
    bool done = false;
    for (int step = 0; step < 30 && !done; ++step) {
      const std::vector<float> logits = logits_at(step, rows, rng);
      std::vector<bool> was_done(rows);
      for (int r = 0; r < rows; ++r) was_done[r] = tokens[r].back() == kEot;
      done = decoder->update(tokens, logprobs, logits.data(), kVocab, sums, source);
      for (int r = 0; r < rows; ++r) {
        const float* row = logits.data() + static_cast<size_t>(r) * kVocab;
        ASSERT_EQ(logprobs[r].size() + kPrompt, tokens[r].size());
        if (was_done[r]) {  // a finished row is padded with <|endoftext|>, which adds nothing
          EXPECT_EQ(tokens[r].back(), kEot);
          EXPECT_EQ(logprobs[r].back(), 0.0f);
        } else {
          EXPECT_NEAR(logprobs[r].back(), row[tokens[r].back()] - backend::cpu::log_sum_exp(row, kVocab),
                      1e-5f);
        }
      }
    }
    expect_sums_match(decoder->finalize(tokens, logprobs, sums, kPrompt));
  }
}

}  // namespace
}  // namespace wisp::decode
