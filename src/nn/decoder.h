// Whisper's text decoder, stepping a batch of sequences at once.
//
// Each sequence b reads the audio of window seq_window[b] (cross-attention K/V computed once per window
// by set_audio) and owns row b of the self-attention KV cache. All sequences advance in lockstep (same
// offset), which is how greedy, best-of sampling and beam search all drive it; beam search reorders
// cache rows after each step. Buffers are sized once per batch shape and reused: no allocation per token.
#pragma once

#include <vector>

#include "model/whisper_model.h"

namespace wisp::nn {

class Decoder {
 public:
  explicit Decoder(const WhisperModel& model);

  // audio: (n_windows, 1500, D) encoder outputs. Resets the self-attention cache.
  void set_audio(const float* audio, int n_windows);

  // Prepares the self-attention cache for `batch` sequences (all empty).
  void reset(int batch);

  // tokens: (B, L) at positions [offset, offset + L). Returns the final-LayerNorm hidden states (B, L, D),
  // valid until the next call. B must equal the batch given to reset().
  const float* forward(const int* tokens, int L, int offset, const int* seq_window);

  // logits(n, V) = hidden(n, D) · Embeddingᵀ
  void logits(const float* hidden, int n, float* out);

  // Grows the batch `group`-fold: new row r takes old row r / group's cache (first `length` positions).
  // Used after running a shared prompt once per window.
  void expand(int group, int length);

  // Beam search: new cache row b becomes old row src[b], for the first `length` positions.
  void reorder_cache(const std::vector<int>& src, int length);

  int batch() const { return batch_; }

 private:
  const WhisperModel& model_;
  int D_, n_ctx_, n_audio_ctx_;
  int n_windows_ = 0, batch_ = 0;
  std::vector<std::vector<float>> cross_k_, cross_v_;  // per layer: (n_windows, 1500, D)
  std::vector<std::vector<float>> self_k_, self_v_;    // per layer: (B, n_ctx, D)
  std::vector<float> x_, h_, q_, qkv_, attn_, ffn_, scores_, tmp_;
};

}  // namespace wisp::nn
