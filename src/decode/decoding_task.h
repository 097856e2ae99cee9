// DecodingTask: one decoding pass over one 30-s window (openai/whisper decoding.py's DecodingTask), made
// resumable so that many of them advance together. It builds the initial tokens, and then, one decoder
// step at a time, says which tokens its sequences feed (runs), takes the logits of those rows, filters them
// and picks the next tokens (greedy, sampling or beam search); once finished it ranks its candidates.
//
// A task owns `group` decoder sequences (beams or best-of samples): the prompt runs once on one sequence,
// whose cache is then copied to the others. DecodingStepper advances any set of tasks — windows of one
// recording or of many, at different positions — in one decoder forward pass and one vocabulary projection.
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
  // The decoder holds the audio of `window`; `rng` is used when sampling (temperature > 0). Throws
  // Error(InvalidArgument) for options that cannot be decoded (prompt longer than the context).
  DecodingTask(const WhisperModel& model, nn::Decoder& decoder, const DecodingOptions& options, int window,
               std::mt19937* rng);
  ~DecodingTask();  // releases its decoder sequences
  DecodingTask(const DecodingTask&) = delete;
  DecodingTask& operator=(const DecodingTask&) = delete;

  bool done() const { return done_; }
  int window() const { return window_; }
  // Decoder forward passes made so far (the prompt pass included).
  int steps() const { return steps_; }

  // This step's runs and their tokens, appended (nothing once done).
  void add_runs(std::vector<int>& tokens, std::vector<nn::Decoder::Run>& runs);
  // The rows of this step's hidden states whose logits advance() needs, appended, given the row where this
  // task's runs start in the forward output.
  void add_logit_rows(int first_row, std::vector<int>& rows) const;
  // Takes those rows' logits (edited in place by the filters) and picks the next tokens: begin_step, choose
  // and end_step in turn. DecodingStepper runs the three apart so that several tasks choose at once.
  void advance(float* logits);
  // After the prompt pass, every row starts from the prompt's logits and a copy of its cache (the
  // decoder's sequence pool: one task at a time). Returns the rows choose() takes.
  float* begin_step(float* logits);
  // The filters and the token choice; touches only this task, so tasks may choose on different threads at
  // once — except those that sample (samples()): their rng may be shared with other tasks, which must
  // then draw in a fixed order.
  void choose(float* logits);
  bool samples() const { return o_.temperature > 0.0f; }
  // The caches follow the chosen rows (beam search), and a finished task gives its sequences back (the
  // decoder's sequence pool: one task at a time).
  void end_step();

  // The best candidate; valid once done().
  DecodingResult result() const;

 private:
  std::vector<int> initial_tokens(int* sot_index) const;
  std::vector<int> suppress_ids() const;
  bool all_stuck_in_loops() const;
  void reorder(const std::vector<int>& source);

  const WhisperModel& model_;
  nn::Decoder& decoder_;
  const DecodingOptions o_;
  const int window_;
  int group_ = 1, sot_index_ = 0, sample_begin_ = 0;
  std::vector<int> init_;
  std::vector<std::unique_ptr<LogitFilter>> filters_;
  std::unique_ptr<TokenDecoder> picker_;

  std::vector<int> seqs_;  // decoder sequence of each row (one during the prompt pass)
  std::vector<std::vector<int>> tokens_;
  std::vector<std::vector<float>> token_logprobs_;  // per row: of each sampled token
  std::vector<float> sum_logprobs_, prompt_logits_;
  std::vector<int> source_;
  mutable std::vector<int> loop_text_;  // scratch of the repetition check
  float no_speech_ = 0.0f;
  int position_ = 0;  // positions the sequences' caches hold
  int updates_ = 0, steps_ = 0;
  bool prompted_ = false, done_ = false, ended_in_loop_ = false;
  bool finishing_ = false;  // chosen this step: done once end_step has run
};

// Advances every unfinished task by one decoder step: one forward pass over all their runs, one
// vocabulary projection over all the rows they need. Owns the scratch (no allocation per step once warm).
class DecodingStepper {
 public:
  DecodingStepper(const WhisperModel& model, nn::Decoder& decoder) : model_(model), decoder_(decoder) {}
  void step(DecodingTask* const* tasks, int n_tasks);

 private:
  const WhisperModel& model_;
  nn::Decoder& decoder_;
  std::vector<int> tokens_, rows_, task_row_, first_row_;  // per task: first hidden row, first logit row
  std::vector<nn::Decoder::Run> runs_;
  std::vector<float> hidden_, logits_;
  std::vector<float*> task_logits_;
  std::vector<int> parallel_;  // tasks that choose on the decoder's threads
};

// Decodes one window to the end (openai's DecodingTask.run). `steps`, if given, receives the decoder
// forward passes made.
DecodingResult decode_window(const WhisperModel& model, nn::Decoder& decoder, const DecodingOptions& options,
                             int window, std::mt19937* rng, int* steps = nullptr);

// Ranks candidates by length-normalised log-prob (openai's MaximumLikelihoodRanker); returns the index.
int rank_candidates(const std::vector<std::vector<int>>& tokens, const std::vector<float>& sum_logprobs,
                    const std::optional<float>& length_penalty);

}  // namespace wisp::decode
