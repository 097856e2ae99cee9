// WhisperModel: the immutable, shareable model — hyper-parameters, weights packed by its backend,
// tokenizer, metadata.
//
// Built once from a model path; every per-stream context reads it concurrently and never writes it.
// Linear layers are packed at load for the backend's compute type (float32, bfloat16, int8) and kernels;
// the small fp32 tensors (norms, biases, positions) and the token embeddings (in the file's own type) are
// read in place from the weight table the model owns. Shapes follow PyTorch's Linear convention: weight
// (out_features, in_features).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backend/backend.h"
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

// A Linear layer packed by the model's backend (bias included).
struct Linear {
  std::unique_ptr<backend::PackedLinear> packed;
  int out = 0, in = 0;
  const backend::PackedLinear& operator*() const { return *packed; }
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
  Linear conv1;                // (D, n_mels · 3): Conv1d weight (D, n_mels, 3) seen as a Linear
  Linear conv2;                // (D, D · 3)
  const float* pos = nullptr;  // (n_audio_ctx, D)
  std::vector<EncoderLayer> layers;
  Norm ln_post;
};

struct DecoderWeights {
  backend::WeightView embed;   // (n_vocab, D) token embeddings, in the file's type
  Linear proj;                 // (n_vocab, D) output projection, no bias; the embeddings when tied
  const float* pos = nullptr;  // (n_text_ctx, D)
  std::vector<DecoderLayer> layers;
  Norm ln;
};

struct ModelOptions {
  backend::ComputeType compute_type = backend::ComputeType::Auto;
  std::optional<backend::cpu::Isa> isa;  // default: cpu::default_isa() (the best, or WISP_ISA)
  bool reference_backend = false;        // the plain-loop oracle instead of the CPU kernels (tests)
};

class WhisperModel {
 public:
  // Loads and validates every file of the model at `path` and packs its weights; throws Error naming what
  // is wrong.
  static std::shared_ptr<const WhisperModel> load(const std::string& path, const ModelOptions& options = {});

  const WhisperDims& dims() const { return dims_; }
  const EncoderWeights& encoder() const { return encoder_; }
  const DecoderWeights& decoder() const { return decoder_; }
  const decode::Tokenizer& tokenizer() const { return *tokenizer_; }
  const ModelMetadata& metadata() const { return metadata_; }
  const backend::Backend& backend() const { return *backend_; }
  backend::cpu::Isa isa() const { return isa_; }  // the kernels' instruction-set level
  bool multilingual() const { return dims_.n_vocab >= 51865; }
  const std::string& path() const { return path_; }

 private:
  WhisperModel() = default;
  void bind();
  void check_tokenizer(const std::string& file) const;  // throws Error(Model) naming what does not fit

  std::string path_;
  WhisperDims dims_;
  std::unique_ptr<backend::Backend> backend_;
  backend::cpu::Isa isa_ = backend::cpu::Isa::Avx2;
  std::unique_ptr<WeightTable> weights_;
  ModelMetadata metadata_;
  std::unique_ptr<decode::Tokenizer> tokenizer_;
  EncoderWeights encoder_;
  DecoderWeights decoder_;
};

}  // namespace wisp
