#include "nn/decoder.h"

#include <algorithm>
#include <string>

#include "core/error.h"

namespace wisp::nn {

using backend::AttentionJob;
using backend::Epilogue;
using backend::f32_view;
using backend::TensorView;

Decoder::Decoder(const WhisperModel& model, backend::Exec& ex)
    : model_(model),
      ex_(ex),
      D_(model.dims().n_text_state),
      n_ctx_(model.dims().n_text_ctx),
      n_audio_ctx_(model.dims().n_audio_ctx) {}

Decoder::Slot Decoder::take_slot() {
  if (!free_.empty()) {
    Slot s = std::move(free_.back());
    free_.pop_back();
    return s;
  }
  Slot s;
  for (size_t l = 0; l < model_.decoder().layers.size(); ++l)
    s.push_back(model_.backend().make_kv_cache(n_ctx_, D_, model_.dims().n_text_head));
  return s;
}

void Decoder::copy_slot(const Slot& from, Slot& to, int length) {
  for (size_t l = 0; l < from.size(); ++l) model_.backend().kv_copy(ex_, *from[l], *to[l], length);
}

void Decoder::set_audio(const float* audio, int n_windows) {
  const backend::Backend& be = model_.backend();
  const int T = n_audio_ctx_, rows = n_windows * T;
  n_windows_ = n_windows;
  while (static_cast<int>(cross_.size()) < n_windows) {
    Slot s;
    for (size_t l = 0; l < model_.decoder().layers.size(); ++l)
      s.push_back(be.make_kv_cache(T, D_, model_.dims().n_text_head));
    cross_.push_back(std::move(s));
  }
  kv_rows_.resize(static_cast<size_t>(rows) * 2 * D_);
  flops_ += 2.0 * rows * D_ * (2.0 * D_) * model_.decoder().layers.size();
  const TensorView kv = f32_view(kv_rows_.data(), rows, 2 * D_);
  const auto& layers = model_.decoder().layers;
  for (size_t l = 0; l < layers.size(); ++l) {
    // (n_windows · 1500, 2D) = audio · W_kvᵀ: keys | values, stored in each window's cache.
    be.linear(ex_, *layers[l].cross_kv, f32_view(audio, rows, D_), kv, {});
    for (int w = 0; w < n_windows; ++w) {
      const TensorView part = kv.rows_range(w * T, (w + 1) * T);
      be.kv_write(ex_, *cross_[w][l], 0, part.cols_range(0, D_), part.cols_range(D_, 2 * D_));
    }
  }
}

void Decoder::reset(int batch) {
  for (Slot& s : self_) free_.push_back(std::move(s));
  self_.clear();
  for (int b = 0; b < batch; ++b) self_.push_back(take_slot());
  batch_ = batch;
}

const float* Decoder::forward(const int* tokens, int L, int offset, const int* seq_window) {
  const DecoderWeights& w = model_.decoder();
  const WhisperDims& d = model_.dims();
  const backend::Backend& be = model_.backend();
  const int B = batch_, D = D_, BL = B * L;
  if (offset + L > n_ctx_) throw Error(ErrorKind::Decode, "decoder context overflow (448 tokens)");
  Epilogue gelu;
  gelu.gelu = true;
  Epilogue residual;
  residual.accumulate = true;

  x_.resize(static_cast<size_t>(BL) * D);
  h_.resize(x_.size());
  q_.resize(x_.size());
  attn_.resize(x_.size());
  qkv_.resize(static_cast<size_t>(BL) * 3 * D);
  const TensorView x = f32_view(x_.data(), BL, D), h = f32_view(h_.data(), BL, D),
                   q = f32_view(q_.data(), BL, D), attn = f32_view(attn_.data(), BL, D),
                   qkv = f32_view(qkv_.data(), BL, 3 * D);
  // x (B·L, D) = token embedding + positional embedding
  const TensorView pos = f32_view(w.pos, n_ctx_, D).rows_range(offset, offset + L);
  for (int b = 0; b < B; ++b) be.embed(ex_, w.embed, tokens + b * L, pos, x.rows_range(b * L, (b + 1) * L));
  {  // linear layers (qkv, out, cross q, cross out, fc1, fc2) and attention over offset + L and 1500 keys
    const double F = w.layers.empty() ? 0 : w.layers[0].mlp.fc1.out;
    const double per_row = 2.0 * D * (3.0 * D + 3.0 * D + 2.0 * F) + 4.0 * D * (offset + L + n_audio_ctx_);
    flops_ += per_row * BL * static_cast<double>(w.layers.size());
  }

  const backend::AttentionShape self_shape{d.n_text_head, D / d.n_text_head, true};
  const backend::AttentionShape cross_shape{d.n_text_head, D / d.n_text_head, false};
  for (size_t li = 0; li < w.layers.size(); ++li) {
    const DecoderLayer& l = w.layers[li];
    // Self-attention: append this step's keys/values to each sequence's cache, attend causally.
    be.layer_norm(ex_, x, l.self_attn.ln.gamma, l.self_attn.ln.beta, h);
    be.linear(ex_, *l.self_attn.qkv, h, qkv, {});
    jobs_.clear();
    for (int b = 0; b < B; ++b) {
      const TensorView rows = qkv.rows_range(b * L, (b + 1) * L);
      be.kv_write(ex_, *self_[b][li], offset, rows.cols_range(D, 2 * D), rows.cols_range(2 * D, 3 * D));
      jobs_.push_back({rows.cols_range(0, D), self_[b][li].get(), offset + L, offset,
                       attn.rows_range(b * L, (b + 1) * L), nullptr});
    }
    be.attention(ex_, jobs_.data(), B, self_shape);
    be.linear(ex_, *l.self_attn.out, attn, x, residual);

    // Cross-attention over each sequence's audio window. Sequences reading the same window (beams,
    // samples) are adjacent: one job per run of them, so the window's keys and values are read once.
    be.layer_norm(ex_, x, l.cross_ln.gamma, l.cross_ln.beta, h);
    be.linear(ex_, *l.cross_q, h, q, {});
    jobs_.clear();
    for (int b0 = 0; b0 < B;) {
      const int win = seq_window ? seq_window[b0] : 0;
      if (win < 0 || win >= n_windows_)
        throw Error(ErrorKind::Internal, "sequence refers to a missing window");
      int b1 = b0 + 1;
      while (b1 < B && (seq_window ? seq_window[b1] : 0) == win) ++b1;
      jobs_.push_back({q.rows_range(b0 * L, b1 * L), cross_[win][li].get(), n_audio_ctx_, 0,
                       attn.rows_range(b0 * L, b1 * L), cross_sink(li)});
      b0 = b1;
    }
    be.attention(ex_, jobs_.data(), static_cast<int>(jobs_.size()), cross_shape);
    be.linear(ex_, *l.cross_out, attn, x, residual);

    // MLP
    const int F = l.mlp.fc1.out;
    ffn_.resize(static_cast<size_t>(BL) * F);
    be.layer_norm(ex_, x, l.mlp.ln.gamma, l.mlp.ln.beta, h);
    be.linear(ex_, *l.mlp.fc1, h, f32_view(ffn_.data(), BL, F), gelu);
    be.linear(ex_, *l.mlp.fc2, f32_view(ffn_.data(), BL, F), x, residual);
  }
  be.layer_norm(ex_, x, w.ln.gamma, w.ln.beta, h);
  return h_.data();
}

void Decoder::logits(const float* hidden, int n, float* out) {
  const DecoderWeights& w = model_.decoder();
  flops_ += 2.0 * n * D_ * w.proj.out;
  model_.backend().linear(ex_, *w.proj, f32_view(hidden, n, D_), f32_view(out, n, w.proj.out), {});
}

void Decoder::expand(int group, int length) {
  std::vector<Slot> next(static_cast<size_t>(batch_) * group);
  for (int r = 0; r < batch_ * group; ++r) {
    if (r % group == 0) continue;
    next[r] = take_slot();
    copy_slot(self_[r / group], next[r], length);
  }
  for (int b = 0; b < batch_; ++b) next[static_cast<size_t>(b) * group] = std::move(self_[b]);
  self_ = std::move(next);
  batch_ *= group;
}

void Decoder::reorder_cache(const std::vector<int>& src, int length) {
  // The first row taking an old sequence gets its slot; later ones (forks) get a copy, made while every
  // source is still in place. Old sequences nobody continues go back to the pool.
  std::vector<int> owner(self_.size(), -1);
  for (int b = 0; b < batch_; ++b)
    if (owner[src[b]] < 0) owner[src[b]] = b;
  std::vector<Slot> next(batch_);
  for (int b = 0; b < batch_; ++b)
    if (owner[src[b]] != b) {
      next[b] = take_slot();
      copy_slot(self_[src[b]], next[b], length);
    }
  for (int b = 0; b < batch_; ++b)
    if (owner[src[b]] == b) next[b] = std::move(self_[src[b]]);
  for (size_t s = 0; s < self_.size(); ++s)
    if (owner[s] < 0) free_.push_back(std::move(self_[s]));
  self_ = std::move(next);
}

const float* Decoder::forward_aligned(const int* tokens, int L, int window,
                                      const std::vector<std::pair<int, int>>& heads, float* probs) {
  const int n_layers = static_cast<int>(model_.decoder().layers.size()), H = model_.dims().n_text_head,
            T = n_audio_ctx_;
  align_flags_.assign(static_cast<size_t>(n_layers) * H, 0);
  for (const auto& [layer, head] : heads) {
    if (layer < 0 || layer >= n_layers || head < 0 || head >= H)
      throw Error(ErrorKind::Model, "alignment head (" + std::to_string(layer) + ", " + std::to_string(head) +
                                        ") is not in the decoder");
    align_flags_[static_cast<size_t>(layer) * H + head] = 1;
  }
  // One sink per layer that holds a chosen head, each into its own (n_head, L, T) block.
  std::vector<int> block(n_layers, -1);
  int n_blocks = 0;
  for (const auto& [layer, head] : heads)
    if (block[layer] < 0) block[layer] = n_blocks++;
  const size_t head_elems = static_cast<size_t>(L) * T, block_elems = head_elems * H;
  align_probs_.resize(block_elems * n_blocks);
  align_sinks_.assign(n_layers, backend::ProbabilitySink{});
  for (int l = 0; l < n_layers; ++l)
    if (block[l] >= 0)
      align_sinks_[l] = {align_flags_.data() + static_cast<size_t>(l) * H,
                         align_probs_.data() + block[l] * block_elems, static_cast<int64_t>(head_elems), T};
  struct ClearSinks {  // forward() must not record anything once this call is over, however it ends; the
                       // buffer (tens of MB for long texts) is not kept between windows
    std::vector<backend::ProbabilitySink>& sinks;
    std::vector<float>& buffer;
    ~ClearSinks() {
      sinks.clear();
      std::vector<float>().swap(buffer);
    }
  } clear{align_sinks_, align_probs_};
  reset(1);
  const float* hidden = forward(tokens, L, 0, &window);
  for (size_t k = 0; k < heads.size(); ++k) {
    const auto [layer, head] = heads[k];
    const float* src = align_probs_.data() + block[layer] * block_elems + head * head_elems;
    std::copy(src, src + head_elems, probs + k * head_elems);
  }
  return hidden;
}

}  // namespace wisp::nn
