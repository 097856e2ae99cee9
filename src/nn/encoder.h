// Whisper's audio encoder: conv stem (2 × Conv1d + GELU) → positional embedding → pre-LN transformer
// blocks → final LayerNorm. Reads like openai/whisper model.py's AudioEncoder; every operation is a call
// to the model's backend.
#pragma once

#include <memory>
#include <vector>

#include "backend/backend.h"
#include "model/whisper_model.h"

namespace wisp::nn {

class Encoder {
 public:
  // `ex` (threads, scratch) belongs to the context and must outlive the encoder.
  Encoder(const WhisperModel& model, backend::Exec& ex) : model_(model), ex_(ex) {}

  // mel: (n, n_mels, 3000) n 30-s windows → out: (n, 1500, D). The windows go through every linear layer
  // together (one GEMM of n · 1500 rows, so the weights are read once for all of them); attention stays
  // within each window. Buffers are kept between calls.
  void encode(const float* mel, float* out, int n = 1);

  // Arithmetic of one encode() (a multiply-add counted as 2), for GFLOP/s in benchmarks.
  static double flops_per_window(const WhisperDims& d);

 private:
  const WhisperModel& model_;
  backend::Exec& ex_;
  std::vector<float> x1_, h_, qkv_, attn_, ffn_;
  std::vector<std::unique_ptr<backend::KvCache>> kv_;  // each window's keys and values, one layer at a time
  std::vector<backend::AttentionJob> jobs_;
};

}  // namespace wisp::nn
