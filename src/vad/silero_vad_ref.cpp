#include "vad/silero_vad_ref.h"

#include <algorithm>
#include <cmath>

namespace wisp::vad {
namespace {

constexpr int kInput = kContextSamples + kWindowSamples;  // 576
constexpr int kPadded = kInput + kContextSamples;         // 640: reflect-padded on the right

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// Conv1d, kernel 3, padding 1, then ReLU: x (t_in, c.in) → (t_out, c.out), t_out = (t_in - 1) / stride + 1.
std::vector<float> conv_relu(const ConvLayer& c, const std::vector<float>& x, int t_in, int* t_out) {
  *t_out = (t_in - 1) / c.stride + 1;
  std::vector<float> y(static_cast<size_t>(*t_out) * c.out);
  for (int t = 0; t < *t_out; ++t)
    for (int o = 0; o < c.out; ++o) {
      float acc = c.bias[static_cast<size_t>(o)];
      for (int i = 0; i < c.in; ++i)
        for (int k = 0; k < 3; ++k) {
          const int src = t * c.stride + k - 1;
          if (src < 0 || src >= t_in) continue;
          acc +=
              c.weight[(static_cast<size_t>(o) * c.in + i) * 3 + k] * x[static_cast<size_t>(src) * c.in + i];
        }
      y[static_cast<size_t>(t) * c.out + o] = std::max(acc, 0.0f);
    }
  return y;
}

}  // namespace

size_t window_count(size_t n_samples) { return n_samples / kWindowSamples + 1; }

void window_input(const float* samples, size_t n_samples, size_t w, float* out, size_t first) {
  const size_t start = w * kWindowSamples;  // the window's first sample; the context is the 64 before it
  for (int i = 0; i < kInput; ++i) {
    const size_t pos = start + static_cast<size_t>(i);
    const bool inside = pos >= kContextSamples && pos - kContextSamples < n_samples;
    out[i] = inside ? samples[pos - kContextSamples - first] : 0.0f;
  }
}

std::vector<float> speech_probabilities_reference(const SileroModel& m, const float* samples,
                                                  size_t n_samples) {
  const size_t n_windows = window_count(n_samples);
  std::vector<float> probs(n_windows);
  std::vector<float> h(kHidden, 0.0f), c(kHidden, 0.0f), gates(4 * kHidden);
  float x[kPadded];
  for (size_t w = 0; w < n_windows; ++w) {
    window_input(samples, n_samples, w, x);
    for (int j = 0; j < kContextSamples; ++j) x[kInput + j] = x[kInput - 2 - j];  // ReflectionPad1d((0, 64))

    // STFT magnitude, (frames, bins).
    std::vector<float> mag(static_cast<size_t>(kStftFrames) * kStftBins);
    for (int t = 0; t < kStftFrames; ++t)
      for (int b = 0; b < kStftBins; ++b) {
        float re = 0.0f, im = 0.0f;
        const float* real_row = &m.stft_basis[static_cast<size_t>(b) * kStftTaps];
        const float* imag_row = &m.stft_basis[static_cast<size_t>(kStftBins + b) * kStftTaps];
        for (int k = 0; k < kStftTaps; ++k) {
          re += real_row[k] * x[t * kStftHop + k];
          im += imag_row[k] * x[t * kStftHop + k];
        }
        mag[static_cast<size_t>(t) * kStftBins + b] = std::sqrt(re * re + im * im);
      }

    std::vector<float> act = mag;
    int t_len = kStftFrames;
    for (const ConvLayer& layer : m.encoder) {
      int t_out = 0;
      act = conv_relu(layer, act, t_len, &t_out);
      t_len = t_out;
    }  // act: (1, kHidden)

    for (int g = 0; g < 4 * kHidden; ++g) {
      float acc = m.lstm_b_ih[static_cast<size_t>(g)] + m.lstm_b_hh[static_cast<size_t>(g)];
      for (int k = 0; k < kHidden; ++k) {
        acc += m.lstm_w_ih[static_cast<size_t>(g) * kHidden + k] * act[static_cast<size_t>(k)];
        acc += m.lstm_w_hh[static_cast<size_t>(g) * kHidden + k] * h[static_cast<size_t>(k)];
      }
      gates[static_cast<size_t>(g)] = acc;
    }
    float logit = m.out_bias;
    for (int k = 0; k < kHidden; ++k) {
      const size_t i = static_cast<size_t>(k);
      const float in_gate = sigmoid(gates[i]), forget = sigmoid(gates[kHidden + i]);
      const float cell = std::tanh(gates[2 * kHidden + i]), out_gate = sigmoid(gates[3 * kHidden + i]);
      c[i] = forget * c[i] + in_gate * cell;
      h[i] = out_gate * std::tanh(c[i]);
      logit += m.out_weight[i] * std::max(h[i], 0.0f);
    }
    probs[w] = sigmoid(logit);
  }
  return probs;
}

}  // namespace wisp::vad
