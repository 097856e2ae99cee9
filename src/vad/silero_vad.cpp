#include "vad/silero_vad.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "backend/cpu/threads.h"
#include "vad/lstm_recurrence.h"
#include "vad/silero_vad_ref.h"

namespace wisp::vad {
namespace {

constexpr int kBlock = 128;  // windows per batch of products: ~1.5 MB of activations, in L2
constexpr int kInput = kContextSamples + kWindowSamples;
constexpr int kGates = 4 * kHidden;

std::unique_ptr<backend::PackedLinear> pack(const backend::Backend& be, const float* w, int rows, int cols,
                                            const float* bias) {
  backend::WeightView v;
  v.dtype = backend::DType::F32;
  v.data = w;
  v.rows = rows;
  v.cols = cols;
  return be.pack_linear(v, bias, backend::LinearUse::ManyRows);
}

// im2col for a kernel-3, padding-1 conv over each window's own frames (padding at every window's edges):
// x (nb · t_in, c) → cols (nb · t_out, 3 · c) in [k][c] order, the packed weight's: three whole rows.
void im2col_k3(const float* x, int nb, int t_in, int c, int stride, float* cols, int threads) {
  const int t_out = (t_in - 1) / stride + 1;
  backend::cpu::parallel_for(threads, nb, [&](int b) {
    for (int t = 0; t < t_out; ++t) {
      float* row = cols + (static_cast<size_t>(b) * t_out + t) * c * 3;
      for (int k = 0; k < 3; ++k) {
        const int src = t * stride + k - 1;
        if (src >= 0 && src < t_in)
          std::memcpy(row + k * c, x + (static_cast<size_t>(b) * t_in + src) * c, sizeof(float) * c);
        else
          std::memset(row + k * c, 0, sizeof(float) * c);
      }
    }
  });
}

// A conv's weight (out, in, 3) as rows in [k][c] order.
std::vector<float> taps_major(const ConvLayer& c) {
  std::vector<float> w(c.weight.size());
  for (int o = 0; o < c.out; ++o)
    for (int i = 0; i < c.in; ++i)
      for (int k = 0; k < 3; ++k)
        w[(static_cast<size_t>(o) * 3 + k) * c.in + i] =
            c.weight[(static_cast<size_t>(o) * c.in + i) * 3 + k];
  return w;
}

}  // namespace

SileroVad::SileroVad(const SileroModel& m, backend::cpu::Isa isa)
    : path_(m.path), backend_(backend::make_cpu_backend(backend::ComputeType::Float32, isa)) {
  stft_ = pack(*backend_, m.stft_basis.data(), 2 * kStftBins, kStftTaps, nullptr);
  for (int i = 0; i < kEncoderLayers; ++i) {
    const ConvLayer& c = m.encoder[static_cast<size_t>(i)];
    conv_[i] = pack(*backend_, taps_major(c).data(), c.out, c.in * 3, c.bias.data());
    conv_in_[i] = c.in;
    conv_out_[i] = c.out;
    conv_stride_[i] = c.stride;
  }
  std::vector<float> bias(kGates);
  for (int g = 0; g < kGates; ++g) bias[static_cast<size_t>(g)] = m.lstm_b_ih[g] + m.lstm_b_hh[g];
  lstm_in_ = pack(*backend_, m.lstm_w_ih.data(), kGates, kHidden, bias.data());
  w_hh_ = pack_recurrent_weights(m.lstm_w_hh.data());
  out_weight_ = m.out_weight;
  out_bias_ = m.out_bias;
}

SileroVad::~SileroVad() = default;

std::vector<float> SileroVad::speech_probabilities(backend::Exec& ex, const float* samples,
                                                   size_t n_samples) const {
  std::vector<float> probs(window_count(n_samples));
  State state;
  probabilities(ex, samples, 0, n_samples, 0, probs.size(), state, probs.data());
  return probs;
}

void SileroVad::probabilities(backend::Exec& ex, const float* samples, size_t first, size_t n_samples,
                              size_t w_begin, size_t w_end, State& state, float* probs) const {
  using backend::f32_view;
  if (w_end <= w_begin) return;
  const size_t n_windows = w_end - w_begin;
  const size_t block = std::min<size_t>(kBlock, n_windows);
  const size_t rows = block * kStftFrames;
  std::vector<float>&frames = state.frames, &spec = state.spec, &cols = state.cols, &act_a = state.act_a,
  &act_b = state.act_b, &gates = state.gates;
  auto at_least = [](std::vector<float>& v, size_t n) {
    if (v.size() < n) v.resize(n);
  };
  at_least(frames, rows * kStftTaps);
  at_least(spec, rows * 2 * kStftBins);
  at_least(cols, rows * kStftBins * 3);
  at_least(act_a, rows * kStftBins);
  at_least(act_b, rows * kStftBins);
  at_least(gates, block * kGates);
  float* h = state.h.data();
  float* c = state.c.data();

  for (size_t w0 = 0; w0 < n_windows; w0 += kBlock) {
    const int nb = static_cast<int>(std::min<size_t>(kBlock, n_windows - w0));
    const int n_frames = nb * kStftFrames;

    // STFT frames: (nb · 4, 256), from each window's 576 inputs reflect-padded to 640.
    backend::cpu::parallel_for(ex.threads, nb, [&](int b) {
      float x[kInput + kContextSamples];
      window_input(samples, n_samples, w_begin + w0 + static_cast<size_t>(b), x, first);
      for (int j = 0; j < kContextSamples; ++j) x[kInput + j] = x[kInput - 2 - j];
      for (int t = 0; t < kStftFrames; ++t)
        std::memcpy(&frames[(static_cast<size_t>(b) * kStftFrames + t) * kStftTaps], x + t * kStftHop,
                    sizeof(float) * kStftTaps);
    });
    backend_->linear(ex, *stft_, f32_view(frames.data(), n_frames, kStftTaps),
                     f32_view(spec.data(), n_frames, 2 * kStftBins), {});
    backend::cpu::parallel_for(ex.threads, nb, [&](int b) {
      for (int f = b * kStftFrames; f < (b + 1) * kStftFrames; ++f) {
        const float* s = &spec[static_cast<size_t>(f) * 2 * kStftBins];
        float* out = &act_a[static_cast<size_t>(f) * kStftBins];
        for (int k = 0; k < kStftBins; ++k)
          out[k] = std::sqrt(s[k] * s[k] + s[kStftBins + k] * s[kStftBins + k]);
      }
    });

    // Encoder: (nb · t, channels) per layer.
    int t_len = kStftFrames;
    for (int i = 0; i < kEncoderLayers; ++i) {
      const int t_out = (t_len - 1) / conv_stride_[i] + 1;
      im2col_k3(act_a.data(), nb, t_len, conv_in_[i], conv_stride_[i], cols.data(), ex.threads);
      const int m_rows = nb * t_out;
      backend_->linear(ex, *conv_[i], f32_view(cols.data(), m_rows, conv_in_[i] * 3),
                       f32_view(act_b.data(), m_rows, conv_out_[i]), {});
      for (size_t j = 0; j < static_cast<size_t>(m_rows) * conv_out_[i]; ++j)
        act_b[j] = std::max(act_b[j], 0.0f);
      std::swap(act_a, act_b);
      t_len = t_out;
    }  // act_a: (nb, 128)

    // LSTM: input projections of the whole block at once, then the recurrence window by window.
    backend_->linear(ex, *lstm_in_, f32_view(act_a.data(), nb, kHidden), f32_view(gates.data(), nb, kGates),
                     {});
    lstm_recurrence({.w_hh = w_hh_.data(),
                     .out_w = out_weight_.data(),
                     .out_b = out_bias_,
                     .gates = gates.data(),
                     .n = nb,
                     .h = h,
                     .c = c,
                     .probs = probs + w0},
                    ex.threads);
  }
}

}  // namespace wisp::vad
