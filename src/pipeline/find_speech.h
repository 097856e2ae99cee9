// Where the speech of a recording is, for the modes that use Silero VAD: its spans, the stretches between
// short pauses (levelled one by one, words held to them) and their gains. The batched mode finds them as
// the audio arrives (pipeline/speech_stream.h), with the options given here.
#pragma once

#include <vector>

#include "audio/loudness.h"
#include "backend/exec.h"
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

// The batched mode's spans: o.vad's, at most 30 s long (padding included) so that each fits a window.
vad::VadOptions chunk_vad_options(const TranscribeOptions& o);
// The stretches of speech (levelling, word clamping) within spans found with `v`: between pauses of 300 ms.
vad::VadOptions stretch_vad_options(const vad::VadOptions& v);
// Batched mode: a pause inside a chunk is kept up to this long (longer silences are shortened to it).
constexpr int kChunkPauseMs = 1000;

}  // namespace wisp
