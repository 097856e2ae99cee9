#include "vad/timestamp_map.h"

#include <algorithm>
#include <cmath>

#include "vad/silero_model.h"

namespace wisp::vad {

TimestampMap::TimestampMap(const std::vector<SpeechSpan>& spans) {
  int64_t previous_end = 0, silent = 0;
  for (const SpeechSpan& s : spans) {
    silent += s.start - previous_end;
    previous_end = s.end;
    chunk_end_.push_back(s.end - silent);
    silence_before_.push_back(static_cast<double>(silent) / kSampleRate);
  }
}

size_t TimestampMap::chunk_index(double t, bool is_end) const {
  // The span whose end is the first above the sample (bisect_right), the last one at most; an end time
  // exactly at a span's end stays in that span.
  const double at = t * kSampleRate;  // int(time * sampling_rate): truncated
  const auto sample = std::isfinite(at) && at > 0 && at < 9e18 ? static_cast<int64_t>(at) : int64_t{0};
  const auto exact = std::find(chunk_end_.begin(), chunk_end_.end(), sample);
  if (is_end && exact != chunk_end_.end()) return static_cast<size_t>(exact - chunk_end_.begin());
  const auto above = std::upper_bound(chunk_end_.begin(), chunk_end_.end(), sample);
  return std::min(chunk_end_.size() - 1, static_cast<size_t>(above - chunk_end_.begin()));
}

double TimestampMap::in_chunk(double t, size_t index) const {
  return std::round((silence_before_[index] + t) * 100.0) / 100.0;  // round(t, 2)
}

double TimestampMap::original_time(double t, bool is_end) const {
  if (chunk_end_.empty()) return t;
  return in_chunk(t, chunk_index(t, is_end));
}

std::pair<double, double> TimestampMap::original_segment(double start, double end) const {
  if (chunk_end_.empty()) return {start, end};
  const size_t first = chunk_index(start, false), last = chunk_index(end, true);
  if (first >= last) {
    // Past the end of the speech (Whisper's last timestamp can overshoot the audio it was given): the end of
    // the last span.
    const double finish = static_cast<double>(chunk_end_[last]) / kSampleRate;
    return {in_chunk(std::min(start, finish), first), in_chunk(std::min(end, finish), last)};
  }
  // Seconds of [start, end] in each span it touches; the span with the most keeps the segment.
  size_t best = first;
  double best_overlap = -1.0, best_begin = 0.0, best_end = 0.0;
  for (size_t k = first; k <= last; ++k) {
    const double begin = k == 0 ? 0.0 : static_cast<double>(chunk_end_[k - 1]) / kSampleRate;
    const double finish = static_cast<double>(chunk_end_[k]) / kSampleRate;
    const double overlap = std::min(end, finish) - std::max(start, begin);
    if (overlap > best_overlap) {
      best = k;
      best_overlap = overlap;
      best_begin = std::max(start, begin);
      best_end = std::min(end, finish);
    }
  }
  return {in_chunk(best_begin, best), in_chunk(best_end, best)};
}

}  // namespace wisp::vad
