// The Silero VAD network's weights (v5/v6, 16 kHz), read from whisper.cpp's ggml conversion
// (models/convert-silero-vad-to-ggml.py there), validated and widened to fp32.
//
// File layout, little-endian int32 unless said otherwise:
//   magic 0x67676d6c ("ggml") | type: len + bytes ("silero-16k") | version major, minor, patch
//   window (512) | context (64) | n_encoder_layers (4) | per layer: in, out, kernel (129/128/64/64 →
//   128/64/64/128, kernel 3) | lstm input, hidden (128, 128) | final conv in, out (128, 1) then tensors until
//   the end of the file: n_dims (0..4) | name length | type (0 f32, 1 f16) | n_dims dims (ggml order: fastest
//   first) | name | data (C order of the PyTorch tensor, whose shape is the dims reversed)
//
// Every header field must be the architecture's value (the forward pass is written for it), every tensor must
// be known, present once, of its shape, and hold finite values; anything else is Error(Model) naming the file
// and the tensor.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <vector>

namespace wisp::vad {

constexpr int kSampleRate = 16000;
constexpr int kWindowSamples = 512;  // one speech probability per 512 samples (32 ms)
constexpr int kContextSamples = 64;  // the end of the previous window, prepended to each
constexpr int kStftTaps = 256;       // STFT filter length; hop 128
constexpr int kStftHop = 128;
constexpr int kStftBins = 129;  // kStftTaps / 2 + 1
constexpr int kStftFrames = 4;  // per window: (context + window + 64 reflected) = 640 samples
constexpr int kEncoderLayers = 4;
constexpr int kHidden = 128;  // LSTM input and state width

// A Conv1d with kernel 3 and padding 1, followed by ReLU.
struct ConvLayer {
  int in = 0, out = 0, stride = 1;
  std::vector<float> weight;  // (out, in, 3), PyTorch's layout: (out, in · 3) with [c][k] order
  std::vector<float> bias;    // (out)
};

struct SileroModel {
  std::string path;                               // the file, for messages
  std::string version;                            // e.g. "6.2.0"
  std::vector<float> stft_basis;                  // (2 · kStftBins, kStftTaps): real rows, then imaginary
  std::array<ConvLayer, kEncoderLayers> encoder;  // 129→128 s1, 128→64 s2, 64→64 s2, 64→128 s1
  std::vector<float> lstm_w_ih, lstm_w_hh;  // (4 · kHidden, kHidden), gates in PyTorch order i, f, g, o
  std::vector<float> lstm_b_ih, lstm_b_hh;  // (4 · kHidden)
  std::vector<float> out_weight;            // (kHidden): the 1×1 conv to one logit
  float out_bias = 0.0f;
};

// Reads and validates the ggml file at `path` (a regular file: a FIFO or device is refused). Throws
// Error(Model) for a missing, truncated or corrupt file, naming it.
SileroModel load_silero_model(const std::string& path);

// The same from bytes in memory; `name` stands for the file in messages.
SileroModel parse_silero_model(const unsigned char* data, size_t size, const std::string& name);

}  // namespace wisp::vad
