#include "pipeline/find_speech.h"

#include <algorithm>
#include <limits>

#include "audio/mel.h"
#include "backend/cpu/threads.h"
#include "core/stopwatch.h"
#include "vad/speech_chunks.h"

namespace wisp {
namespace {

// Stretches of speech: between pauses this long, with this much audio around them. Each is levelled on its
// own, and words are held to them.
constexpr int kStretchPauseMs = 300;
constexpr int kStretchPadMs = 200;
// Batched mode: a pause inside a chunk is kept up to this long (longer silences are shortened to it).
constexpr int kChunkPauseMs = 1000;

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
  if (level || stretches) {
    vad::VadOptions fine = v;  // stretches of speech between pauses of 300 ms
    fine.min_speech_duration_ms = 0;
    fine.min_silence_duration_ms = kStretchPauseMs;
    fine.speech_pad_ms = kStretchPadMs;
    fine.max_speech_duration_s = std::numeric_limits<double>::infinity();
    out.stretches = vad::speech_spans(probs, static_cast<int64_t>(n_samples), fine);
  }
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

BatchedJob batched_job(const vad::SileroVad& vad, backend::Exec& ex, const float* samples, size_t n_samples,
                       const TranscribeOptions& o, const std::string& language, StageTimings* timings) {
  vad::VadOptions v = o.vad;  // spans of at most 30 s (padding included), so each fits a window
  v.max_speech_duration_s = std::min(v.max_speech_duration_s, audio::kChunkSamples / 16000.0);
  Speech found =
      find_speech(vad, ex, samples, n_samples, v, o.normalize_loudness, o.word_timestamps, timings);
  BatchedJob job;
  job.samples = samples;
  job.n_samples = n_samples;
  job.chunks = vad::speech_chunks(found.spans, audio::kChunkSamples, kChunkPauseMs * 16);
  job.gains = std::move(found.gains);
  job.stretches = std::move(found.stretches);
  job.options = o;
  job.language = language;
  job.timings = timings;
  return job;
}

}  // namespace wisp
