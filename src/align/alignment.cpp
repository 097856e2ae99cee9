#include "align/alignment.h"

#include <algorithm>
#include <cmath>

#include "align/attention_matrix.h"

namespace wisp::align {
namespace {

constexpr double kSecondsPerFrame = 0.02;  // one encoder position (openai's 1 / TOKENS_PER_SECOND)

// P(text token i) in the teacher-forced pass: row first_row + i of the hidden states predicts token i,
// softmax over the text vocabulary (ids below <|endoftext|>), as openai and CTranslate2 score them.
std::vector<float> text_token_probabilities(const WhisperModel& model, nn::Decoder& decoder,
                                            const float* hidden, int first_row,
                                            const std::vector<int>& text_tokens) {
  const int D = model.dims().n_text_state, V = model.dims().n_vocab, eot = model.tokenizer().eot();
  const int n = static_cast<int>(text_tokens.size());
  constexpr int kRowsPerCall = 16;  // bounds the logits buffer
  std::vector<float> logits(static_cast<size_t>(kRowsPerCall) * V), out(n);
  for (int r0 = 0; r0 < n; r0 += kRowsPerCall) {
    const int rows = std::min(kRowsPerCall, n - r0);
    decoder.logits(hidden + static_cast<size_t>(first_row + r0) * D, rows, logits.data());
    for (int r = 0; r < rows; ++r) {
      const float* l = logits.data() + static_cast<size_t>(r) * V;
      const float mx = *std::max_element(l, l + eot);
      double sum = 0;
      for (int v = 0; v < eot; ++v) sum += std::exp(static_cast<double>(l[v]) - mx);
      const int t = text_tokens[r0 + r];
      out[r0 + r] = static_cast<float>(std::exp(static_cast<double>(l[t]) - mx) / sum);
    }
  }
  return out;
}

}  // namespace

std::vector<WordTiming> word_timings(const std::vector<WordTokens>& words, const DtwPath& path,
                                     const std::vector<float>& token_probs) {
  if (words.size() <= 1 || path.rows.empty()) return {};
  // Time at which the path first enters each row.
  std::vector<double> jump_times;
  for (size_t k = 0; k < path.rows.size(); ++k)
    if (k == 0 || path.rows[k] != path.rows[k - 1]) jump_times.push_back(path.cols[k] * kSecondsPerFrame);
  std::vector<WordTiming> out;
  size_t boundary = 0;  // index of the word's first token among the text tokens
  for (size_t w = 0; w + 1 < words.size(); ++w) {
    const size_t next = boundary + words[w].tokens.size();
    WordTiming t;
    t.word = words[w].word;
    t.tokens = words[w].tokens;
    const size_t last_row = jump_times.empty() ? 0 : jump_times.size() - 1;
    t.start = jump_times.empty() ? 0.0 : jump_times[std::min(boundary, last_row)];
    t.end = jump_times.empty() ? 0.0 : jump_times[std::min(next, last_row)];
    double sum = 0;
    size_t count = 0;
    for (size_t i = boundary; i < next && i < token_probs.size(); ++i, ++count) sum += token_probs[i];
    t.probability = count ? static_cast<float>(sum / count) : 0.0f;
    out.push_back(std::move(t));
    boundary = next;
  }
  return out;
}

std::vector<WordTiming> find_alignment(const WhisperModel& model, nn::Decoder& decoder, int window,
                                       const std::vector<int>& sot_sequence,
                                       const std::vector<int>& text_tokens, const std::string& language,
                                       int num_frames) {
  const decode::Tokenizer& tok = model.tokenizer();
  const auto& heads = model.metadata().alignment_heads;
  const int n_frames = std::min(num_frames / 2, model.dims().n_audio_ctx);  // 2 mel frames per position
  if (text_tokens.empty() || heads.empty() || n_frames < 1) return {};
  // [sot sequence] <|notimestamps|> text <|endoftext|>
  std::vector<int> tokens = sot_sequence;
  tokens.push_back(tok.no_timestamps());
  tokens.insert(tokens.end(), text_tokens.begin(), text_tokens.end());
  tokens.push_back(tok.eot());
  const int L = static_cast<int>(tokens.size()), S = static_cast<int>(sot_sequence.size());
  if (L > model.dims().n_text_ctx) return {};

  const int T = model.dims().n_audio_ctx, n_heads = static_cast<int>(heads.size());
  std::vector<float> probs(static_cast<size_t>(n_heads) * L * T);
  const float* hidden = decoder.forward_aligned(tokens.data(), L, window, heads, probs.data());
  const std::vector<float> token_probs = text_token_probabilities(model, decoder, hidden, S, text_tokens);

  // Rows of <|notimestamps|> and the text tokens (not the sot sequence, not <|endoftext|>), as the negated
  // attention: DTW finds the path of most attention.
  std::vector<float> matrix = attention_matrix(probs.data(), n_heads, L, T, n_frames, kMedianFilterWidth);
  const int rows = L - S - 1;
  std::vector<float> cost(matrix.begin() + static_cast<std::ptrdiff_t>(S) * n_frames,
                          matrix.begin() + static_cast<std::ptrdiff_t>(S + rows) * n_frames);
  for (float& c : cost) c = -c;
  const DtwPath path = dtw(cost.data(), rows, n_frames);

  std::vector<int> with_eot = text_tokens;
  with_eot.push_back(tok.eot());
  return word_timings(split_to_word_tokens(tok, with_eot, language), path, token_probs);
}

}  // namespace wisp::align
