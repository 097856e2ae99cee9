// The recurrence of Silero VAD's LSTM over a block of windows, on one or two threads.
//
// Each window's step is a 128 → 512 matrix-vector product with W_hh (256 KB in fp32: it streams from L2
// every step) and the cell. Steps are strictly sequential, so two threads split each step instead: thread j
// owns hidden units [64j, 64j + 64) — the rows of W_hh of their four gates (128 KB, in its own core's L2) and
// their cell state — and both read the whole state the step before left. A thread claims the half-steps of
// its units in order and takes the other half when the other thread has not come (the pool does not promise
// that a helper arrives), so one thread alone runs every step, and a helper that comes late joins where the
// steps have got to. The arithmetic of a half-step is the same whoever runs it.
#pragma once

#include <vector>

#include "vad/silero_model.h"

namespace wisp::vad {

struct LstmBlock {
  const float* w_hh = nullptr;   // W_hh as pack_recurrent_weights() lays it out
  const float* out_w = nullptr;  // (kHidden): the decoder's 1×1 conv to a logit
  float out_b = 0.0f;
  float* gates =
      nullptr;         // (n, 4 · kHidden): W_ih · x + b_ih + b_hh per window, gates i, f, g, o; overwritten
  int n = 0;           // windows
  float* h = nullptr;  // (kHidden): the state before the first window, then after the last
  float* c = nullptr;  // (kHidden)
  float* probs = nullptr;  // (n): P(speech) = σ(out_w · ReLU(h) + out_b) after each window
};

// W_hh (4 · kHidden, kHidden), PyTorch's layout, as the half-steps read it: for each half j and gate q, the
// panel (kHidden, 64) of W_hhᵀ's columns q · kHidden + 64j … + 64 — each half's 128 KB in one sequential run.
std::vector<float> pack_recurrent_weights(const float* w_hh);

// Runs the block's steps on up to `threads` threads (two at most).
void lstm_recurrence(const LstmBlock& block, int threads);

}  // namespace wisp::vad
