#include "nn/decoder.h"

#include <cstring>

#include "core/error.h"
#include "kernels/ops.h"
#include "nn/attention.h"
#include "nn/linear.h"

namespace wisp::nn {

Decoder::Decoder(const WhisperModel& model)
    : model_(model),
      D_(model.dims().n_text_state),
      n_ctx_(model.dims().n_text_ctx),
      n_audio_ctx_(model.dims().n_audio_ctx) {
  const size_t n_layer = model.decoder().layers.size();
  cross_k_.resize(n_layer);
  cross_v_.resize(n_layer);
  self_k_.resize(n_layer);
  self_v_.resize(n_layer);
}

void Decoder::set_audio(const float* audio, int n_windows) {
  n_windows_ = n_windows;
  const int T = n_audio_ctx_;
  const size_t rows = static_cast<size_t>(n_windows) * T;
  tmp_.resize(rows * 2 * D_);
  const auto& layers = model_.decoder().layers;
  for (size_t i = 0; i < layers.size(); ++i) {
    // (n_windows·1500, 2D) = audio · W_kvᵀ, then split into K and V.
    kernels::linear(audio, static_cast<int>(rows), D_, layers[i].cross_kv.w, layers[i].cross_kv.b, 2 * D_,
                    tmp_.data());
    cross_k_[i].resize(rows * D_);
    cross_v_[i].resize(rows * D_);
    for (size_t r = 0; r < rows; ++r) {
      std::memcpy(cross_k_[i].data() + r * D_, tmp_.data() + r * 2 * D_, sizeof(float) * D_);
      std::memcpy(cross_v_[i].data() + r * D_, tmp_.data() + r * 2 * D_ + D_, sizeof(float) * D_);
    }
  }
}

void Decoder::reset(int batch) {
  batch_ = batch;
  for (size_t i = 0; i < self_k_.size(); ++i) {
    self_k_[i].resize(static_cast<size_t>(batch) * n_ctx_ * D_);
    self_v_[i].resize(static_cast<size_t>(batch) * n_ctx_ * D_);
  }
}

const float* Decoder::forward(const int* tokens, int L, int offset, const int* seq_window) {
  const DecoderWeights& w = model_.decoder();
  const WhisperDims& d = model_.dims();
  const int B = batch_, D = D_, BL = B * L;
  if (offset + L > n_ctx_) throw Error(ErrorKind::Decode, "decoder context overflow (448 tokens)");

  // x (B·L, D) = token embedding + positional embedding
  x_.resize(static_cast<size_t>(BL) * D);
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < L; ++t) {
      const int tok = tokens[b * L + t];
      if (tok < 0 || tok >= d.n_vocab) throw Error(ErrorKind::Internal, "token id out of range");
      float* row = x_.data() + (static_cast<size_t>(b) * L + t) * D;
      const float* e = w.embed + static_cast<size_t>(tok) * D;
      const float* p = w.pos + static_cast<size_t>(offset + t) * D;
      for (int j = 0; j < D; ++j) row[j] = e[j] + p[j];
    }
  h_.resize(x_.size());
  q_.resize(x_.size());
  attn_.resize(x_.size());
  qkv_.resize(static_cast<size_t>(BL) * 3 * D);
  const int H = d.n_text_head, dh = D / H;

