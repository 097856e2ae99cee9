// From per-window speech probabilities to speech spans: faster-whisper's get_speech_timestamps
// (faster_whisper/vad.py, adapted there from silero-vad's utils_vad.py), step for step.
//
// A span starts at the first window with P >= threshold and ends where P stays below neg_threshold for
// min_silence_duration_ms; spans of at most min_speech_duration_ms are dropped; a span longer than
// max_speech_duration_s is split at its last silence of more than 98 ms (or, if none, cut); then every span
// is padded by speech_pad_ms on each side (half the gap each when two spans are closer than twice the
// padding).
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

namespace wisp::vad {

struct VadOptions {
  float threshold = 0.5f;            // P(speech) at or above: speech
  float neg_threshold = -1.0f;       // below: silence; < 0: threshold - 0.15
  int min_speech_duration_ms = 250;  // shorter spans are dropped
  double max_speech_duration_s = std::numeric_limits<double>::infinity();  // longer spans are split
  int min_silence_duration_ms = 2000;                                      // silence that ends a span
  int speech_pad_ms = 400;                                                 // added on each side
};

// A span of samples [start, end).
struct SpeechSpan {
  int64_t start = 0, end = 0;
};

// `probs`: one per 512-sample window (SileroVad::speech_probabilities); `n_samples`: the audio's length.
// Spans are in order and inside [0, n_samples].
std::vector<SpeechSpan> speech_spans(const std::vector<float>& probs, int64_t n_samples, const VadOptions& o);

}  // namespace wisp::vad
