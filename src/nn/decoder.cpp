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

int Decoder::Pool::take() {
  for (size_t i = 0; i < used.size(); ++i)
    if (!used[i]) {
      used[i] = 1;
      return static_cast<int>(i);
    }
  slots.emplace_back();  // the caller fills it
  uses.push_back(backend::KvUse::SelfAttention);
  used.push_back(1);
  return static_cast<int>(used.size()) - 1;
}

Decoder::Slot Decoder::make_slot(int capacity, backend::KvUse use) const {
  Slot s;
  for (size_t l = 0; l < model_.decoder().layers.size(); ++l)
    s.push_back(model_.backend().make_kv_cache(capacity, D_, model_.dims().n_text_head, use));
  return s;
}

const Decoder::Slot& Decoder::window(int id) const {
  if (id < 0 || id >= static_cast<int>(windows_.used.size()) || !windows_.used[id])
    throw Error(ErrorKind::Internal, "decoder: window " + std::to_string(id) + " is not in use");
  return windows_.slots[id];
}

const Decoder::Slot& Decoder::sequence(int id) const {
  if (id < 0 || id >= static_cast<int>(sequences_.used.size()) || !sequences_.used[id])
    throw Error(ErrorKind::Internal, "decoder: sequence " + std::to_string(id) + " is not in use");
  return sequences_.slots[id];
}

void Decoder::add_windows(const float* audio, int n, int* ids, backend::KvUse use) {
  const backend::Backend& be = model_.backend();
  const int T = n_audio_ctx_, rows = n * T;
  for (int w = 0; w < n; ++w) {
    ids[w] = windows_.take();
    if (windows_.slots[ids[w]].empty() || windows_.uses[ids[w]] != use) {
      windows_.slots[ids[w]] = make_slot(T, use);
      windows_.uses[ids[w]] = use;
    }
  }
  flops_ += 2.0 * rows * D_ * (2.0 * D_) * model_.decoder().layers.size();
  // (T, 2D) = audio · W_kvᵀ (keys | values) per window and layer, into the window's caches (the backend
  // goes in bands of rows, so that the products reach the caches from L2).
  const auto& layers = model_.decoder().layers;
  std::vector<const backend::PackedLinear*> weights;
  for (const auto& l : layers) weights.push_back(l.cross_kv.packed.get());
  for (int w = 0; w < n; ++w) {
    std::vector<backend::KvCache*> caches;
    for (auto& c : windows_.slots[ids[w]]) caches.push_back(c.get());
    be.cross_kv(ex_, weights.data(), caches.data(), static_cast<int>(layers.size()),
                f32_view(audio + static_cast<size_t>(w) * T * D_, T, D_));
  }
}

void Decoder::release_window(int id) {
  window(id);  // checks it is in use
  windows_.used[id] = 0;
}

void Decoder::set_audio(const float* audio, int n) {
  for (auto& u : windows_.used) u = 0;
  std::vector<int> ids(n);
  add_windows(audio, n, ids.data(), backend::KvUse::CrossAttention);
}

int Decoder::acquire_sequence() {
  const int id = sequences_.take();
  if (sequences_.slots[id].empty()) sequences_.slots[id] = make_slot(n_ctx_, backend::KvUse::SelfAttention);
  return id;
}

void Decoder::release_sequence(int id) {
  sequence(id);
  sequences_.used[id] = 0;
}

void Decoder::copy_sequence(int src, int dst, int length) {
  const Slot& from = sequence(src);
  const Slot& to = sequence(dst);
  for (size_t l = 0; l < from.size(); ++l) model_.backend().kv_copy(ex_, *from[l], *to[l], length);
}

