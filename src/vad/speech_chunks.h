// Chunks for batched long-form decoding: consecutive speech spans packed into pieces of audio of at most
// 30 s, cut only at pauses (faster-whisper's merge of VAD segments in BatchedInferencePipeline). Pauses
// inside a chunk are kept up to a limit (Whisper hears a pause, where faster-whisper joins the speech end to
// end), longer silences are shortened to it, so a window holds speech rather than silence; a chunk's times
// map back to the recording through vad::TimestampMap over its pieces.
#pragma once

#include <cstdint>
#include <vector>

#include "vad/speech_segments.h"

namespace wisp::vad {

struct SpeechChunk {
  // Pieces of the original audio (samples, [start, end)), in order: each a span of speech and up to
  // max_pause samples of the pause after it. The chunk's audio is the pieces end to end.
  std::vector<SpeechSpan> pieces;
  int64_t start() const { return pieces.empty() ? 0 : pieces.front().start; }
  int64_t end() const { return pieces.empty() ? 0 : pieces.back().end; }
  int64_t samples() const;  // Σ piece lengths
};

// Greedily adds the next span (with the pause before it, shortened to max_pause) to a chunk while the
// chunk's audio stays within max_samples; a span longer than that (speech_spans splits them at
// max_speech_duration_s) is cut into pieces of max_samples.
std::vector<SpeechChunk> speech_chunks(const std::vector<SpeechSpan>& spans, int64_t max_samples,
                                       int64_t max_pause);

// The same, span by span as they are found (vad::SpanTracker): a chunk is given out once the next span
// does not fit it, or at finish().
class ChunkPacker {
 public:
  ChunkPacker(int64_t max_samples, int64_t max_pause);  // throws Error(InvalidArgument) for bad bounds
  void add(SpeechSpan span);                            // spans in order
  void finish();
  std::vector<SpeechChunk> take();  // the chunks complete since the last take, in order
  // The open chunk's first sample (audio from it on is still needed), or -1 when none is open.
  int64_t open_from() const { return open_ ? chunks_.back().start() : -1; }

 private:
  int64_t max_samples_, max_pause_;
  std::vector<SpeechChunk> chunks_;  // complete, then the open one last (when open_)
  bool open_ = false;
  int64_t length_ = 0;  // of the open chunk's audio
};

}  // namespace wisp::vad
