#include "vad/word_clamp.h"

#include <algorithm>

namespace wisp::vad {
namespace {

constexpr double kRate = 16000.0;

}  // namespace

void clamp_words_to_speech(Segment& segment, const std::vector<SpeechSpan>& stretches) {
  if (segment.words.empty() || stretches.empty()) return;
  for (Word& w : segment.words) {
    // The first stretch that ends after the word's start: the word starts inside it or in the pause before.
    auto next = std::upper_bound(
        stretches.begin(), stretches.end(), w.start,
        [](double t, const SpeechSpan& s) { return t * kRate < static_cast<double>(s.end); });
    if (next != stretches.end()) {
      const double begin = static_cast<double>(next->start) / kRate;
      if (w.start < begin && begin < w.end) w.start = begin;
    }
    // The last stretch that starts before the word's end: the word ends inside it or in the pause after.
    auto prev = std::lower_bound(
        stretches.begin(), stretches.end(), w.end,
        [](const SpeechSpan& s, double t) { return static_cast<double>(s.start) < t * kRate; });
    if (prev != stretches.begin()) {
      const double end = static_cast<double>((prev - 1)->end) / kRate;
      if (w.end > end && end > w.start) w.end = end;
    }
  }
  segment.start = segment.words.front().start;
  segment.end = std::max(segment.start, segment.words.back().end);
}

void clamp_words_to_speech(std::vector<Segment>& segments, const std::vector<SpeechSpan>& stretches) {
  for (Segment& s : segments) clamp_words_to_speech(s, stretches);
}

}  // namespace wisp::vad
