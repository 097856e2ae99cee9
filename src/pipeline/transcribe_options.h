// What a transcription is asked to do (openai/whisper transcribe()'s arguments, faster-whisper's VAD and
// batched options) and what it reports about its stages.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "align/punctuation.h"
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
  // openai's hallucination_silence_threshold (seconds; with word timestamps): a segment that looks
  // hallucinated between silences longer than this is dropped and decoded again from its start
  // (pipeline/window_result.h, seek_after_words).
  std::optional<float> hallucination_silence_threshold;
  std::string prepend_punctuations = align::kPrependPunctuations;
  std::string append_punctuations = align::kAppendPunctuations;
  // Batched long-form mode (faster-whisper's BatchedInferencePipeline, with timestamps kept): > 0 cuts the
  // audio at VAD pauses into chunks of at most 30 s and decodes up to this many windows at once, each chunk
  // running the openai loop on its own (seek, fallback, previous text). 0: the sequential loop.
  int batch_size = 0;
  // Each VAD span's level brought to a common loudness before the log-mel (with vad_filter or batch_size):
  // a quiet speaker next to a loud one is heard. Off keeps the samples as they are.
  bool normalize_loudness = true;
};

struct StageTimings {
  double vad_ms = 0;  // speech probabilities and spans (vad_filter)
  double mel_ms = 0, encoder_ms = 0, decoder_ms = 0;
  int n_windows = 0;                            // encoder runs
  int n_tokens = 0;                             // tokens in the final segments
  int n_decode_steps = 0;                       // decoder forward passes (all fallbacks included)
  int n_decode_passes = 0;                      // window decodings, temperature fallbacks included
  double encoder_gflop = 0, decoder_gflop = 0;  // arithmetic done (a multiply-add counted as 2)

  StageTimings& operator+=(const StageTimings& o) {
    vad_ms += o.vad_ms;
    mel_ms += o.mel_ms;
    encoder_ms += o.encoder_ms;
    decoder_ms += o.decoder_ms;
    n_windows += o.n_windows;
    n_tokens += o.n_tokens;
    n_decode_steps += o.n_decode_steps;
    n_decode_passes += o.n_decode_passes;
    encoder_gflop += o.encoder_gflop;
    decoder_gflop += o.decoder_gflop;
    return *this;
  }
};

}  // namespace wisp
