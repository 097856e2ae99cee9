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

}  // namespace wisp::vad
