// openai's hallucination_silence_threshold in seek_after_words: a segment whose words look hallucinated
// (improbable, or too short) between silences longer than the threshold is dropped with what follows it and
// the next window starts at it; a window that starts with such a segment after a long silence is skipped up
// to it; without the threshold, the next window starts after the last word as before. The expected seeks are
// openai/whisper transcribe()'s for the same words (worked by hand from its code).
#include <gtest/gtest.h>

#include "pipeline/window_result.h"

namespace wisp {
namespace {

Segment words_segment(double start, double end, int n, float probability) {
  Segment s;
  s.start = start;
  s.end = end;
  s.text = " words";
  const double d = (end - start) / n;
  for (int i = 0; i < n; ++i)
    s.words.push_back({" w" + std::to_string(i), start + i * d, start + (i + 1) * d, probability});
  return s;
}

WindowSegments window(std::vector<Segment> segments) {
  WindowSegments w;
  w.segments = std::move(segments);
  w.next_seek = 3000;  // the whole window: its text ended without a timestamp pair
  return w;
}

TEST(HallucinationSkip, WithoutThresholdTheNextWindowStartsAfterTheLastWord) {
  WindowSegments w = window({words_segment(0.5, 5.0, 10, 0.9f), words_segment(20.0, 21.0, 4, 0.05f)});
  double last_speech = 0.0;
  EXPECT_FALSE(seek_after_words(w, 0, 3000, 0.0, last_speech));
  EXPECT_EQ(w.next_seek, 2100);
  EXPECT_EQ(w.segments.size(), 2u);
  EXPECT_DOUBLE_EQ(last_speech, 21.0);
}

TEST(HallucinationSkip, AHallucinationBetweenSilencesIsDroppedAndDecodedAgain) {
  WindowSegments w = window({words_segment(0.5, 5.0, 10, 0.9f), words_segment(20.0, 21.0, 4, 0.05f)});
  double last_speech = 0.0;
  EXPECT_FALSE(seek_after_words(w, 0, 3000, 0.0, last_speech, 2.0f, 6000, kOpenaiPunctuation));
  EXPECT_EQ(w.next_seek, 2000);  // from the dropped segment's start
  ASSERT_EQ(w.segments.size(), 1u);
  EXPECT_DOUBLE_EQ(last_speech, 5.0);
}

TEST(HallucinationSkip, ASilenceThenAHallucinationAtTheStartSkipsTheWindow) {
  WindowSegments w = window({words_segment(35.0, 36.0, 4, 0.05f), words_segment(37.0, 45.0, 16, 0.9f)});
  double last_speech = 12.0;
  EXPECT_TRUE(seek_after_words(w, 3000, 3000, 30.0, last_speech, 2.0f, 9000, kOpenaiPunctuation));
  EXPECT_EQ(w.next_seek, 3500);  // up to the hallucination, 5 s into the window
  EXPECT_TRUE(w.segments.empty());
  EXPECT_DOUBLE_EQ(last_speech, 12.0);  // unchanged, as openai's `continue`
}

TEST(HallucinationSkip, ProbableWordsStay) {
  WindowSegments w = window({words_segment(0.5, 5.0, 10, 0.9f), words_segment(20.0, 24.0, 8, 0.8f)});
  double last_speech = 0.0;
  EXPECT_FALSE(seek_after_words(w, 0, 3000, 0.0, last_speech, 2.0f, 6000, kOpenaiPunctuation));
  EXPECT_EQ(w.segments.size(), 2u);
  // The last word ends 6 s before the window's end (more than the threshold): the rest is decoded again.
  EXPECT_EQ(w.next_seek, 2400);
  EXPECT_DOUBLE_EQ(last_speech, 24.0);
}

}  // namespace
}  // namespace wisp
