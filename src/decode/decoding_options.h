// What one decoding pass over a 30-s window takes and gives (openai/whisper decoding.py's
// DecodingOptions / DecodingResult).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace wisp::decode {

struct DecodingOptions {
  bool translate = false;               // task: transcribe (false) or translate to English (true)
  std::string language;                 // "en", ...; required for multilingual models (detect first)
  float temperature = 0.0f;             // 0: greedy or beam search; > 0: sampling, best_of candidates
  int sample_len = 224;                 // maximum tokens to sample (n_text_ctx / 2)
  int best_of = 5;                      // candidates when sampling (temperature > 0)
  int beam_size = 5;                    // beams when temperature == 0; 1 = greedy
  float patience = 1.0f;                // beam search: stop after beam_size · patience finished candidates
  std::optional<float> length_penalty;  // none: rank by log-prob / length; else by log-prob / ((5+len)/6)^α
  std::vector<int> prompt;              // previous-context tokens (after <|startofprev|>)
  bool suppress_blank = true;           // no blank or <|endoftext|> as the first sampled token
  bool without_timestamps = false;      // <|notimestamps|>: text only
  float max_initial_timestamp = 1.0f;   // first timestamp no later than this (seconds)
  // End the pass early once every unfinished sequence is stuck in a repetition loop whose text already
  // compresses past this ratio (decode/repetition.h): the pass fails the compression check either way.
  std::optional<float> stop_loops_above;
};

struct DecodingResult {
  std::vector<int> tokens;  // sampled tokens, text and timestamps, without the prompt and <|endoftext|>
  std::vector<float> token_logprobs;  // of each token: log-softmax of the filtered logits it was chosen from
  std::string text;
  float avg_logprob = 0.0f;
  float no_speech_prob = 0.0f;
  float temperature = 0.0f;
  float compression_ratio = 0.0f;
  bool ended_in_loop = false;  // stopped early: every unfinished sequence was stuck in a repetition loop
};

}  // namespace wisp::decode
