// Speech spans from probabilities (faster-whisper's get_speech_timestamps) on hand-made probability tracks,
// and the speech-only audio with its map back to original time (collect_chunks, SpeechTimestampsMap). The
// same code is checked against faster-whisper itself on real audio in test_vad_reference.cpp.
#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "vad/speech_segments.h"
#include "vad/timestamp_map.h"

namespace wisp::vad {
namespace {

// `n` windows of probability `low`, with [from, to) set to `high`.
std::vector<float> track(size_t n, size_t from, size_t to, float high = 0.9f, float low = 0.0f) {
  std::vector<float> p(n, low);
  for (size_t i = from; i < to; ++i) p[i] = high;
  return p;
}

TEST(VadSegments, SilenceHasNoSpeech) {
  EXPECT_TRUE(speech_spans(std::vector<float>(300, 0.1f), 300 * 512, {}).empty());
  EXPECT_TRUE(speech_spans({}, 0, {}).empty());
}

TEST(VadSegments, AllSpeechIsOneSpan) {
  const auto s = speech_spans(std::vector<float>(100, 0.99f), 100 * 512 - 17, {});
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].start, 0);
  EXPECT_EQ(s[0].end, 100 * 512 - 17);
}

TEST(VadSegments, OneSpanPaddedAndClipped) {
  // Speech in windows [10, 41): starts at 10 · 512; the silence from window 41 ends it once 2000 ms (32000
  // samples) have passed; then 400 ms (6400 samples) of padding, the start clipped at 0.
  const auto s = speech_spans(track(200, 10, 41), 200 * 512, {});
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].start, 0);
  EXPECT_EQ(s[0].end, 41 * 512 + 6400);

  const auto far = speech_spans(track(400, 100, 141), 400 * 512, {});
  ASSERT_EQ(far.size(), 1u);
  EXPECT_EQ(far[0].start, 100 * 512 - 6400);
}

TEST(VadSegments, HysteresisKeepsSpeechAboveTheSilenceThreshold) {
  // 0.4 is below the threshold (0.5) but above the silence threshold (0.35): speech goes on through it.
  std::vector<float> p = track(400, 100, 110);
  for (size_t i = 110; i < 200; ++i) p[i] = 0.4f;
  const auto s = speech_spans(p, 400 * 512, {});
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].end, 200 * 512 + 6400);
}

TEST(VadSegments, ShortSilenceJoinsLongSilenceSplits) {
  std::vector<float> p = track(1000, 100, 150);
  for (size_t i = 170; i < 220; ++i) p[i] = 0.9f;  // 20 windows (640 ms) of silence: joined
  for (size_t i = 400; i < 450; ++i) p[i] = 0.9f;  // 180 windows (5.8 s): a new span
  const auto s = speech_spans(p, 1000 * 512, {});
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].start, 100 * 512 - 6400);
  EXPECT_EQ(s[0].end, 220 * 512 + 6400);
  EXPECT_EQ(s[1].start, 400 * 512 - 6400);
  // Closer than twice the padding: the gap is shared half and half.
  VadOptions close;
  close.min_silence_duration_ms = 100;
  const auto c = speech_spans(track(100, 10, 20), 100 * 512, close);
  ASSERT_EQ(c.size(), 1u);
  std::vector<float> two = track(100, 10, 20);
  for (size_t i = 30; i < 40; ++i) two[i] = 0.9f;  // 10 windows = 5120 samples apart, < 2 · 6400
  const auto h = speech_spans(two, 100 * 512, close);
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0].end, 20 * 512 + 5120 / 2);
  EXPECT_EQ(h[1].start, 30 * 512 - 5120 / 2);
}

TEST(VadSegments, MinSpeechDropsBlips) {
  const auto blip = track(400, 100, 105);  // 5 windows = 160 ms
  EXPECT_TRUE(speech_spans(blip, 400 * 512, {}).empty());
  VadOptions keep;
  keep.min_speech_duration_ms = 0;
  EXPECT_EQ(speech_spans(blip, 400 * 512, keep).size(), 1u);
}

TEST(VadSegments, MaxSpeechSplitsAtASilenceOrCuts) {
  VadOptions o;
  o.max_speech_duration_s = 4.0;
  o.speech_pad_ms = 0;
  // 10 s of speech with a 200-ms pause at 3 s: split there.
  std::vector<float> p = track(1000, 0, 320);
  for (size_t i = 94; i < 100; ++i) p[i] = 0.0f;
  auto s = speech_spans(p, 1000 * 512, o);
  ASSERT_GE(s.size(), 2u);
  EXPECT_EQ(s[0].start, 0);
  EXPECT_EQ(s[0].end, 94 * 512);
  EXPECT_EQ(s[1].start, 100 * 512);
  // No pause at all: cut at the limit (max_speech_samples = 4 s · 16000 − 512).
  s = speech_spans(track(1000, 0, 320), 1000 * 512, o);
  ASSERT_GE(s.size(), 2u);
  EXPECT_EQ(s[0].end, 125 * 512);  // the first window past 63488 samples
}

TEST(VadSegments, SpeechToTheEnd) {
  const auto s = speech_spans(track(100, 50, 100), 100 * 512 - 100, {});
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].end, 100 * 512 - 100);
}

TEST(VadTimestampMap, MapsBack) {
  const std::vector<SpeechSpan> spans = {{16000, 32000}, {64000, 80000}};
  const TimestampMap map(spans);
  EXPECT_DOUBLE_EQ(map.original_time(0.0), 1.0);
  EXPECT_DOUBLE_EQ(map.original_time(0.5), 1.5);
  EXPECT_DOUBLE_EQ(map.original_time(1.0), 4.0);        // a start on the boundary: the later span
  EXPECT_DOUBLE_EQ(map.original_time(1.0, true), 2.0);  // an end on it: the earlier one
  EXPECT_DOUBLE_EQ(map.original_time(1.5), 4.5);
  EXPECT_DOUBLE_EQ(map.original_time(2.0, true), 5.0);
  EXPECT_DOUBLE_EQ(map.original_time(2.6), 5.6);     // past the end: the last span
  EXPECT_DOUBLE_EQ(map.original_time(0.123), 1.12);  // rounded to 10 ms, as round(t, 2)

  // Segments: within a span as above; over a join, kept within the span that holds most of them.
  EXPECT_EQ(map.original_segment(0.2, 0.8), std::make_pair(1.2, 1.8));
  EXPECT_EQ(map.original_segment(0.5, 1.0), std::make_pair(1.5, 2.0));  // ends exactly at the join
  EXPECT_EQ(map.original_segment(0.9, 1.8), std::make_pair(4.0, 4.8));  // 0.1 s before the join, 0.8 s after
  EXPECT_EQ(map.original_segment(0.2, 1.1), std::make_pair(1.2, 2.0));  // 0.8 s before, 0.1 s after

  const TimestampMap none({});
  EXPECT_DOUBLE_EQ(none.original_time(3.0), 3.0);
}

}  // namespace
}  // namespace wisp::vad
