// Loudness levelling of speech (audio/loudness.h): the gain of a stretch, the cap, silence, levelling while
// copying, and the detection copy's slow automatic gain.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "audio/loudness.h"

namespace wisp {
namespace {

constexpr int64_t kSec = 16000;

std::vector<float> tone(size_t n, float amplitude) {
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = amplitude * std::sin(0.05f * static_cast<float>(i));
  return x;
}

double rms(const float* x, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; ++i) s += static_cast<double>(x[i]) * x[i];
  return std::sqrt(s / static_cast<double>(n));
}

TEST(Loudness, QuietSpeechIsBroughtToTheSpeechLevel) {
  std::vector<float> x = tone(2 * kSec, 0.002f);  // about -57 dBFS
  const float gain = audio::level_speech(x.data(), 0, x.size());
  EXPECT_NEAR(gain, audio::kSpeechRms / (0.002 / std::sqrt(2.0)), 1.0);
  EXPECT_NEAR(rms(x.data(), x.size()), audio::kSpeechRms, 0.01);
}

TEST(Loudness, GainIsCappedAndSilenceIsLeftAlone) {
  std::vector<float> faint = tone(kSec, 1e-5f);
  EXPECT_FLOAT_EQ(audio::level_speech(faint.data(), 0, faint.size()), audio::kMaxGain);
  std::vector<float> zeros(kSec, 0.0f);
  EXPECT_FLOAT_EQ(audio::level_speech(zeros.data(), 0, zeros.size()), 1.0f);
  for (float v : zeros) EXPECT_EQ(v, 0.0f);
  std::vector<float> loud = tone(kSec, 0.9f);
  audio::level_speech(loud.data(), 0, loud.size());
  for (float v : loud) EXPECT_LE(std::fabs(v), 1.0f);
}

TEST(Loudness, PiecesAreLevelledAsTheyAreCopied) {
  std::vector<float> x(100);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i);
  const std::vector<audio::Gain> gains = {{10, 20, 2.0f}, {30, 50, 0.5f}};
  std::vector<float> out = {-1.0f};  // appended to
  audio::append_levelled(x.data(), 15, 40, gains, out);
  ASSERT_EQ(out.size(), 26u);
  EXPECT_EQ(out[0], -1.0f);
  EXPECT_EQ(out[1], 30.0f);   // sample 15, gain 2
  EXPECT_EQ(out[5], 38.0f);   // sample 19, gain 2
  EXPECT_EQ(out[6], 20.0f);   // sample 20: no range
  EXPECT_EQ(out[16], 15.0f);  // sample 30, gain 0.5
  EXPECT_EQ(out[25], 19.5f);  // sample 39, gain 0.5
  std::vector<float> plain;
  audio::append_levelled(x.data(), 0, 100, {}, plain);
  EXPECT_EQ(plain, x);
}

TEST(Loudness, DetectionCopyRaisesAQuietPassageBesideALoudOne) {
  std::vector<float> x = tone(3 * kSec, 0.3f);
  const std::vector<float> quiet = tone(3 * kSec, 0.0006f);  // 54 dB below
  x.insert(x.end(), quiet.begin(), quiet.end());
  x.insert(x.end(), 3 * kSec, 0.0f);  // digital silence stays silence
  const std::vector<float> y = audio::levelled_for_detection(x.data(), x.size());
  ASSERT_EQ(y.size(), x.size());
  const double quiet_rms = rms(y.data() + 4 * kSec, kSec);
  EXPECT_GT(quiet_rms, 0.3 * audio::kSpeechRms);
  EXPECT_LT(quiet_rms, 3.0 * audio::kSpeechRms);
  for (size_t i = 7 * kSec; i < y.size(); ++i) ASSERT_EQ(y[i], 0.0f);
  for (float v : y) ASSERT_LE(std::fabs(v), 1.0f);
}

// The plain form of the detection copy, one sample at a time (each finds its blocks from its position):
// the oracle of the one computed in stretches of constant block pair, on several threads.
std::vector<float> levelled_one_sample_at_a_time(const std::vector<float>& x) {
  constexpr size_t kBlock = 16000;
  const size_t n = x.size(), n_blocks = (n + kBlock - 1) / kBlock;
  std::vector<float> gain(n_blocks, 1.0f);
  for (size_t b = 0; b < n_blocks; ++b) {
    std::vector<double> energy;  // 20-ms frames' mean square; the louder half's mean, rooted
    for (size_t f = b * kBlock; f < std::min(n, (b + 1) * kBlock); f += 320) {
      const size_t stop = std::min({n, (b + 1) * kBlock, f + 320});
      double e = 0.0;
      for (size_t i = f; i < stop; ++i) e += static_cast<double>(x[i]) * x[i];
      energy.push_back(e / static_cast<double>(stop - f));
    }
    const size_t half = energy.size() / 2;
    std::nth_element(energy.begin(), energy.begin() + static_cast<std::ptrdiff_t>(half), energy.end());
    double sum = 0.0;
    for (size_t i = half; i < energy.size(); ++i) sum += energy[i];
    const double r = std::sqrt(sum / static_cast<double>(energy.size() - half));
    if (r > audio::kSilenceRms)
      gain[b] = static_cast<float>(std::clamp(audio::kSpeechRms / r, 1.0, double{audio::kMaxDetectionGain}));
  }
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) {
    const double pos = (static_cast<double>(i) - kBlock / 2.0) / kBlock;
    const size_t b0 = pos <= 0 ? 0 : std::min(n_blocks - 1, static_cast<size_t>(pos));
    const size_t b1 = std::min(n_blocks - 1, b0 + 1);
    const double frac = std::clamp(pos - static_cast<double>(b0), 0.0, 1.0);
    const double g = gain[b0] + (gain[b1] - gain[b0]) * frac;
    out[i] = static_cast<float>(std::clamp(x[i] * g, -1.0, 1.0));
  }
  return out;
}

TEST(Loudness, DetectionCopyEqualsThePlainOne) {
  constexpr size_t kBlock = 16000;
  std::mt19937 rng(3);
  std::normal_distribution<float> noise(0.0f, 1.0f);
  for (size_t n : {size_t{1}, size_t{7999}, size_t{8000}, size_t{8001}, kBlock - 1, kBlock, kBlock + 1,
                   3 * kBlock + 8000, 5 * kBlock - 1, 7 * kBlock + 123}) {
    std::vector<float> x(n);
    for (size_t i = 0; i < n; ++i) x[i] = noise(rng) * (i / kBlock % 2 ? 0.001f : 0.2f);  // loud, quiet, ...
    const std::vector<float> want = levelled_one_sample_at_a_time(x);
    EXPECT_EQ(audio::levelled_for_detection(x.data(), n, 1), want) << n;
    EXPECT_EQ(audio::levelled_for_detection(x.data(), n, 2), want) << n;
  }
}

}  // namespace
}  // namespace wisp
