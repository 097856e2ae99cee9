// Logit filters applied before each sampling step (openai/whisper decoding.py: SuppressBlank,
// SuppressTokens, ApplyTimestampRules). Each edits the logits of every sequence in the batch in place.
#pragma once

#include <memory>
#include <vector>

namespace wisp::decode {

class Tokenizer;

struct LogitBatch {
  float* logits;  // (n_seq, n_vocab)
  int n_seq;
  int n_vocab;
  const std::vector<std::vector<int>>* tokens;  // each sequence so far, prompt included
  int sample_begin;                             // index of the first sampled token in each sequence
};

class LogitFilter {
 public:
  virtual ~LogitFilter() = default;
  virtual void apply(const LogitBatch& batch) const = 0;
};

// At the first sampled position, forbid the given ids (blank " " and <|endoftext|>).
std::unique_ptr<LogitFilter> make_suppress_blank(std::vector<int> ids);
// Always forbid the given ids (non-speech symbols, task and special tokens).
std::unique_ptr<LogitFilter> make_suppress_tokens(std::vector<int> ids);
// Timestamp grammar: timestamps come in pairs and never decrease, the first is at most
// `max_initial_timestamp_index` steps of 20 ms, and a timestamp is forced when timestamps are jointly
// more likely than any text token.
std::unique_ptr<LogitFilter> make_timestamp_rules(int eot, int no_timestamps, int timestamp_begin,
                                                  int max_initial_timestamp_index);

}  // namespace wisp::decode
