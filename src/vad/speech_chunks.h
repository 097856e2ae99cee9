// Chunks for batched long-form decoding: consecutive speech spans merged into pieces of the original audio
// of at most 30 s, cut only at pauses (faster-whisper's merge of VAD segments in BatchedInferencePipeline,
// with the pauses kept in the chunk, so a chunk's time is its offset plus the model's timestamps).
#pragma once

#include <cstdint>
#include <vector>

#include "vad/speech_segments.h"

namespace wisp::vad {

struct SpeechChunk {
  int64_t start = 0, end = 0;     // samples of the original audio, [start, end)
  std::vector<SpeechSpan> spans;  // the speech inside it, in the same samples
};

// Greedily extends a chunk with the next span while the chunk stays within max_samples; a span longer than
// that (speech_spans splits them at max_speech_duration_s) is cut into pieces of max_samples.
std::vector<SpeechChunk> speech_chunks(const std::vector<SpeechSpan>& spans, int64_t max_samples);

}  // namespace wisp::vad
