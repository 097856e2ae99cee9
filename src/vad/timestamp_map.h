// The way back from speech-only audio (spans end to end, as faster-whisper's collect_chunks with an infinite
// max_duration builds it) to the original timeline: faster-whisper's SpeechTimestampsMap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "vad/speech_segments.h"

namespace wisp::vad {

class TimestampMap {
 public:
  explicit TimestampMap(const std::vector<SpeechSpan>& spans);

  // A time in the speech-only audio (seconds) → the same moment in the original audio, rounded to 10 ms
  // (round(t, 2)). A time on the boundary between two spans belongs to the later one, except an end time
  // (is_end) exactly at a span's end, which stays in that span.
  double original_time(double t, bool is_end = false) const;

  // A segment [start, end] of the speech-only audio → its times in the original audio. Both ends map as
  // faster-whisper's restore_speech_timestamps maps them (original_time(start), original_time(end, true)),
  // unless they fall in different spans: the segment then covers a join, where the joined audio hides the
  // silence from Whisper and its timestamps are guesses (the next segment's start is often the previous
  // one's end, just before the join), so faster-whisper's segment would stretch over the removed silence.
  // Here it is kept within the span that holds most of it instead. Times past the end of the speech-only
  // audio end at the last span's end.
  std::pair<double, double> original_segment(double start, double end) const;

 private:
  size_t chunk_index(double t, bool is_end) const;  // get_chunk_index
  double in_chunk(double t, size_t index) const;    // t in original time, as part of span `index`

  std::vector<int64_t> chunk_end_;      // each span's end, in speech-only samples
  std::vector<double> silence_before_;  // seconds of audio dropped before each span
};

}  // namespace wisp::vad
