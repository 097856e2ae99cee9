#include "nn/encoder.h"

namespace wisp::nn {

using backend::AttentionJob;
using backend::Epilogue;
using backend::f32_view;

double Encoder::flops_per_window(const WhisperDims& d) {
  const double D = d.n_audio_state, T = d.n_audio_ctx, F = 4.0 * D;
  const double conv = 2 * (2 * T) * (3.0 * d.n_mels) * D + 2 * T * (3 * D) * D;
  const double layer = 2 * T * D * (3 * D) + 2 * (2 * T * T * D) + 2 * T * D * D + 2 * (2 * T * D * F);
  return conv + d.n_audio_layer * layer;
}

void Encoder::encode(const float* mel, float* out, int n, const std::function<void()>* between_layers) {
  const WhisperDims& d = model_.dims();
  for (int i = 0; i < n; ++i)
    encode_window(mel + static_cast<size_t>(i) * d.n_mels * 2 * d.n_audio_ctx,
                  out + static_cast<size_t>(i) * d.n_audio_ctx * d.n_audio_state, between_layers);
}

void Encoder::encode_window(const float* mel, float* out, const std::function<void()>* between_layers) {
  const WhisperDims& d = model_.dims();
  const EncoderWeights& w = model_.encoder();
  const backend::Backend& be = model_.backend();
  const int D = d.n_audio_state, T = d.n_audio_ctx, T_in = 2 * T, n_mels = d.n_mels;
  Epilogue gelu;
  gelu.gelu = true;
  Epilogue residual;
  residual.accumulate = true;

  const auto pass_on = [&] {
    if (between_layers && *between_layers) (*between_layers)();
  };
  pass_on();
  // The mel (n_mels, 3000) seen time-major: (3000, n_mels) with a column stride of 3000.
  backend::TensorView mel_t = f32_view(mel, T_in, n_mels);
  mel_t.row_stride = 1;
  mel_t.col_stride = T_in;
  // x1 (3000, D) = GELU(conv1(mel));  x (1500, D) = GELU(conv2(x1, stride 2)) + positional embedding
  x1_.resize(sizeof(float) * T_in * D);
  be.conv1d_k3(ex_, *w.conv1, mel_t, 1, f32_view(x1_.as<float>(), T_in, D), gelu);
  x_.resize(sizeof(float) * T * D);
  const backend::TensorView x = f32_view(x_.as<float>(), T, D);  // the residual stream
  be.conv1d_k3(ex_, *w.conv2, f32_view(x1_.as<float>(), T_in, D), 2, x, gelu);
  be.add(ex_, f32_view(w.pos, T, D), x);

  h_.resize(sizeof(float) * T * D);
  qkv_.resize(sizeof(float) * T * 3 * D);
  attn_.resize(sizeof(float) * T * D);
  if (!kv_) kv_ = be.make_kv_cache(T, D, d.n_audio_head, backend::KvUse::SelfAttention);
  const backend::TensorView h = f32_view(h_.as<float>(), T, D), attn = f32_view(attn_.as<float>(), T, D);
  const backend::TensorView qkv = f32_view(qkv_.as<float>(), T, 3 * D);
  const backend::AttentionShape shape{d.n_audio_head, D / d.n_audio_head, false};
  for (const EncoderLayer& l : w.layers) {
    pass_on();
    // x = x + attn(ln(x)); (T, 3D) = [q | k | v]
    const backend::TensorView q =
        be.norm_linear_qkv(ex_, *l.attn.qkv, x, l.attn.ln.gamma, l.attn.ln.beta, h, qkv, *kv_);
    const AttentionJob job{q, kv_.get(), T, 0, attn, nullptr, nullptr};
    be.attention(ex_, &job, 1, shape);
    be.linear(ex_, *l.attn.out, attn, x, residual);
    // x = x + mlp(ln(x))
    be.mlp(ex_, *l.mlp.fc1, *l.mlp.fc2, x, l.mlp.ln.gamma, l.mlp.ln.beta, h);
  }
  be.layer_norm(ex_, x, w.ln_post.gamma, w.ln_post.beta, f32_view(out, T, D));
}

}  // namespace wisp::nn
