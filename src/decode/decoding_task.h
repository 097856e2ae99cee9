// DecodingTask: decodes 30-s windows of audio features into tokens (openai/whisper decoding.py's
// DecodingTask.run): build the initial tokens, step the decoder for all sequences (windows × beams or
// samples) at once, filter logits, pick tokens, then rank the candidates of each window.
#pragma once

#include <memory>
#include <random>
#include <vector>

#include "decode/decoding_options.h"
#include "decode/logit_filters.h"
#include "decode/token_decoder.h"
#include "model/whisper_model.h"
#include "nn/decoder.h"

namespace wisp::decode {

class DecodingTask {
 public:
  DecodingTask(const WhisperModel& model, nn::Decoder& decoder, std::mt19937& rng);

  // The decoder already holds the audio of `n_windows` windows (Decoder::set_audio).
  std::vector<DecodingResult> run(int n_windows, const DecodingOptions& options);

  // Decoder forward passes made by the last run() (the prompt pass included).
  int last_steps() const { return steps_; }

 private:
  std::vector<int> initial_tokens(const DecodingOptions& o, int* sot_index) const;
  std::vector<int> suppress_ids() const;
  bool all_stuck_in_loops(const std::vector<std::vector<int>>& tokens, int sample_begin,
                          float threshold) const;

  const WhisperModel& model_;
  nn::Decoder& decoder_;
  std::mt19937& rng_;
  std::vector<float> logits_, last_hidden_;
  mutable std::vector<int> loop_text_;  // scratch of the repetition check
  int steps_ = 0;
};

// Ranks candidates by length-normalised log-prob (openai's MaximumLikelihoodRanker); returns the index.
int rank_candidates(const std::vector<std::vector<int>>& tokens, const std::vector<float>& sum_logprobs,
                    const std::optional<float>& length_penalty);

}  // namespace wisp::decode
