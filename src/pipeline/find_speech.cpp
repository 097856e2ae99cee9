#include "pipeline/find_speech.h"

#include <algorithm>
#include <limits>

#include "audio/mel.h"
#include "backend/cpu/threads.h"
#include "core/stopwatch.h"

namespace wisp {
namespace {

// Stretches of speech: between pauses this long, with this much audio around them. Each is levelled on its
// own, and words are held to them.
constexpr int kStretchPauseMs = 300;
constexpr int kStretchPadMs = 200;

}  // namespace

Speech find_speech(const vad::SileroVad& vad, backend::Exec& ex, const float* samples, size_t n_samples,
                   const vad::VadOptions& v, bool level, bool stretches, StageTimings* timings) {
  const auto t0 = Clock::now();
  Speech out;
  // With levelling, found on a copy with a slow automatic gain (speech 40 dB below its neighbours is missed
  // otherwise).
  const std::vector<float> probs =
      level ? vad.speech_probabilities(
                  ex, audio::levelled_for_detection(samples, n_samples, ex.threads).data(), n_samples)
            : vad.speech_probabilities(ex, samples, n_samples);
  out.spans = vad::speech_spans(probs, static_cast<int64_t>(n_samples), v);
  if (level || stretches)
    out.stretches = vad::speech_spans(probs, static_cast<int64_t>(n_samples), stretch_vad_options(v));
  if (level) {  // each stretch on its own: a change of speaker comes with a pause
    out.gains.resize(out.stretches.size());
    backend::cpu::parallel_for_rethrowing(ex.threads, static_cast<int>(out.stretches.size()), [&](int i) {
      const vad::SpeechSpan& s = out.stretches[static_cast<size_t>(i)];
      out.gains[static_cast<size_t>(i)] = {
          s.start, s.end,
          audio::speech_gain(samples, static_cast<size_t>(s.start), static_cast<size_t>(s.end))};
    });
  }
  if (timings) timings->vad_ms += ms_since(t0);
  return out;
}

vad::VadOptions chunk_vad_options(const TranscribeOptions& o) {
  vad::VadOptions v = o.vad;
  v.max_speech_duration_s = std::min(v.max_speech_duration_s, audio::kChunkSamples / 16000.0);
  return v;
}

vad::VadOptions stretch_vad_options(const vad::VadOptions& v) {
  vad::VadOptions fine = v;
  fine.min_speech_duration_ms = 0;
  fine.min_silence_duration_ms = kStretchPauseMs;
  fine.speech_pad_ms = kStretchPadMs;
  fine.max_speech_duration_s = std::numeric_limits<double>::infinity();
  return fine;
}

}  // namespace wisp
