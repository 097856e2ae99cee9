// Where the speech of a recording is, for the modes that use Silero VAD: its spans, the stretches between
// short pauses (levelled one by one, words held to them) and their gains; and, for the batched mode, the
// spans packed into chunks of at most 30 s — a BatchedJob ready for the loop (pipeline/batched_loop.h).
#pragma once

#include <vector>

#include "audio/loudness.h"
#include "backend/exec.h"
#include "pipeline/batched_loop.h"
#include "pipeline/transcribe_options.h"
#include "vad/silero_vad.h"
#include "vad/speech_segments.h"

namespace wisp {

struct Speech {
  std::vector<vad::SpeechSpan> spans;
  std::vector<vad::SpeechSpan> stretches;  // speech between pauses of 300 ms (levelling, word clamping)
  std::vector<audio::Gain> gains;          // empty without `level`
};

// Silero VAD's spans with options `v` and, with `level`, the gain of each stretch of speech
// (audio/loudness.h); the stretches also with `stretches`. Runs the VAD on `ex`'s threads.
Speech find_speech(const vad::SileroVad& vad, backend::Exec& ex, const float* samples, size_t n_samples,
                   const vad::VadOptions& v, bool level, bool stretches, StageTimings* timings);

// The batched mode's work for a recording: its speech in chunks of at most 30 s cut at pauses (a pause
// inside a chunk kept up to 1 s), the gains and stretches, options `o` and `language` (a code, or "" to
// detect). The samples must outlive the job.
BatchedJob batched_job(const vad::SileroVad& vad, backend::Exec& ex, const float* samples, size_t n_samples,
                       const TranscribeOptions& o, const std::string& language, StageTimings* timings);

}  // namespace wisp
