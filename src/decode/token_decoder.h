// Token decoders: pick the next token of every sequence from filtered logits (openai/whisper decoding.py's
// GreedyDecoder and BeamSearchDecoder). Sequences are grouped per audio window: n_audio groups of
// `group_size` sequences (beams or best-of samples), rows of the batch in that order.
#pragma once

#include <memory>
#include <random>
#include <vector>

namespace wisp::decode {

struct Candidates {
  // Per audio window: finished sequences (sampled part plus trailing eot), their summed log-probs and the
  // log-prob of each of their tokens (as tokens; a padding eot after the end counts 0).
  std::vector<std::vector<std::vector<int>>> tokens;
  std::vector<std::vector<float>> sum_logprobs;
  std::vector<std::vector<std::vector<float>>> token_logprobs;
};

class TokenDecoder {
 public:
  virtual ~TokenDecoder() = default;
  virtual void reset() = 0;
  // Appends one token to each sequence in `tokens` and its log-prob (log-softmax of the filtered logits) to
  // the same row of `token_logprobs` (which holds the sampled part only); may reorder rows (beam search),
  // reporting the new row → old row map in `source` (identity for greedy). Returns true when every audio
  // is complete.
  virtual bool update(std::vector<std::vector<int>>& tokens, std::vector<std::vector<float>>& token_logprobs,
                      const float* logits, int n_vocab, std::vector<float>& sum_logprobs,
                      std::vector<int>& source) = 0;
  // Collects candidates once the loop ends; `sample_begin` strips the prompt.
  virtual Candidates finalize(const std::vector<std::vector<int>>& tokens,
                              const std::vector<std::vector<float>>& token_logprobs,
                              const std::vector<float>& sum_logprobs, int sample_begin) = 0;
};

// Greedy (temperature 0) or sampling (temperature > 0) with `rng`.
std::unique_ptr<TokenDecoder> make_greedy_decoder(float temperature, int eot, int group_size,
                                                  std::mt19937* rng);
std::unique_ptr<TokenDecoder> make_beam_search_decoder(int beam_size, int eot, float patience);

}  // namespace wisp::decode
