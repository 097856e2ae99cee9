// VAD spans → chunks of at most 30 s for the batched mode, and the loudness levelling of speech.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "audio/loudness.h"
#include "core/error.h"
#include "vad/speech_chunks.h"

namespace wisp {
namespace {

constexpr int64_t kSec = 16000;

TEST(SpeechChunks, MergesSpansUpToTheLimitAndCutsOnlyBetweenThem) {
  const std::vector<vad::SpeechSpan> spans = {
      {0, 10 * kSec}, {12 * kSec, 25 * kSec}, {26 * kSec, 31 * kSec}, {40 * kSec, 45 * kSec}};
  const auto chunks = vad::speech_chunks(spans, 30 * kSec);
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[0].start, 0);
  EXPECT_EQ(chunks[0].end, 25 * kSec);
  EXPECT_EQ(chunks[0].spans.size(), 2u);
  EXPECT_EQ(chunks[1].start, 26 * kSec);  // 31 s would not fit in the first chunk
  EXPECT_EQ(chunks[1].end, 45 * kSec);
  EXPECT_EQ(chunks[1].spans.size(), 2u);
}

TEST(SpeechChunks, ASpanLongerThanTheLimitIsCutIntoPieces) {
  const auto chunks = vad::speech_chunks({{5, 5 + 70 * kSec}}, 30 * kSec);
  ASSERT_EQ(chunks.size(), 3u);
  for (const auto& c : chunks) EXPECT_LE(c.end - c.start, 30 * kSec);
  EXPECT_EQ(chunks[0].start, 5);
  EXPECT_EQ(chunks[2].end, 5 + 70 * kSec);
  EXPECT_EQ(chunks[1].start, chunks[0].end);
}

TEST(SpeechChunks, EmptyAndBadInput) {
  EXPECT_TRUE(vad::speech_chunks({}, 30 * kSec).empty());
  EXPECT_TRUE(vad::speech_chunks({{10, 10}}, 30 * kSec).empty());
  EXPECT_THROW(vad::speech_chunks({{0, 10}}, 0), Error);
}

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

}  // namespace
}  // namespace wisp
