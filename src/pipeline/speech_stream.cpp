#include "pipeline/speech_stream.h"

#include <algorithm>
#include <limits>

#include "audio/mel.h"
#include "core/stopwatch.h"
#include "pipeline/find_speech.h"
#include "vad/silero_model.h"
#include "vad/silero_vad_ref.h"

namespace wisp {
namespace {

// v holds samples from `begin` on: drops those before keep_from once they are half of v or more (each
// sample is moved a few times at most).
void drop_front(std::vector<float>& v, size_t& begin, size_t keep_from) {
  if (keep_from <= begin) return;
  const size_t n = std::min(keep_from - begin, v.size());
  if (2 * n < v.size()) return;
  v.erase(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n));
  begin += n;
}

}  // namespace

SpeechStream::SpeechStream(const vad::SileroVad& vad, backend::Exec& ex, const TranscribeOptions& o,
                           StageTimings* timings)
    : vad_(vad),
      ex_(ex),
      timings_(timings),
      level_(o.normalize_loudness),
      want_stretches_(o.normalize_loudness || o.word_timestamps),
      spans_(chunk_vad_options(o)),
      stretch_spans_(stretch_vad_options(chunk_vad_options(o))),
      packer_(audio::kChunkSamples, int64_t{kChunkPauseMs} * 16) {}

void SpeechStream::push(const float* samples, size_t n) {
  if (finished_ || n == 0) return;
  const auto t0 = Clock::now();
  raw_.insert(raw_.end(), samples, samples + n);
  received_ += n;
  if (level_)
    leveller_.push(samples, n, det_);
  else
    det_.insert(det_.end(), samples, samples + n);
  detect(false);
  if (timings_) timings_->vad_ms += ms_since(t0);
}

void SpeechStream::finish() {
  if (finished_) return;
  const auto t0 = Clock::now();
  finished_ = true;
  if (level_) leveller_.finish(det_);
  detect(true);
  if (timings_) timings_->vad_ms += ms_since(t0);
}

// The VAD over the windows whose samples are all here (at the end: every window, zeros past the audio),
// then the spans and stretches that are final, the chunks, and the audio no longer needed let go.
void SpeechStream::detect(bool at_end) {
  const size_t det_end = det_begin_ + det_.size();
  const size_t w_end = at_end ? vad::window_count(received_) : det_end / vad::kWindowSamples;
  if (w_end > next_window_) {
    probs_.resize(w_end - next_window_);
    const size_t n_bound = at_end ? received_ : std::numeric_limits<size_t>::max();
    vad_.probabilities(ex_, det_.data(), det_begin_, n_bound, next_window_, w_end, state_, probs_.data());
    next_window_ = w_end;
    spans_.push(probs_.data(), probs_.size());
    if (want_stretches_) stretch_spans_.push(probs_.data(), probs_.size());
  }
  if (at_end) {
    spans_.finish(static_cast<int64_t>(received_));
    stretch_spans_.finish(static_cast<int64_t>(received_));
    det_.clear();
    det_begin_ = received_;
  } else {  // the next window's context on
    const size_t context_from = next_window_ * vad::kWindowSamples;
    drop_front(det_, det_begin_,
               context_from > vad::kContextSamples ? context_from - vad::kContextSamples : 0);
  }
  drain_spans();
  build_chunks(at_end);
  release();
}

void SpeechStream::drain_spans() {
  for (const vad::SpeechSpan& s : spans_.take()) packer_.add(s);
  if (finished_) packer_.finish();
  for (vad::SpeechChunk& c : packer_.take()) waiting_.push_back(std::move(c));
  if (!want_stretches_) return;
  for (const vad::SpeechSpan& s : stretch_spans_.take()) {
    stretches_.push_back(s);
    if (!level_) continue;
    // Each stretch on its own: a change of speaker comes with a pause. Its samples are all still here.
    const size_t end = std::min(static_cast<size_t>(s.end), received_);
    gains_.push_back(
        {s.start, s.end,
         audio::speech_gain(raw_.data(), static_cast<size_t>(s.start) - raw_begin_, end - raw_begin_)});
  }
}

// Chunks whose stretches are all known get their audio.
void SpeechStream::build_chunks(bool at_end) {
  while (!waiting_.empty()) {
    const vad::SpeechChunk& c = waiting_.front();
    if (want_stretches_ && !at_end && stretch_spans_.needed_from() < c.end()) break;
    ReadyChunk r;
    r.chunk = std::move(waiting_.front());
    waiting_.pop_front();
    r.audio.reserve(static_cast<size_t>(r.chunk.samples()));
    for (const vad::SpeechSpan& p : r.chunk.pieces)
      audio::append_levelled(raw_.data(), p.start, std::min<int64_t>(p.end, static_cast<int64_t>(received_)),
                             gains_, r.audio, static_cast<int64_t>(raw_begin_));
    for (const vad::SpeechSpan& s : stretches_)
      if (s.end > r.chunk.start() && s.start < r.chunk.end()) r.stretches.push_back(s);
    ready_.push_back(std::move(r));
  }
}

// Lets go of the samples, stretches and gains that no chunk to come can need.
void SpeechStream::release() {
  int64_t keep = finished_ ? static_cast<int64_t>(received_) : spans_.needed_from();
  if (const int64_t open = packer_.open_from(); open >= 0) keep = std::min(keep, open);
  if (!waiting_.empty()) keep = std::min(keep, waiting_.front().start());
  if (want_stretches_ && !finished_) keep = std::min(keep, stretch_spans_.needed_from());
  keep = std::clamp<int64_t>(keep, static_cast<int64_t>(raw_begin_), static_cast<int64_t>(received_));
  drop_front(raw_, raw_begin_, static_cast<size_t>(keep));
  // Stretches (and gains) that end before every chunk to come.
  size_t gone = 0;
  while (gone < stretches_.size() && stretches_[gone].end <= keep) ++gone;
  stretches_.erase(stretches_.begin(), stretches_.begin() + static_cast<std::ptrdiff_t>(gone));
  if (level_) gains_.erase(gains_.begin(), gains_.begin() + static_cast<std::ptrdiff_t>(gone));
}

std::vector<ReadyChunk> SpeechStream::take() {
  std::vector<ReadyChunk> out;
  out.swap(ready_);
  return out;
}

size_t SpeechStream::held_samples() const {
  size_t n = raw_.size() + det_.size();
  for (const ReadyChunk& r : ready_) n += r.audio.size();
  return n;
}

}  // namespace wisp
