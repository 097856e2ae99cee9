// From per-window speech probabilities to speech spans: faster-whisper's get_speech_timestamps
// (faster_whisper/vad.py, adapted there from silero-vad's utils_vad.py), step for step.
//
// A span starts at the first window with P >= threshold and ends where P stays below neg_threshold for
// min_silence_duration_ms; spans of at most min_speech_duration_ms are dropped; a span longer than
// max_speech_duration_s is split at its last silence of more than 98 ms (or, if none, cut); then every span
// is padded by speech_pad_ms on each side (half the gap each when two spans are closer than twice the
// padding).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
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

// The same spans for audio that arrives as it goes: probabilities are pushed in order, and a span is given
// out (take) as soon as nothing later can change it — its end is closed by silence and the padding between
// it and the next span is known. Whatever the pieces the probabilities come in, the spans are those of
// speech_spans() over all of them.
class SpanTracker {
 public:
  explicit SpanTracker(const VadOptions& o);

  void push(const float* probs, size_t n);  // the next windows' probabilities
  void finish(int64_t n_samples);           // the end of the audio (n_samples long); push no more after
  std::vector<SpeechSpan> take();           // the spans final since the last take, in order
  // No span not yet taken starts before this sample (its padding included): audio before it is no longer
  // needed for spans.
  int64_t needed_from() const;

 private:
  void close(SpeechSpan raw);  // a span of speech ends (before padding)
  void pad_ready(bool at_end, int64_t n_samples);
  int64_t earliest_next_start() const;  // the open span's start, or the next window's

  // vad.py's quantities, in samples.
  double min_speech_, pad_, max_speech_, min_silence_, min_silence_at_max_;
  float threshold_, neg_threshold_;
  // Its state machine.
  size_t windows_ = 0;  // pushed so far
  bool triggered_ = false, has_current_ = false;
  SpeechSpan current_;
  int64_t temp_end_ = 0, prev_end_ = 0, next_start_ = 0;
  // The last span closed, its start padded and its end not yet; the spans final.
  std::optional<SpeechSpan> pending_;
  std::vector<SpeechSpan> ready_;
  int64_t last_raw_end_ = 0;  // of the last span closed, before padding
  bool any_out_ = false;      // a span has been closed (the first one's start is padded on its own)
  bool finished_ = false;
};

}  // namespace wisp::vad
