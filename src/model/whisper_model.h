// WhisperModel: the immutable, shareable model — hyper-parameters, bound weights, tokenizer, metadata.
//
// Built once from a model path; every per-stream Context reads it concurrently and never writes it.
// The weight views below point into the WeightTable the model owns. Shapes follow PyTorch's Linear
// convention: weight (out_features, in_features).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "decode/tokenizer.h"
#include "model/model_loader.h"

namespace wisp {

// Timestamp tokens <|0.00|> ... <|30.00|>, 20 ms apart: the last 1501 ids of every Whisper vocabulary.
constexpr int kTimestampTokens = 1501;

struct WhisperDims {
  int n_mels = 80;
  int n_audio_ctx = 1500;  // encoder positions (30 s / 20 ms)
  int n_audio_state = 0;
  int n_audio_head = 0;
  int n_audio_layer = 0;
  int n_text_ctx = 448;
  int n_text_state = 0;
  int n_text_head = 0;
  int n_text_layer = 0;
  int n_vocab = 0;
};

struct Linear {
  const float* w = nullptr;       // (out, in)
  const uint16_t* w16 = nullptr;  // the same weights in fp16 when the model stored them so, else null
  const float* b = nullptr;       // (out) or nullptr
  int out = 0, in = 0;
};

struct Norm {
  const float* gamma = nullptr;
  const float* beta = nullptr;
};

// Pre-LayerNorm self-attention: x + out(attn(qkv(ln(x)))).
struct SelfAttentionWeights {
  Norm ln;
  Linear qkv;  // (3D, D): fused query, key, value
  Linear out;  // (D, D)
};

// Pre-LayerNorm MLP: x + fc2(gelu(fc1(ln(x)))).
struct MlpWeights {
  Norm ln;
  Linear fc1;  // (4D, D)
  Linear fc2;  // (D, 4D)
};

struct EncoderLayer {
  SelfAttentionWeights attn;
  MlpWeights mlp;
};

struct DecoderLayer {
  SelfAttentionWeights self_attn;
  Norm cross_ln;
  Linear cross_q;   // (D, D)
  Linear cross_kv;  // (2D, D): key and value of the encoder output
  Linear cross_out;
  MlpWeights mlp;
};

struct EncoderWeights {
  const float* conv1_w = nullptr;  // (D, n_mels, 3)
  const float* conv1_b = nullptr;
  const float* conv2_w = nullptr;  // (D, D, 3)
  const float* conv2_b = nullptr;
  const float* pos = nullptr;  // (n_audio_ctx, D)
  std::vector<EncoderLayer> layers;
  Norm ln_post;
};

struct DecoderWeights {
  const float* embed = nullptr;  // (n_vocab, D) token embeddings
  Linear proj;                   // (n_vocab, D) output projection, no bias; the embeddings when tied
  const float* pos = nullptr;    // (n_text_ctx, D)
  std::vector<DecoderLayer> layers;
  Norm ln;
};

class WhisperModel {
 public:
  // Loads and validates every file of the model at `path`; throws Error naming what is wrong.
  static std::shared_ptr<const WhisperModel> load(const std::string& path);

  const WhisperDims& dims() const { return dims_; }
  const EncoderWeights& encoder() const { return encoder_; }
  const DecoderWeights& decoder() const { return decoder_; }
  const decode::Tokenizer& tokenizer() const { return *tokenizer_; }
  const ModelMetadata& metadata() const { return metadata_; }
  bool multilingual() const { return dims_.n_vocab >= 51865; }
  const std::string& path() const { return path_; }

 private:
  WhisperModel() = default;
  void bind();
  void check_tokenizer(const std::string& file) const;  // throws Error(Model) naming what does not fit

  std::string path_;
  WhisperDims dims_;
  std::unique_ptr<WeightTable> weights_;
  ModelMetadata metadata_;
  std::unique_ptr<decode::Tokenizer> tokenizer_;
  EncoderWeights encoder_;
  DecoderWeights decoder_;
};

}  // namespace wisp
