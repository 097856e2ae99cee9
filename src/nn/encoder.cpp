#include "nn/encoder.h"

#include <cstring>

#include "kernels/ops.h"
#include "nn/attention.h"

namespace wisp::nn {
namespace {

// im2col for a kernel-3 Conv1d with padding 1: x (T_in, C) time-major → cols (T_out, C·3),
// cols[t][c·3 + k] = x[t·stride + k − 1][c], zero outside. The weight (C_out, C, 3) then multiplies as a
// Linear.
void im2col_k3(const float* x, int T_in, int C, int stride, int T_out, std::vector<float>& cols) {
  cols.assign(static_cast<size_t>(T_out) * C * 3, 0.0f);
#pragma omp parallel for schedule(static)
  for (int t = 0; t < T_out; ++t) {
    float* row = cols.data() + static_cast<size_t>(t) * C * 3;
    for (int k = 0; k < 3; ++k) {
      const int src = t * stride + k - 1;
      if (src < 0 || src >= T_in) continue;
      const float* xr = x + static_cast<size_t>(src) * C;
      for (int c = 0; c < C; ++c) row[c * 3 + k] = xr[c];
    }
  }
}

}  // namespace

void Encoder::encode(const float* mel, float* out) {
  const WhisperDims& d = model_.dims();
  const EncoderWeights& w = model_.encoder();
  const int D = d.n_audio_state, T = d.n_audio_ctx, T_in = 2 * T, n_mels = d.n_mels;

  // Conv1 input in time-major order: (3000, n_mels).
  h_.resize(static_cast<size_t>(T_in) * n_mels);
  for (int m = 0; m < n_mels; ++m)
    for (int t = 0; t < T_in; ++t)
      h_[static_cast<size_t>(t) * n_mels + m] = mel[static_cast<size_t>(m) * T_in + t];

  // x1 (3000, D) = GELU(conv1(mel));  x (1500, D) = GELU(conv2(x1, stride 2)) + positional embedding
  im2col_k3(h_.data(), T_in, n_mels, 1, T_in, cols_);
  x1_.resize(static_cast<size_t>(T_in) * D);
  kernels::linear(cols_.data(), T_in, n_mels * 3, w.conv1_w, w.conv1_b, D, x1_.data());
  kernels::gelu(x1_.data(), x1_.size());
  im2col_k3(x1_.data(), T_in, D, 2, T, cols_);
  float* x = out;  // the residual stream lives in the output buffer
  kernels::linear(cols_.data(), T, D * 3, w.conv2_w, w.conv2_b, D, x);
  kernels::gelu(x, static_cast<size_t>(T) * D);
  kernels::add(x, w.pos, static_cast<size_t>(T) * D);

  h_.resize(static_cast<size_t>(T) * D);
  qkv_.resize(static_cast<size_t>(T) * 3 * D);
  attn_.resize(static_cast<size_t>(T) * D);
  AttentionShape shape{d.n_audio_head, D / d.n_audio_head, T, T, false, 0};
  for (const EncoderLayer& l : w.layers) {
    // x = x + attn(ln(x))
    kernels::layer_norm(x, T, D, l.attn.ln.gamma, l.attn.ln.beta, h_.data());
    kernels::linear(h_.data(), T, D, l.attn.qkv.w, l.attn.qkv.b, 3 * D,
                    qkv_.data());  // (T, 3D) = [q | k | v]
    attention(shape, qkv_.data(), 3 * D, qkv_.data() + D, 3 * D, qkv_.data() + 2 * D, 3 * D, attn_.data(), D,
              scores_);
    kernels::linear(attn_.data(), T, D, l.attn.out.w, l.attn.out.b, D, h_.data());
    kernels::add(x, h_.data(), h_.size());
    // x = x + mlp(ln(x))
    const int F = l.mlp.fc1.out;
    ffn_.resize(static_cast<size_t>(T) * F);
    kernels::layer_norm(x, T, D, l.mlp.ln.gamma, l.mlp.ln.beta, h_.data());
    kernels::linear(h_.data(), T, D, l.mlp.fc1.w, l.mlp.fc1.b, F, ffn_.data());
    kernels::gelu(ffn_.data(), ffn_.size());
    kernels::linear(ffn_.data(), T, F, l.mlp.fc2.w, l.mlp.fc2.b, D, h_.data());
    kernels::add(x, h_.data(), h_.size());
  }
  kernels::layer_norm(x, T, D, w.ln_post.gamma, w.ln_post.beta, x);
}

}  // namespace wisp::nn
