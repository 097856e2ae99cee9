// The batched long-form loop (`--batch N`): the audio is cut at VAD pauses into chunks of at most 30 s,
// and every chunk runs openai/whisper's loop on its own (seek within the chunk, temperature fallback,
// conditioning on the chunk's earlier text), while up to N of them are in flight at once: their windows go
// through the encoder together, and one decoder step advances every live sequence of every chunk (ragged:
// each at its own position and temperature; finished ones leave and new chunks join between steps).
// Segments keep their timestamps (chunk offset + timestamp tokens) and come out in time order.
#pragma once

#include <memory>
#include <random>
#include <string>
#include <vector>

#include <functional>
#include "audio/loudness.h"
#include "model/whisper_model.h"
#include "nn/decoder.h"
#include "nn/encoder.h"
#include "pipeline/transcribe_options.h"
#include "pipeline/transcript.h"
#include "vad/speech_chunks.h"

namespace wisp {

class BatchedLoop {
 public:
  // `threads`: for the log-mel of each chunk (the encoder and decoder have the context's).
  BatchedLoop(const WhisperModel& model, nn::Encoder& encoder, nn::Decoder& decoder, std::mt19937& rng,
              int threads)
      : model_(model), encoder_(encoder), decoder_(decoder), rng_(rng), threads_(threads) {}

  // samples: the whole recording (16 kHz mono); chunks: where its speech is; gains: loudness levelling,
  // applied as each chunk's audio is copied (none: as it is)
  // (vad::speech_chunks). `language` is a code, or "" to detect it on the first chunk. on_segment returning
  // false stops the loop.
  // stretches: speech between short pauses (words are held to them, vad/word_clamp.h).
  Transcript run(const float* samples, size_t n_samples, const std::vector<vad::SpeechChunk>& chunks,
                 const std::vector<audio::Gain>& gains, const std::vector<vad::SpeechSpan>& stretches,
                 const TranscribeOptions& o, const std::string& language,
                 const std::function<bool(const Segment&)>& on_segment,
                 const std::function<void(double)>& on_progress, StageTimings* timings);

 private:
  const WhisperModel& model_;
  nn::Encoder& encoder_;
  nn::Decoder& decoder_;
  std::mt19937& rng_;
  int threads_;
  std::vector<float> mels_, features_;
};

}  // namespace wisp
