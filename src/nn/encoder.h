// Whisper's audio encoder: conv stem (2 × Conv1d + GELU) → positional embedding → pre-LN transformer
// blocks → final LayerNorm. Reads like openai/whisper model.py's AudioEncoder.
#pragma once

#include <vector>

#include "model/whisper_model.h"

namespace wisp::nn {

class Encoder {
 public:
  explicit Encoder(const WhisperModel& model) : model_(model) {}

  // mel: (n_mels, 3000) one 30-s window → out: (1500, D). Scratch buffers are kept between calls.
  void encode(const float* mel, float* out);

 private:
  const WhisperModel& model_;
  std::vector<float> cols_, x1_, h_, qkv_, attn_, ffn_, scores_;
};

}  // namespace wisp::nn