const float* Decoder::forward(const int* tokens, const Run* runs, int n_runs) {
  const DecoderWeights& w = model_.decoder();
  const WhisperDims& d = model_.dims();
  const backend::Backend& be = model_.backend();
  const int D = D_;
  int R = 0;            // rows
  double attended = 0;  // Σ over rows of the keys each row attends to (self + cross)
  for (int r = 0; r < n_runs; ++r) {
    const Run& run = runs[r];
    if (run.length < 1 || run.position < 0 || run.position + run.length > n_ctx_)
      throw Error(ErrorKind::Decode, "decoder context overflow (448 tokens)");
    sequence(run.sequence);
    window(run.window);
    R += run.length;
    attended += run.length * (run.position + (run.length + 1) / 2.0 + n_audio_ctx_);
  }
  Epilogue residual;
  residual.accumulate = true;

  x_.resize(static_cast<size_t>(R) * D);
  h_.resize(x_.size());
  q_.resize(x_.size());
  attn_.resize(x_.size());
  qkv_.resize(static_cast<size_t>(R) * 3 * D);
  const TensorView x = f32_view(x_.data(), R, D), h = f32_view(h_.data(), R, D),
                   q = f32_view(q_.data(), R, D), attn = f32_view(attn_.data(), R, D),
                   qkv = f32_view(qkv_.data(), R, 3 * D);
  // x (R, D) = token embedding + positional embedding, run by run
  for (int r = 0, row = 0; r < n_runs; row += runs[r].length, ++r) {
    const Run& run = runs[r];
    const TensorView pos = f32_view(w.pos, n_ctx_, D).rows_range(run.position, run.position + run.length);
    be.embed(ex_, w.embed, tokens + row, pos, x.rows_range(row, row + run.length));
  }
  {  // linear layers (qkv, out, cross q, cross out, fc1, fc2) and attention
    const double F = w.layers.empty() ? 0 : w.layers[0].mlp.fc1.out;
    const double per_row = 2.0 * D * (3.0 * D + 3.0 * D + 2.0 * F);
    flops_ += (per_row * R + 4.0 * D * attended) * static_cast<double>(w.layers.size());
  }

  const backend::AttentionShape self_shape{d.n_text_head, D / d.n_text_head, true};
  const backend::AttentionShape cross_shape{d.n_text_head, D / d.n_text_head, false};
  for (size_t li = 0; li < w.layers.size(); ++li) {
    const DecoderLayer& l = w.layers[li];
    // Self-attention: each run's keys/values join its sequence's cache (written by the attention call), and
    // its rows attend causally.
    be.norm_linear(ex_, *l.self_attn.qkv, x, l.self_attn.ln.gamma, l.self_attn.ln.beta, h, qkv, {});
    writes_.clear();
    for (int r = 0, row = 0; r < n_runs; row += runs[r].length, ++r) {
      const Run& run = runs[r];
      const TensorView rows = qkv.rows_range(row, row + run.length);
      writes_.push_back({sequences_.slots[run.sequence][li].get(), run.position, rows.cols_range(D, 2 * D),
                         rows.cols_range(2 * D, 3 * D)});
    }
    jobs_.clear();  // after all the writes: the jobs point into writes_
    for (int r = 0, row = 0; r < n_runs; row += runs[r].length, ++r) {
      const Run& run = runs[r];
      jobs_.push_back({qkv.rows_range(row, row + run.length).cols_range(0, D), writes_[r].kv,
                       run.position + run.length, run.position, attn.rows_range(row, row + run.length),
                       nullptr, &writes_[r]});
    }
    be.attention(ex_, jobs_.data(), static_cast<int>(jobs_.size()), self_shape);
    be.linear(ex_, *l.self_attn.out, attn, x, residual);

    // Cross-attention over each run's audio window. Adjacent runs reading the same window (beams, samples)
    // make one job, so the window's keys and values are read once for all of them.
    be.norm_linear(ex_, *l.cross_q, x, l.cross_ln.gamma, l.cross_ln.beta, h, q, {});
    jobs_.clear();
    for (int r0 = 0, row0 = 0; r0 < n_runs;) {
      int r1 = r0, row1 = row0;
      while (r1 < n_runs && runs[r1].window == runs[r0].window) row1 += runs[r1++].length;
      jobs_.push_back({q.rows_range(row0, row1), windows_.slots[runs[r0].window][li].get(), n_audio_ctx_, 0,
                       attn.rows_range(row0, row1), cross_sink(li), nullptr});
      r0 = r1;
      row0 = row1;
    }
    be.attention(ex_, jobs_.data(), static_cast<int>(jobs_.size()), cross_shape);
    be.linear(ex_, *l.cross_out, attn, x, residual);

    // MLP
    be.mlp(ex_, *l.mlp.fc1, *l.mlp.fc2, x, l.mlp.ln.gamma, l.mlp.ln.beta, h);
  }
  be.layer_norm(ex_, x, w.ln.gamma, w.ln.beta, h);
  return h_.data();
}

void Decoder::logits(const float* hidden, int n, float* out) {
  const DecoderWeights& w = model_.decoder();
  flops_ += 2.0 * n * D_ * w.proj.out;
  model_.backend().linear(ex_, *w.proj, f32_view(hidden, n, D_), f32_view(out, n, w.proj.out), {});
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
  const ScopedSequence sequence(*this);
  const Run run{sequence.id(), window, 0, L};
  const float* hidden = forward(tokens, &run, 1);
  for (size_t k = 0; k < heads.size(); ++k) {
    const auto [layer, head] = heads[k];
    const float* src = align_probs_.data() + block[layer] * block_elems + head * head_elems;
    std::copy(src, src + head_elems, probs + k * head_elems);
  }
  return hidden;
}

}  // namespace wisp::nn
