#include "vad/speech_segments.h"

#include <algorithm>
#include <cmath>

#include "vad/silero_model.h"

namespace wisp::vad {
namespace {

// Python's a // b for integers (floor division), and int() of a float.
int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0); }
int64_t truncate(double v) { return static_cast<int64_t>(std::trunc(v)); }

}  // namespace

std::vector<SpeechSpan> speech_spans(const std::vector<float>& probs, int64_t n_samples,
                                     const VadOptions& o) {
  SpanTracker t(o);
  t.push(probs.data(), probs.size());
  t.finish(n_samples);
  return t.take();
}

// The quantities of vad.py, in samples, as it computes them (floats where Python has floats).
SpanTracker::SpanTracker(const VadOptions& o) {
  const double sr = kSampleRate, window = kWindowSamples;
  min_speech_ = sr * o.min_speech_duration_ms / 1000.0;
  pad_ = sr * o.speech_pad_ms / 1000.0;
  max_speech_ = sr * o.max_speech_duration_s - window - 2.0 * pad_;
  min_silence_ = sr * o.min_silence_duration_ms / 1000.0;
  min_silence_at_max_ = sr * 98.0 / 1000.0;
  threshold_ = o.threshold;
  neg_threshold_ = o.neg_threshold >= 0.0f ? o.neg_threshold : std::max(threshold_ - 0.15f, 0.01f);
}

// vad.py's loop over the windows, one at a time (temp_end 0 is "unset" there too).
void SpanTracker::push(const float* probs, size_t n) {
  for (size_t k = 0; k < n; ++k, ++windows_) {
    const float p = probs[k];
    const int64_t pos = static_cast<int64_t>(kWindowSamples) * static_cast<int64_t>(windows_);
    if (p >= threshold_ && temp_end_ != 0) {
      temp_end_ = 0;
      if (next_start_ < prev_end_) next_start_ = pos;
    }
    if (p >= threshold_ && !triggered_) {
      triggered_ = true;
      current_ = {pos, 0};
      has_current_ = true;
      continue;
    }
    if (triggered_ && static_cast<double>(pos - current_.start) > max_speech_) {
      if (prev_end_ != 0) {
        current_.end = prev_end_;
        close(current_);
        has_current_ = false;
        if (next_start_ < prev_end_) {  // still silence since prev_end: the span ends there
          triggered_ = false;
        } else {  // speech again since next_start: a new span starts there
          current_ = {next_start_, 0};
          has_current_ = true;
        }
        prev_end_ = next_start_ = temp_end_ = 0;
      } else {  // no silence to split at: cut here
        current_.end = pos;
        close(current_);
        has_current_ = false;
        prev_end_ = next_start_ = temp_end_ = 0;
        triggered_ = false;
        continue;
      }
    }
    if (p < neg_threshold_ && triggered_) {
      if (temp_end_ == 0) temp_end_ = pos;
      if (static_cast<double>(pos - temp_end_) > min_silence_at_max_) prev_end_ = temp_end_;
      if (static_cast<double>(pos - temp_end_) < min_silence_) continue;
      current_.end = temp_end_;
      if (static_cast<double>(current_.end - current_.start) > min_speech_) close(current_);
      has_current_ = false;
      prev_end_ = next_start_ = temp_end_ = 0;
      triggered_ = false;
      continue;
    }
  }
  pad_ready(false, 0);
}

void SpanTracker::finish(int64_t n_samples) {
  if (finished_) return;
  finished_ = true;
  if (has_current_ && static_cast<double>(n_samples - current_.start) > min_speech_) {
    current_.end = n_samples;
    close(current_);
  }
  has_current_ = false;
  pad_ready(true, n_samples);
}

// Padding: each side by speech_pad_ms, or half the gap when two spans are closer than twice that. A span's
// start is padded when it closes (the span before it is known); its end once the next span's start is.
void SpanTracker::close(SpeechSpan raw) {
  SpeechSpan s = raw;
  if (!any_out_) {
    s.start = truncate(std::max(0.0, static_cast<double>(raw.start) - pad_));
  } else {
    const int64_t silence = raw.start - last_raw_end_;
    if (static_cast<double>(silence) < 2.0 * pad_) {
      s.start = std::max<int64_t>(0, raw.start - floor_div(silence, 2));
      if (pending_) pending_->end += floor_div(silence, 2);
    } else {
      s.start = truncate(std::max(0.0, static_cast<double>(raw.start) - pad_));
      // Below the next span's start, so below the audio's length (vad.py's min with it changes nothing).
      if (pending_) pending_->end = truncate(static_cast<double>(pending_->end) + pad_);
    }
    if (pending_) ready_.push_back(*pending_);
  }
  any_out_ = true;
  last_raw_end_ = raw.end;
  pending_ = s;  // its end still raw
}

void SpanTracker::pad_ready(bool at_end, int64_t n_samples) {
  if (!pending_) return;
  SpeechSpan& last = *pending_;
  if (at_end) {
    last.end = truncate(std::min(static_cast<double>(n_samples), static_cast<double>(last.end) + pad_));
  } else {
    // When the next span is twice the padding away at the earliest, the end gets the whole padding whatever
    // comes.
    if (static_cast<double>(earliest_next_start() - last.end) < 2.0 * pad_) return;
    last.end = truncate(static_cast<double>(last.end) + pad_);
  }
  ready_.push_back(last);
  pending_.reset();
}

int64_t SpanTracker::earliest_next_start() const {
  return has_current_ ? current_.start : static_cast<int64_t>(kWindowSamples * windows_);
}

std::vector<SpeechSpan> SpanTracker::take() {
  std::vector<SpeechSpan> out;
  out.swap(ready_);
  return out;
}

int64_t SpanTracker::needed_from() const {
  if (!ready_.empty()) return ready_.front().start;
  if (pending_) return pending_->start;
  return std::max<int64_t>(0, earliest_next_start() - static_cast<int64_t>(std::ceil(pad_)));
}

}  // namespace wisp::vad
