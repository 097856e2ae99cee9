// VAD spans → chunks of at most 30 s for the batched mode (vad/speech_chunks.h).
#include <gtest/gtest.h>

#include <vector>

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

}  // namespace
}  // namespace wisp
