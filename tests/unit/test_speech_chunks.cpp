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

TEST(SpeechChunks, PacksSpansUpToTheLimitAndCutsOnlyBetweenThem) {
  // Pauses of 2 s, 0.5 s, 9 s; at most 1 s of a pause is kept.
  const std::vector<vad::SpeechSpan> spans = {
      {0, 10 * kSec}, {12 * kSec, 25 * kSec}, {25 * kSec + kSec / 2, 28 * kSec}, {37 * kSec, 45 * kSec}};
  const auto chunks = vad::speech_chunks(spans, 30 * kSec, kSec);
  ASSERT_EQ(chunks.size(), 2u);
  // 10 s + 1 s of the 2-s pause + 13 s + the whole 0.5-s pause + 2.5 s = 27 s; 1 s + 8 s more would pass 30.
  ASSERT_EQ(chunks[0].pieces.size(), 2u);
  EXPECT_EQ(chunks[0].pieces[0].start, 0);
  EXPECT_EQ(chunks[0].pieces[0].end, 11 * kSec);  // the pause shortened to 1 s
  EXPECT_EQ(chunks[0].pieces[1].start, 12 * kSec);
  EXPECT_EQ(chunks[0].pieces[1].end, 28 * kSec);  // the short pause kept whole: one piece
  EXPECT_EQ(chunks[0].samples(), 27 * kSec);
  EXPECT_EQ(chunks[1].start(), 37 * kSec);
  EXPECT_EQ(chunks[1].end(), 45 * kSec);
}

TEST(SpeechChunks, LongSilencesNoLongerFillWindows) {
  // Five 5-s spans 10 s apart: 25 s of speech and four 1-s pauses fit one 30-s window (without the
  // shortening they would take three).
  std::vector<vad::SpeechSpan> spans;
  for (int i = 0; i < 5; ++i) spans.push_back({i * 15 * kSec, (i * 15 + 5) * kSec});
  const auto chunks = vad::speech_chunks(spans, 30 * kSec, kSec);
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].samples(), 29 * kSec);
  EXPECT_EQ(chunks[0].pieces.size(), 5u);
}

TEST(SpeechChunks, ASpanLongerThanTheLimitIsCutIntoPieces) {
  const auto chunks = vad::speech_chunks({{5, 5 + 70 * kSec}}, 30 * kSec, kSec);
  ASSERT_EQ(chunks.size(), 3u);
  for (const auto& c : chunks) EXPECT_LE(c.samples(), 30 * kSec);
  EXPECT_EQ(chunks[0].start(), 5);
  EXPECT_EQ(chunks[2].end(), 5 + 70 * kSec);
  EXPECT_EQ(chunks[1].start(), chunks[0].end());
}

TEST(SpeechChunks, EmptyAndBadInput) {
  EXPECT_TRUE(vad::speech_chunks({}, 30 * kSec, kSec).empty());
  EXPECT_TRUE(vad::speech_chunks({{10, 10}}, 30 * kSec, kSec).empty());
  EXPECT_THROW(vad::speech_chunks({{0, 10}}, 0, kSec), Error);
  EXPECT_THROW(vad::speech_chunks({{0, 10}}, 10, -1), Error);
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
