// Whisper's audio encoder: conv stem (2 × Conv1d + GELU) → positional embedding → pre-LN transformer
// blocks → final LayerNorm. Reads like openai/whisper model.py's AudioEncoder; every operation is a call
// to the model's backend.
#pragma once

#include <functional>
#include <memory>

#include "backend/backend.h"
#include "backend/buffer.h"
#include "model/whisper_model.h"

namespace wisp::nn {

class Encoder {
 public:
  // `ex` (threads, scratch) belongs to the context and must outlive the encoder.
  Encoder(const WhisperModel& model, backend::Exec& ex) : model_(model), ex_(ex) {}

  // mel: (n, n_mels, 3000) n 30-s windows → out: (n, 1500, D). Buffers are kept between calls.
  // The windows go through the network one after another: stacked into GEMMs of n · 1500 rows they ran
  // ~40 % slower per window (tiny.en int8, 8 windows, AMX): a window's activations (~20 MB) stay in the
  // last-level cache, eight windows' do not, and at 1500 rows the weights are read few times already.
  // `between_layers`, if given, is called before the conv stem and before each layer: a caller whose share
  // of the threads changes meanwhile (a speech finder done beside it) sets the Exec's threads there, not a
  // window later (a window on one thread takes tens of ms). The result does not depend on the threads.
  void encode(const float* mel, float* out, int n = 1, const std::function<void()>* between_layers = nullptr);

  // Arithmetic of one encode() (a multiply-add counted as 2), for GFLOP/s in benchmarks.
  static double flops_per_window(const WhisperDims& d);

 private:
  void encode_window(const float* mel, float* out, const std::function<void()>* between_layers);

  const WhisperModel& model_;
  backend::Exec& ex_;
  backend::Buffer x1_, x_, h_, qkv_, attn_;  // floats
  std::unique_ptr<backend::KvCache> kv_;     // the window's keys and values, one layer at a time
};

}  // namespace wisp::nn
