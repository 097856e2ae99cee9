// Whisper's text decoder, stepping many sequences at once.
//
// Two pools, both recycled (no allocation per token once warm):
//   windows    the cross-attention keys/values of one 30-s window of audio each (add_window);
//   sequences  one self-attention KV cache per layer each (acquire_sequence).
// A forward pass takes runs: each run is `length` consecutive tokens of one sequence, at positions
// [position, position + length), reading one window. Runs are ragged: every sequence has its own position,
// window and length, so a prompt of one window and single-token steps of others go through the same pass,
// and sequences join and leave between passes (batched long-form decoding, beams of several windows).
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
  // The context's compute threads (for work beside the network's, such as choosing tokens).
  int threads() const { return ex_.threads; }

  // ---- audio windows ----
  // audio: (n, 1500, D) encoder outputs; their cross-attention keys/values are computed (in bands of rows)
  // and stored in n windows, whose ids go to ids[0..n). Windows for the batched mode, decoded among others
  // in flight (KvUse::CrossAttentionBatched: the backend may store them in fewer bytes).
  void add_windows(const float* audio, int n, int* ids) {
    add_windows(audio, n, ids, backend::KvUse::CrossAttentionBatched);
  }
  int add_window(const float* audio) {
    int id = 0;
    add_windows(audio, 1, &id);
    return id;
  }
  void release_window(int id);
  // Releases every window, then adds n: ids 0 .. n-1 (the one-window loop of sequential decoding; caches
  // at the attention's own precision, KvUse::CrossAttention).
  void set_audio(const float* audio, int n);

  // ---- sequences ----
  int acquire_sequence();  // an empty self-attention cache
  void release_sequence(int id);
  // A sequence for one scope (a one-off pass: language detection, word alignment), released however the
  // scope ends.
  class ScopedSequence {
   public:
    explicit ScopedSequence(Decoder& d) : d_(d), id_(d.acquire_sequence()) {}
    ~ScopedSequence() { d_.release_sequence(id_); }
    ScopedSequence(const ScopedSequence&) = delete;
    ScopedSequence& operator=(const ScopedSequence&) = delete;
    int id() const { return id_; }

   private:
    Decoder& d_;
    int id_;
  };
  // dst's positions [0, length) become src's.
  void copy_sequence(int src, int dst, int length);

  // ---- forward ----
  struct Run {
    int sequence = 0;  // an acquired sequence; its cache gets this run's keys and values
    int window = 0;    // an added window
    int position = 0;  // of the run's first token; the sequence's cache must hold [0, position)
    int length = 1;
  };
  // tokens: the runs' tokens, run after run. Returns the final-LayerNorm hidden states (rows, D), rows =
  // Σ length, valid until the next call.
  const float* forward(const int* tokens, const Run* runs, int n_runs);

  // logits(n, V) = hidden(n, D) · Embeddingᵀ
  void logits(const float* hidden, int n, float* out);

  // Arithmetic done so far (a multiply-add counted as 2), for GFLOP/s in benchmarks.
  double flops() const { return flops_; }

  // Word timestamps: a teacher-forced forward of one sequence, tokens (L) at positions [0, L), over the
  // audio of window `window`, recording the cross-attention probabilities of each (layer, head) in `heads`
  // into probs (heads.size(), L, n_audio_ctx), on a sequence of its own (released again). Returns the
  // final-LayerNorm hidden states (L, D) as forward() does. Throws Error(Model) for a head the model lacks.
  const float* forward_aligned(const int* tokens, int L, int window,
                               const std::vector<std::pair<int, int>>& heads, float* probs);

 private:
  using Slot = std::vector<std::unique_ptr<backend::KvCache>>;  // one cache per layer
  struct Pool {
    std::vector<Slot> slots;
    std::vector<backend::KvUse> uses;  // what each slot's caches were made for
    std::vector<char> used;
    int take();  // the lowest free id (grows the pool when none is free)
  };
  void add_windows(const float* audio, int n, int* ids, backend::KvUse use);
  Slot make_slot(int capacity, backend::KvUse use) const;
  const Slot& window(int id) const;
  const Slot& sequence(int id) const;

  const WhisperModel& model_;
  backend::Exec& ex_;
  int D_, n_ctx_, n_audio_ctx_;
  Pool windows_, sequences_;
  std::vector<float> x_, h_, q_, qkv_, attn_;
  std::vector<backend::AttentionJob> jobs_;
  std::vector<backend::KvWrite> writes_;  // a step's new self-attention keys and values, one per run
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
