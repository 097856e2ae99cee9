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
  ChunkPacker packer(max_samples, max_pause);
  for (const SpeechSpan& s : spans) packer.add(s);
  packer.finish();
  return packer.take();
}

ChunkPacker::ChunkPacker(int64_t max_samples, int64_t max_pause)
    : max_samples_(max_samples), max_pause_(max_pause) {
  if (max_samples <= 0 || max_pause < 0)
    throw Error(ErrorKind::InvalidArgument, "chunk length must be positive and the pause kept not negative");
}

void ChunkPacker::add(SpeechSpan span) {
  if (span.end <= span.start) return;
  if (open_ && span.start >= chunks_.back().end()) {
    const int64_t pause = std::min(max_pause_, span.start - chunks_.back().end());
    if (length_ + pause + (span.end - span.start) <= max_samples_) {
      SpeechSpan& last = chunks_.back().pieces.back();
      last.end += pause;  // the pause, as much of it as is kept
      if (last.end == span.start)
        last.end = span.end;  // the whole pause kept: one piece
      else
        chunks_.back().pieces.push_back(span);
      length_ += pause + (span.end - span.start);
      return;
    }
  }
  while (span.end > span.start) {  // a new chunk (or several, for a span too long for one)
    const SpeechSpan piece{span.start, std::min(span.end, span.start + max_samples_)};
    chunks_.push_back({{piece}});
    open_ = true;
    length_ = piece.end - piece.start;
    span.start = piece.end;
  }
}

void ChunkPacker::finish() { open_ = false; }

std::vector<SpeechChunk> ChunkPacker::take() {
  std::vector<SpeechChunk> out;
  const size_t complete = chunks_.size() - (open_ ? 1 : 0);
  out.assign(std::make_move_iterator(chunks_.begin()),
             std::make_move_iterator(chunks_.begin() + static_cast<std::ptrdiff_t>(complete)));
  chunks_.erase(chunks_.begin(), chunks_.begin() + static_cast<std::ptrdiff_t>(complete));
  return out;
}

}  // namespace wisp::vad
