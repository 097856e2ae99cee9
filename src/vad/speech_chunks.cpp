#include "vad/speech_chunks.h"

#include <algorithm>

#include "core/error.h"

namespace wisp::vad {

std::vector<SpeechChunk> speech_chunks(const std::vector<SpeechSpan>& spans, int64_t max_samples) {
  if (max_samples <= 0) throw Error(ErrorKind::InvalidArgument, "chunk length must be positive");
  std::vector<SpeechChunk> out;
  for (SpeechSpan span : spans) {
    if (span.end <= span.start) continue;
    if (!out.empty() && span.start >= out.back().end && span.end - out.back().start <= max_samples) {
      out.back().end = span.end;
      out.back().spans.push_back(span);
      continue;
    }
    while (span.end > span.start) {  // a new chunk (or several, for a span too long for one)
      const SpeechSpan piece{span.start, std::min(span.end, span.start + max_samples)};
      out.push_back({piece.start, piece.end, {piece}});
      span.start = piece.end;
    }
  }
  return out;
}

}  // namespace wisp::vad
