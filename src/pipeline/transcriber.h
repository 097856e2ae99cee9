// Transcriber: the per-stream context. Three ways through a recording:
//   batch_size 0   openai/whisper's transcribe(): log-mel of everything, then sequential 30-s windows whose
//                  next start ("seek") follows the last timestamp the model emitted, each decoded with
//                  temperature fallback, conditioned on the text before;
//   vad_filter     the same over the speech Silero VAD finds, joined, times mapped back (faster-whisper's);
//   batch_size > 0 VAD chunks of at most 30 s, each running that loop, many in flight
//                  (pipeline/batched_loop.h); the audio may arrive as it goes (transcribe_stream): its
//                  speech is found block by block (pipeline/speech_stream.h) and held a few chunks at a time.
// With VAD, speech is levelled to one loudness first (audio/loudness.h) unless normalize_loudness is off.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "audio/audio_decoder.h"
#include "audio/loudness.h"
#include "decode/decoding_options.h"
#include "model/whisper_model.h"
#include "nn/decoder.h"
#include "nn/encoder.h"
#include "pipeline/transcribe_options.h"
#include "pipeline/transcript.h"
#include "vad/silero_vad.h"

namespace wisp {

// Throws Error(InvalidArgument) naming the first option that is out of range or that the model cannot honour
// (a language it does not know, translation on an English-only model). transcribe() calls it first.
void validate_options(const TranscribeOptions& options, const WhisperModel& model);

// The language code o.language asks for: "" to detect, else a code of this model. Throws
// Error(InvalidArgument) for an unknown name or one this model cannot transcribe.
std::string requested_language(const TranscribeOptions& o, const WhisperModel& m);

// Return false to stop transcribing (the result then ends with what was decoded so far).
using SegmentCallback = std::function<bool(const Segment&)>;
using ProgressCallback = std::function<void(double fraction)>;

// Audio that arrives as it goes: called once, it hands the samples over through the sink it is given
// (audio::decode_file_blocks is one), and stops early when the sink says so.
using AudioProducer = std::function<void(const audio::SampleSink&)>;
// One over samples already in memory, in blocks of audio::kStreamBlock; they must outlive it.
AudioProducer samples_producer(const float* samples, size_t n);

class Transcriber {
 public:
  // `threads`: compute threads for this context (0 = every core this process may use).
  explicit Transcriber(std::shared_ptr<const WhisperModel> model, int threads = 0);

  // Threads used by the next transcribe() calls, whichever thread makes them.
  void set_threads(int threads);
  int threads() const { return exec_.threads; }

  // Loads what `options` need besides the model (the VAD network for vad_filter), so that a missing or bad
  // file is reported before any audio is read. transcribe() calls it too. Throws Error(Model).
  void prepare(const TranscribeOptions& options);

  // samples: 16 kHz mono float PCM.
  Transcript transcribe(const float* samples, size_t n_samples, const TranscribeOptions& options,
                        const SegmentCallback& on_segment = {}, const ProgressCallback& on_progress = {},
                        StageTimings* timings = nullptr);

  // The batched mode (options.batch_size > 0, else Error(InvalidArgument)) for audio that arrives as it
  // goes: chunks of speech are transcribed between blocks, so that a few chunks' audio is all that is held,
  // whatever the recording's length. Throws what `produce` throws. With two threads or more, `produce` and
  // the speech finding run on a thread of their own (one core) while this one encodes the chunks found so
  // far; the callbacks run on this thread.
  Transcript transcribe_stream(const AudioProducer& produce, const TranscribeOptions& options,
                               const SegmentCallback& on_segment = {},
                               const ProgressCallback& on_progress = {}, StageTimings* timings = nullptr);

  // The same with the caller pushing the audio (a microphone, a network stream): see Stream. The stream
  // uses this context until it is finished or destroyed. `live`: each push transcribes all that was found
  // (the segments as soon as can be); else only once enough chunks wait to fill the loop's slots (a file:
  // the most work per step).
  class Stream;
  std::unique_ptr<Stream> open_stream(const TranscribeOptions& options,
                                      const SegmentCallback& on_segment = {},
                                      const ProgressCallback& on_progress = {},
                                      StageTimings* timings = nullptr, bool live = false);

 private:
  // open_stream(), with the speech found on a thread of its own if `own_finder` (Stream::run).
  std::unique_ptr<Stream> make_stream(const TranscribeOptions& options, const SegmentCallback& on_segment,
                                      const ProgressCallback& on_progress, StageTimings* timings, bool live,
                                      bool own_finder);
  // vad_filter: transcribe() of the speech only, times mapped back.
  Transcript transcribe_speech(const float* samples, size_t n_samples, const TranscribeOptions& options,
                               const SegmentCallback& on_segment, const ProgressCallback& on_progress,
                               StageTimings* timings);
  decode::DecodingResult decode_with_fallback(const TranscribeOptions& o, decode::DecodingOptions d,
                                              StageTimings* t);

  std::shared_ptr<const WhisperModel> model_;
  backend::Workspace workspace_;
  backend::Exec exec_;  // this context's threads and scratch, used by its encoder and decoder
  nn::Encoder encoder_;
  nn::Decoder decoder_;
  std::mt19937 rng_;
  std::vector<float> window_mel_, audio_features_;
  std::unique_ptr<vad::SileroVad> vad_;  // loaded on first use, from vad_path_
  std::string vad_path_;
};

// The batched mode on audio the caller pushes (Transcriber::open_stream): push() finds the speech in each
// block and transcribes the chunks found (live), or once enough wait to fill the loop's slots, on this
// thread (segments through on_segment as each chunk is done, in time order); finish() transcribes the rest.
class Transcriber::Stream {
 public:
  ~Stream();
  // The next samples (16 kHz mono, finite, in [-1, 1]); false once stopped (on_segment returned false).
  bool push(const float* samples, size_t n);
  void expect(size_t n_samples);  // the recording's length, if known (progress)
  Transcript finish();

 private:
  friend class Transcriber;
  // The whole recording from `produce`, its speech found on a thread of its own (transcribe_stream).
  Transcript run(const AudioProducer& produce, backend::Exec& exec);
  struct State;
  explicit Stream(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
};

}  // namespace wisp
