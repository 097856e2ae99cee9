// Whisper's text decoder, stepping a batch of sequences at once.
//
// Each sequence b reads the audio of window seq_window[b] (cross-attention keys/values computed once per
// window by set_audio) and owns one slot of self-attention KV caches (one cache per layer). All sequences
// advance in lockstep (same offset), which is how greedy, best-of sampling and beam search drive it. Beam
// search reorders sequences by handing slots over: a slot moves to its new row, and only a sequence that
// forks (two beams from one) costs a copy. Slots are recycled: no allocation per token.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "backend/backend.h"
#include "model/whisper_model.h"

namespace wisp::nn {

class Decoder {
 public:
  // `ex` (threads, scratch) belongs to the context and must outlive the decoder.
  Decoder(const WhisperModel& model, backend::Exec& ex);

  // audio: (n_windows, 1500, D) encoder outputs.
  void set_audio(const float* audio, int n_windows);

  // Prepares `batch` sequences with empty self-attention caches.
  void reset(int batch);

  // tokens: (B, L) at positions [offset, offset + L). Returns the final-LayerNorm hidden states (B, L, D),
  // valid until the next call. B must equal the batch given to reset().
  const float* forward(const int* tokens, int L, int offset, const int* seq_window);

  // logits(n, V) = hidden(n, D) · Embeddingᵀ
  void logits(const float* hidden, int n, float* out);

  // Grows the batch `group`-fold: new row r takes old row r / group's cache (first `length` positions).
  // Used after running a shared prompt once per window.
  void expand(int group, int length);

  // Beam search: new row b becomes old row src[b], for the first `length` positions.
  void reorder_cache(const std::vector<int>& src, int length);

  int batch() const { return batch_; }

  // Arithmetic done so far (a multiply-add counted as 2), for GFLOP/s in benchmarks.
  double flops() const { return flops_; }

  // Word timestamps: a teacher-forced forward of one sequence, tokens (L) at positions [0, L), over the
  // audio of window `window`, recording the cross-attention probabilities of each (layer, head) in `heads`
  // into probs (heads.size(), L, n_audio_ctx). Leaves the decoder reset to that one sequence. Returns the
  // final-LayerNorm hidden states (L, D) as forward() does. Throws Error(Model) for a head the model lacks.
  const float* forward_aligned(const int* tokens, int L, int window,
                               const std::vector<std::pair<int, int>>& heads, float* probs);

 private:
  using Slot = std::vector<std::unique_ptr<backend::KvCache>>;  // one cache per layer

  Slot take_slot();
  void copy_slot(const Slot& from, Slot& to, int length);

  const WhisperModel& model_;
  backend::Exec& ex_;
  int D_, n_ctx_, n_audio_ctx_;
  int n_windows_ = 0, batch_ = 0;
  std::vector<Slot> cross_;  // per window
  std::vector<Slot> self_;   // per sequence
  std::vector<Slot> free_;   // recycled self-attention slots
  std::vector<float> x_, h_, q_, qkv_, attn_, ffn_, kv_rows_;
  std::vector<backend::AttentionJob> jobs_;
  double flops_ = 0;
  // forward_aligned: per layer, the sink of its cross-attention (empty outside forward_aligned).
  const backend::ProbabilitySink* cross_sink(size_t layer) const {
    return layer < align_sinks_.size() && align_sinks_[layer].heads ? &align_sinks_[layer] : nullptr;
  }
  std::vector<backend::ProbabilitySink> align_sinks_;
  std::vector<uint8_t> align_flags_;  // (layers, n_head)
  std::vector<float> align_probs_;    // (layers holding a head, n_head, L, n_audio_ctx)
};

}  // namespace wisp::nn
