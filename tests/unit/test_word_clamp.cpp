// Words held to the speech the VAD found (vad/word_clamp.h).
#include <gtest/gtest.h>

#include "vad/word_clamp.h"

namespace wisp {
namespace {

Segment segment(std::vector<std::pair<double, double>> words) {
  Segment s;
  for (auto [a, b] : words) s.words.push_back({" w", a, b, 1.0f});
  s.start = words.front().first;
  s.end = words.back().second;
  return s;
}

constexpr int64_t kSec = 16000;

TEST(WordClamp, WordsStretchedOverAPauseAreHeldToTheSpeech) {
  // Speech [1, 3) s and [5, 7) s.
  const std::vector<vad::SpeechSpan> speech = {{1 * kSec, 3 * kSec}, {5 * kSec, 7 * kSec}};
  Segment s = segment({{2.0, 2.5}, {2.5, 4.2}, {4.4, 5.6}, {5.6, 6.0}});
  vad::clamp_words_to_speech(s, speech);
  EXPECT_DOUBLE_EQ(s.words[0].start, 2.0);  // inside the speech: untouched
  EXPECT_DOUBLE_EQ(s.words[0].end, 2.5);
  EXPECT_DOUBLE_EQ(s.words[1].end, 3.0);    // ran into the pause: ends with the speech
  EXPECT_DOUBLE_EQ(s.words[2].start, 5.0);  // started in the pause: starts with the speech
  EXPECT_DOUBLE_EQ(s.words[2].end, 5.6);
  EXPECT_DOUBLE_EQ(s.start, 2.0);
  EXPECT_DOUBLE_EQ(s.end, 6.0);
}

TEST(WordClamp, AWordEntirelyInAPauseOrNoSpeechIsLeftAsItIs) {
  const std::vector<vad::SpeechSpan> speech = {{1 * kSec, 3 * kSec}, {5 * kSec, 7 * kSec}};
  Segment s = segment({{3.5, 4.5}});
  vad::clamp_words_to_speech(s, speech);
  EXPECT_DOUBLE_EQ(s.words[0].start, 3.5);
  EXPECT_DOUBLE_EQ(s.words[0].end, 4.5);
  Segment t = segment({{0.2, 0.8}, {8.0, 9.0}});  // before the first and after the last stretch
  vad::clamp_words_to_speech(t, speech);
  EXPECT_DOUBLE_EQ(t.words[0].start, 0.2);
  EXPECT_DOUBLE_EQ(t.words[1].end, 9.0);
  Segment u = segment({{2.0, 4.0}});
  vad::clamp_words_to_speech(u, {});
  EXPECT_DOUBLE_EQ(u.words[0].end, 4.0);
  Segment empty;
  empty.start = 1.0;
  empty.end = 2.0;
  vad::clamp_words_to_speech(empty, speech);
  EXPECT_DOUBLE_EQ(empty.end, 2.0);
}

}  // namespace
}  // namespace wisp
