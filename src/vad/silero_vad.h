// SileroVad: the Silero VAD network on the CPU backend, for whole recordings.
//
// Everything before the LSTM depends on one window's samples only, so it runs for blocks of windows at once
// as matrix products on the backend (fp32): the STFT as a product with its basis, each encoder conv as im2col
// + product, and the LSTM's input projection. Only the LSTM's recurrence (128 → 512 per window) runs window
// by window. An hour of audio is 112,500 windows. silero_vad_ref.h is the plain per-window oracle.
//
// Immutable once built; speech_probabilities() may run on several threads at once, each with its own Exec.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "vad/silero_model.h"

namespace wisp::vad {

class SileroVad {
 public:
  // Packs `model`'s weights for an fp32 CPU backend of instruction-set level `isa`.
  SileroVad(const SileroModel& model, backend::cpu::Isa isa);
  ~SileroVad();

  // P(speech) for every window of `samples` (16 kHz mono): window_count(n) values, as faster-whisper's
  // SileroVADModel gives them (zero padding to whole windows, 64 samples of context, state from zero).
  std::vector<float> speech_probabilities(backend::Exec& ex, const float* samples, size_t n_samples) const;

  // The LSTM's state, carried from window to window (zero at the start of a recording).
  struct State {
    std::vector<float> h = std::vector<float>(kHidden, 0.0f), c = std::vector<float>(kHidden, 0.0f);
    std::vector<float> frames, spec, cols, act_a, act_b, gates;  // scratch, kept from call to call
  };
  // P(speech) of windows [w_begin, w_end) into probs[0, w_end − w_begin), for audio that arrives as it
  // goes: samples[k] is the recording's sample first + k and holds windows' samples and the 64 before the
  // first; n_samples bounds the recording (zeros past it; the audio's length for its last windows, anything
  // past the windows' samples before that). `state` carries on from the window before w_begin.
  void probabilities(backend::Exec& ex, const float* samples, size_t first, size_t n_samples, size_t w_begin,
                     size_t w_end, State& state, float* probs) const;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::unique_ptr<backend::Backend> backend_;
  std::unique_ptr<backend::PackedLinear> stft_;                  // (258, 256)
  std::unique_ptr<backend::PackedLinear> conv_[kEncoderLayers];  // (out, in · 3), bias
  std::unique_ptr<backend::PackedLinear> lstm_in_;               // (512, 128), bias b_ih + b_hh
  int conv_in_[kEncoderLayers] = {}, conv_out_[kEncoderLayers] = {}, conv_stride_[kEncoderLayers] = {};
  std::vector<float> w_hh_;  // W_hh laid out for lstm_recurrence (pack_recurrent_weights)
  std::vector<float> out_weight_;
  float out_bias_ = 0.0f;
};

}  // namespace wisp::vad
