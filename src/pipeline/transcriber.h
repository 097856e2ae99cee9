// Transcriber: the per-stream context. Runs openai/whisper's transcribe() over a whole recording:
// log-mel of everything, then sequential 30-s windows whose next start ("seek") follows the last
// timestamp the model emitted, each decoded with temperature fallback, conditioned on the text before.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "align/punctuation.h"
#include "decode/decoding_options.h"
#include "model/whisper_model.h"
#include "nn/decoder.h"
#include "nn/encoder.h"
#include "pipeline/transcript.h"
#include "vad/silero_vad.h"
#include "vad/speech_segments.h"

namespace wisp {

// Fallback temperatures per window, at most (0.01 steps from 0 to 1 are 101).
constexpr size_t kMaxTemperatures = 256;

struct TranscribeOptions {
  std::string language;  // a code or English name ("de", "German"); "" or "auto": detect on the first 30 s
  bool translate = false;
  int beam_size = 5;
  int best_of = 5;
  float patience = 1.0f;
  std::optional<float> length_penalty;
  std::vector<float> temperatures{0.0f, 0.2f, 0.4f, 0.6f, 0.8f, 1.0f};
  std::optional<float> compression_ratio_threshold = 2.4f;
  std::optional<float> logprob_threshold = -1.0f;
  std::optional<float> no_speech_threshold = 0.6f;
  bool condition_on_previous_text = true;
  std::string initial_prompt;
  bool suppress_blank = true;
  bool without_timestamps = false;
  float max_initial_timestamp = 1.0f;
  uint32_t seed = 0;  // sampling at temperature > 0
  // faster-whisper's vad_filter: Silero VAD finds the speech, only that is transcribed (the spans joined into
  // one recording), and segment times are mapped back to the original audio (seek stays in the joined audio's
  // frames, as faster-whisper leaves it).
  bool vad_filter = false;
  std::string vad_model;  // the Silero VAD ggml file; "" finds the bundled one (vad/vad_model_path.h)
  vad::VadOptions vad;
  // openai's word_timestamps: each segment gets its words with their times (a teacher-forced pass over
  // each window's text, see align/word_timestamps.h); punctuation in these sets joins the word after
  // (prepend) or before (append) it. As openai, the next window then starts after the last word.
  bool word_timestamps = false;
  std::string prepend_punctuations = align::kPrependPunctuations;
  std::string append_punctuations = align::kAppendPunctuations;
};

struct StageTimings {
  double vad_ms = 0;  // speech probabilities and spans (vad_filter)
  double mel_ms = 0, encoder_ms = 0, decoder_ms = 0;
  int n_windows = 0;                            // encoder runs
  int n_tokens = 0;                             // tokens in the final segments
  int n_decode_steps = 0;                       // decoder forward passes (all fallbacks included)
  int n_decode_passes = 0;                      // window decodings, temperature fallbacks included
  double encoder_gflop = 0, decoder_gflop = 0;  // arithmetic done (a multiply-add counted as 2)
};

// Throws Error(InvalidArgument) naming the first option that is out of range or that the model cannot honour
// (a language it does not know, translation on an English-only model). transcribe() calls it first.
void validate_options(const TranscribeOptions& options, const WhisperModel& model);

// Return false to stop transcribing (the result then ends with what was decoded so far).
using SegmentCallback = std::function<bool(const Segment&)>;
using ProgressCallback = std::function<void(double fraction)>;

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

 private:
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

}  // namespace wisp
