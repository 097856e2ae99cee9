#include "vad/speech_segments.h"

#include <algorithm>
#include <cmath>

#include "vad/silero_model.h"

namespace wisp::vad {
namespace {

// Python's a // b for integers (floor division).
int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0); }

}  // namespace

std::vector<SpeechSpan> speech_spans(const std::vector<float>& probs, int64_t n_samples,
                                     const VadOptions& o) {
  // The quantities of vad.py, in samples, as it computes them (floats where Python has floats).
  const double sr = kSampleRate, window = kWindowSamples;
  const double min_speech_samples = sr * o.min_speech_duration_ms / 1000.0;
  const double speech_pad_samples = sr * o.speech_pad_ms / 1000.0;
  const double max_speech_samples = sr * o.max_speech_duration_s - window - 2.0 * speech_pad_samples;
  const double min_silence_samples = sr * o.min_silence_duration_ms / 1000.0;
  const double min_silence_samples_at_max_speech = sr * 98.0 / 1000.0;
  const float threshold = o.threshold;
  const float neg_threshold = o.neg_threshold >= 0.0f ? o.neg_threshold : std::max(threshold - 0.15f, 0.01f);

  std::vector<SpeechSpan> speeches;
  bool triggered = false;
  bool has_current = false;  // vad.py's current_speech dict is non-empty (it then always has a start)
  SpeechSpan current;
  int64_t temp_end = 0;  // a possible end of the current span (0: none; as vad.py, 0 is "unset")
  int64_t prev_end = 0, next_start = 0;  // where to split a span that grows past max_speech_duration_s

  for (size_t i = 0; i < probs.size(); ++i) {
    const float p = probs[i];
    const int64_t pos = static_cast<int64_t>(kWindowSamples) * static_cast<int64_t>(i);
    if (p >= threshold && temp_end != 0) {
      temp_end = 0;
      if (next_start < prev_end) next_start = pos;
    }
    if (p >= threshold && !triggered) {
      triggered = true;
      current = {pos, 0};
      has_current = true;
      continue;
    }
    if (triggered && static_cast<double>(pos - current.start) > max_speech_samples) {
      if (prev_end != 0) {
        current.end = prev_end;
        speeches.push_back(current);
        has_current = false;
        if (next_start < prev_end) {  // still silence since prev_end: the span ends there
          triggered = false;
        } else {  // speech again since next_start: a new span starts there
          current = {next_start, 0};
          has_current = true;
        }
        prev_end = next_start = temp_end = 0;
      } else {  // no silence to split at: cut here
        current.end = pos;
        speeches.push_back(current);
        has_current = false;
        prev_end = next_start = temp_end = 0;
        triggered = false;
        continue;
      }
    }
    if (p < neg_threshold && triggered) {
      if (temp_end == 0) temp_end = pos;
      if (static_cast<double>(pos - temp_end) > min_silence_samples_at_max_speech) prev_end = temp_end;
      if (static_cast<double>(pos - temp_end) < min_silence_samples) continue;
      current.end = temp_end;
      if (static_cast<double>(current.end - current.start) > min_speech_samples) speeches.push_back(current);
      has_current = false;
      prev_end = next_start = temp_end = 0;
      triggered = false;
      continue;
    }
  }
  if (has_current && static_cast<double>(n_samples - current.start) > min_speech_samples) {
    current.end = n_samples;
    speeches.push_back(current);
  }

  // Padding: each side by speech_pad_ms, or half the gap when two spans are closer than twice that.
  const auto truncate = [](double v) { return static_cast<int64_t>(std::trunc(v)); };
  for (size_t i = 0; i < speeches.size(); ++i) {
    SpeechSpan& s = speeches[i];
    if (i == 0) s.start = truncate(std::max(0.0, static_cast<double>(s.start) - speech_pad_samples));
    if (i + 1 < speeches.size()) {
      SpeechSpan& next = speeches[i + 1];
      const int64_t silence = next.start - s.end;
      if (static_cast<double>(silence) < 2.0 * speech_pad_samples) {
        s.end += floor_div(silence, 2);
        next.start = std::max<int64_t>(0, next.start - floor_div(silence, 2));
      } else {
        s.end = truncate(
            std::min(static_cast<double>(n_samples), static_cast<double>(s.end) + speech_pad_samples));
        next.start = truncate(std::max(0.0, static_cast<double>(next.start) - speech_pad_samples));
      }
    } else {
      s.end =
          truncate(std::min(static_cast<double>(n_samples), static_cast<double>(s.end) + speech_pad_samples));
    }
  }
  return speeches;
}

}  // namespace wisp::vad
