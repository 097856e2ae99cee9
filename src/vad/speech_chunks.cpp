#include "vad/speech_chunks.h"

#include <algorithm>

#include "core/error.h"

namespace wisp::vad {

int64_t SpeechChunk::samples() const {
  int64_t n = 0;
  for (const SpeechSpan& p : pieces) n += p.end - p.start;
  return n;
}

std::vector<SpeechChunk> speech_chunks(const std::vector<SpeechSpan>& spans, int64_t max_samples,
                                       int64_t max_pause) {
  if (max_samples <= 0 || max_pause < 0)
    throw Error(ErrorKind::InvalidArgument, "chunk length must be positive and the pause kept not negative");
  std::vector<SpeechChunk> out;
  int64_t length = 0;  // of the last chunk's audio
  for (SpeechSpan span : spans) {
    if (span.end <= span.start) continue;
    if (!out.empty() && span.start >= out.back().end()) {
      const int64_t pause = std::min(max_pause, span.start - out.back().end());
      if (length + pause + (span.end - span.start) <= max_samples) {
        SpeechSpan& last = out.back().pieces.back();
        last.end += pause;  // the pause, as much of it as is kept
        if (last.end == span.start)
          last.end = span.end;  // the whole pause kept: one piece
        else
          out.back().pieces.push_back(span);
        length += pause + (span.end - span.start);
        continue;
      }
    }
    while (span.end > span.start) {  // a new chunk (or several, for a span too long for one)
      const SpeechSpan piece{span.start, std::min(span.end, span.start + max_samples)};
      out.push_back({{piece}});
      length = piece.end - piece.start;
      span.start = piece.end;
    }
  }
  return out;
}

}  // namespace wisp::vad
