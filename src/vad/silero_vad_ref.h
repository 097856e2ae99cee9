// The Silero VAD forward pass in plain loops, one window at a time: the oracle the fast version
// (silero_vad.h) is tested against. Written to read like the PyTorch model:
//   x (576) = 64 samples of context + the 512 of the window; reflect-pad 64 on the right → 640
//   STFT: conv1d with the (258, 256) basis, stride 128 → 4 frames; magnitude of 129 bins
//   encoder: 4 × (Conv1d k3 p1 + ReLU), strides 1, 2, 2, 1 → 128 values
//   LSTMCell (state kept from window to window) → ReLU → 1×1 conv → sigmoid = P(speech)
#pragma once

#include <cstddef>
#include <vector>

#include "vad/silero_model.h"

namespace wisp::vad {

// Windows (probabilities) for n samples: the audio is padded with zeros to the next multiple of 512, a whole
// window of zeros when it already is one (faster-whisper's np.pad), so n / 512 + 1.
size_t window_count(size_t n_samples);

// The network input of window w: the 64 samples before it (zeros before the audio) and its 512 samples
// (zeros past the end of the audio, n_samples long). out: kContextSamples + kWindowSamples values.
// samples[k] is the audio's sample first + k: it must hold those of the window and its context.
void window_input(const float* samples, size_t n_samples, size_t w, float* out, size_t first = 0);

// P(speech) for every window of `samples` (16 kHz mono), the LSTM state starting at zero.
std::vector<float> speech_probabilities_reference(const SileroModel& m, const float* samples,
                                                  size_t n_samples);

}  // namespace wisp::vad