  for (size_t li = 0; li < w.layers.size(); ++li) {
    const DecoderLayer& l = w.layers[li];
    // Self-attention: append this step's K/V to the cache, attend causally over [0, offset + L).
    kernels::layer_norm(x_.data(), BL, D, l.self_attn.ln.gamma, l.self_attn.ln.beta, h_.data());
    apply(l.self_attn.qkv, h_.data(), BL, qkv_.data());
    for (int b = 0; b < B; ++b) {
      float* kc = self_k_[li].data() + static_cast<size_t>(b) * n_ctx_ * D;
      float* vc = self_v_[li].data() + static_cast<size_t>(b) * n_ctx_ * D;
      for (int t = 0; t < L; ++t) {
        const float* src = qkv_.data() + (static_cast<size_t>(b) * L + t) * 3 * D;
        std::memcpy(kc + static_cast<size_t>(offset + t) * D, src + D, sizeof(float) * D);
        std::memcpy(vc + static_cast<size_t>(offset + t) * D, src + 2 * D, sizeof(float) * D);
      }
      AttentionShape s{H, dh, L, offset + L, true, offset};
      attention(s, qkv_.data() + static_cast<size_t>(b) * L * 3 * D, 3 * D, kc, D, vc, D,
                attn_.data() + static_cast<size_t>(b) * L * D, D, scores_);
    }
    apply(l.self_attn.out, attn_.data(), BL, h_.data());
    kernels::add(x_.data(), h_.data(), h_.size());

    // Cross-attention over the sequence's own audio window.
    kernels::layer_norm(x_.data(), BL, D, l.cross_ln.gamma, l.cross_ln.beta, h_.data());
    apply(l.cross_q, h_.data(), BL, q_.data());
    // Sequences reading the same window (beams, samples) are adjacent: one attention call per run of them,
    // so the window's keys and values are read once for all its sequences.
    for (int b0 = 0; b0 < B;) {
      const int win = seq_window ? seq_window[b0] : 0;
      if (win < 0 || win >= n_windows_)
        throw Error(ErrorKind::Internal, "sequence refers to a missing window");
      int b1 = b0 + 1;
      while (b1 < B && (seq_window ? seq_window[b1] : 0) == win) ++b1;
      const size_t a = static_cast<size_t>(win) * n_audio_ctx_ * D;
      AttentionShape s{H, dh, (b1 - b0) * L, n_audio_ctx_, false, 0};
      attention(s, q_.data() + static_cast<size_t>(b0) * L * D, D, cross_k_[li].data() + a, D,
                cross_v_[li].data() + a, D, attn_.data() + static_cast<size_t>(b0) * L * D, D, scores_);
      b0 = b1;
    }
    apply(l.cross_out, attn_.data(), BL, h_.data());
    kernels::add(x_.data(), h_.data(), h_.size());

    // MLP
    const int F = l.mlp.fc1.out;
    ffn_.resize(static_cast<size_t>(BL) * F);
    kernels::layer_norm(x_.data(), BL, D, l.mlp.ln.gamma, l.mlp.ln.beta, h_.data());
    apply(l.mlp.fc1, h_.data(), BL, ffn_.data());
    kernels::gelu(ffn_.data(), ffn_.size());
    apply(l.mlp.fc2, ffn_.data(), BL, h_.data());
    kernels::add(x_.data(), h_.data(), h_.size());
  }
  kernels::layer_norm(x_.data(), BL, D, w.ln.gamma, w.ln.beta, h_.data());
  return h_.data();
}

void Decoder::logits(const float* hidden, int n, float* out) { apply(model_.decoder().proj, hidden, n, out); }

void Decoder::expand(int group, int length) {
  const int old_batch = batch_;
  reset(old_batch * group);  // resize keeps the old rows at the front
  const size_t row = static_cast<size_t>(n_ctx_) * D_, used = static_cast<size_t>(length) * D_;
  for (auto* caches : {&self_k_, &self_v_})
    for (auto& cache : *caches)
      for (int r = batch_ - 1; r > 0; --r)  // downwards: a source row is read before it is overwritten
        if (r / group != r)
          std::memcpy(cache.data() + r * row, cache.data() + static_cast<size_t>(r / group) * row,
                      sizeof(float) * used);
}

void Decoder::reorder_cache(const std::vector<int>& src, int length) {
  const size_t row = static_cast<size_t>(n_ctx_) * D_, used = static_cast<size_t>(length) * D_;
  for (auto* caches : {&self_k_, &self_v_})
    for (auto& cache : *caches) {
      tmp_.resize(static_cast<size_t>(batch_) * used);
      for (int b = 0; b < batch_; ++b)
        std::memcpy(tmp_.data() + b * used, cache.data() + static_cast<size_t>(src[b]) * row,
                    sizeof(float) * used);
      for (int b = 0; b < batch_; ++b)
        std::memcpy(cache.data() + b * row, tmp_.data() + b * used, sizeof(float) * used);
    }
}

}  // namespace wisp::nn
