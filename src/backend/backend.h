// The compute interface the network (src/nn) is written against.
//
// A Backend is immutable and shared: the model's weights are packed by it once at load (pack_linear), and
// every context then calls it with its own Exec (threads, scratch). Implementations:
//   reference (src/backend/ref)  plain loops in fp32: the oracle the tests compare everything with;
//   cpu       (src/backend/cpu)  packed float32 / bfloat16 / int8 weights, kernels chosen by ISA level;
// a CUDA backend would implement the same verbs.
//
// Shapes are written as (rows, cols); activations are fp32 TensorViews on the backend's device.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>

#include "backend/compute_type.h"
#include "backend/exec.h"
#include "backend/tensor.h"

namespace wisp::backend {

// A weight matrix as the model file stores it, (rows, cols) row-major, not yet converted.
struct WeightView {
  DType dtype = DType::F32;  // F32, F16, BF16, or I8 with row_scale
  const void* data = nullptr;
  int rows = 0, cols = 0;
  const float* row_scale = nullptr;  // I8 only (CTranslate2): w[r][c] = q[r][c] / row_scale[r]
};

// What a Linear is used for, so packing keeps only the forms its kernels read.
enum class LinearUse {
  ManyRows,  // encoder layers, cross-attention keys/values: whole 30-s windows
  AnyRows,   // decoder layers and the vocabulary projection: prompts (many rows) and steps (a few)
  ConvStem,  // the encoder's convolutions, fed the log-mel: int8 keeps them in bf16 (fp32 without native
             // bf16), as CTranslate2 keeps its convolutions in float (measured: encoder error 4.0% → 3.1%)
};

// What happens to x · Wᵀ before it is stored in y.
struct Epilogue {
  const float* bias = nullptr;  // (out) added; set by the backend from the packed Linear's bias
  bool gelu = false;            // then GELU (erf form)
  bool accumulate = false;      // then y += result (residual connections) instead of y = result
};

// A Linear layer's weights in the backend's own format. Immutable once packed.
class PackedLinear {
 public:
  virtual ~PackedLinear() = default;
  int in = 0, out = 0;
};

// Keys and values of one sequence (or one audio window), up to `capacity` positions of `dim` = heads ×
// head_dim, laid out for the backend's attention. Per context; written by kv_write.
class KvCache {
 public:
  virtual ~KvCache() = default;
  int capacity = 0, dim = 0, n_head = 0;
};

// What a cache holds, so a backend can choose its format.
enum class KvUse {
  SelfAttention,   // written as a sequence grows (or once, by the encoder) and read by its own queries
  CrossAttention,  // an audio window's keys and values for the decoder, written once, decoded on its own
                   // (the sequential loop): kept at the attention's precision
  CrossAttentionBatched,  // the same for one of several windows in flight (the batched mode): every decoder
                          // step reads all of them, so a backend may keep them in fewer bytes (the int8 CPU
                          // backend from AVX-512 VNNI up: int8)
};

struct AttentionShape {
  int n_head = 1, head_dim = 64;
  bool causal = false;  // query row i sits at position q_offset + i and sees keys [0, q_offset + i]
};

// Receives the softmax probabilities of chosen heads (for word timestamps). probs[h·head_stride +
// i·row_stride + j] = P(query row i attends to key j) for each head h with heads[h] != 0.
struct ProbabilitySink {
  const uint8_t* heads = nullptr;  // (n_head) flags
  float* probs = nullptr;
  int64_t head_stride = 0, row_stride = 0;
};

// Keys k (L, dim) and values v (L, dim) for positions [position, position + L) of kv.
struct KvWrite {
  KvCache* kv = nullptr;
  int position = 0;
  TensorView k, v;
};

// One attention problem: query rows q (Tq, dim) of one sequence against its keys and values.
struct AttentionJob {
  TensorView q;
  const KvCache* kv = nullptr;
  int kv_len = 0;
  int q_offset = 0;  // position of q's first row (causal masking)
  TensorView out;    // (Tq, dim)
  const ProbabilitySink* sink = nullptr;
  // Optional: the query rows' own keys and values, written to this job's cache at q_offset before they are
  // attended to (append->kv == kv, append->position == q_offset, Tq rows). A decoder step's new tokens: the
  // CPU backend writes them inside the attention's tasks, on the thread that reads those cache lines next,
  // rather than from one thread before (a few cold lines per head and row, waited on one after another).
  const KvWrite* append = nullptr;
};
// Whether a job's append (if any) is what AttentionJob::append must be.
inline bool append_fits(const AttentionJob& job) {
  return !job.append || (job.append->kv == job.kv && job.append->position == job.q_offset &&
                         job.append->k.rows == job.q.rows && job.append->v.rows == job.q.rows);
}

class Backend {
 public:
  virtual ~Backend() = default;
  // E.g. "cpu amx int8" or "reference float32".
  virtual std::string description() const = 0;
  virtual ComputeType compute_type() const = 0;

  // ---- load time ----
  // W (out, in) and an optional bias (out).
  virtual std::unique_ptr<PackedLinear> pack_linear(const WeightView& w, const float* bias,
                                                    LinearUse use) const = 0;

  // ---- compute ----
  // y(M, out) = epilogue(x(M, in) · Wᵀ + bias).
  virtual void linear(Exec& ex, const PackedLinear& w, TensorView x, TensorView y, Epilogue ep) const = 0;
  // Conv1d with kernel 3, padding 1: x (T_in, C_in) → y (T_out, C_out), T_out = ceil(T_in / stride). The
  // weight is packed as a Linear (C_out, C_in · 3) with [c][k] order (PyTorch's (C_out, C_in, 3) flattened).
  virtual void conv1d_k3(Exec& ex, const PackedLinear& w, TensorView x, int stride, TensorView y,
                         Epilogue ep) const = 0;
  // y = LayerNorm(x) · gamma + beta per row (eps 1e-5); y may be x.
  virtual void layer_norm(Exec& ex, TensorView x, const float* gamma, const float* beta,
                          TensorView y) const = 0;
  // y = epilogue(LayerNorm(x) · Wᵀ + bias): layer_norm then linear. A backend that quantizes or converts the
  // activations normalises each row on that pass (one read of x instead of a write and two reads); otherwise
  // `scratch` (x's shape) takes the normalised rows. The result equals the two calls' to the bit.
  virtual void norm_linear(Exec& ex, const PackedLinear& w, TensorView x, const float* gamma,
                           const float* beta, TensorView scratch, TensorView y, Epilogue ep) const {
    layer_norm(ex, x, gamma, beta, scratch);
    linear(ex, w, scratch, y, ep);
  }
  // A self-attention's inputs: (q | keys | values) = LayerNorm(x) · Wᵀ + bias (W: (3 · dim, dim)), x (T,
  // dim); keys and values into kv at positions [0, T). Returns the queries (T, dim), in the form this
  // backend's attention reads best: columns [0, dim) of `qkv` (T, 3 · dim; fp32), or bf16 rows in `scratch`
  // (x's shape), which must then be left alone until the attention has run. `qkv` is room the backend may use
  // either way. The same bits as norm_linear into qkv then kv_write (the queries: as the attention would
  // convert them).
  virtual TensorView norm_linear_qkv(Exec& ex, const PackedLinear& w, TensorView x, const float* gamma,
                                     const float* beta, TensorView scratch, TensorView qkv,
                                     KvCache& kv) const {
    const int D = x.cols;
    norm_linear(ex, w, x, gamma, beta, scratch, qkv, {});
    kv_write(ex, kv, 0, qkv.cols_range(D, 2 * D), qkv.cols_range(2 * D, 3 * D));
    return qkv.cols_range(0, D);
  }
  // x += fc2(GELU(fc1(LayerNorm(x)))) (eps 1e-5; fc1's and fc2's biases as packed): a Transformer block's MLP
  // with its residual. `scratch` (x's shape) is room a backend may use; the hidden activations (x.rows,
  // fc1.out), where a backend makes them, come from the workspace (Workspace::kMlp). The result equals
  // norm_linear then linear to the bit.
  virtual void mlp(Exec& ex, const PackedLinear& fc1, const PackedLinear& fc2, TensorView x,
                   const float* gamma, const float* beta, TensorView scratch) const {
    Epilogue gelu;
    gelu.gelu = true;
    Epilogue residual;
    residual.accumulate = true;
    const TensorView hidden =
        f32_view(ex.ws->get<float>(Workspace::kMlp, static_cast<size_t>(x.rows) * fc1.out), x.rows, fc1.out);
    norm_linear(ex, fc1, x, gamma, beta, scratch, hidden, gelu);
    linear(ex, fc2, hidden, x, residual);
  }
  // y += x.
  virtual void add(Exec& ex, TensorView x, TensorView y) const = 0;
  // y[i] = table[ids[i]] + pos[i] for i < y.rows (pos: (y.rows, D) fp32 rows).
  virtual void embed(Exec& ex, const WeightView& table, const int* ids, TensorView pos,
                     TensorView y) const = 0;

  // ---- attention ----
  virtual std::unique_ptr<KvCache> make_kv_cache(int capacity, int dim, int n_head, KvUse use) const = 0;
  // Keys k (L, dim) and values v (L, dim) go to positions [position, position + L).
  virtual void kv_write(Exec& ex, KvCache& kv, int position, TensorView k, TensorView v) const = 0;
  // dst's positions [0, length) become src's.
  virtual void kv_copy(Exec& ex, const KvCache& src, KvCache& dst, int length) const = 0;
  // The cross-attention keys and values of one window for every decoder layer: (keys | values) = audio ·
  // w[l]ᵀ (w[l]: (2 · dim, dim)) into caches[l] from position 0, audio (T, dim). Bands of kCrossKvBand rows
  // at a time, so that the products go to the caches from L2 rather than memory.
  static constexpr int kCrossKvBand = 192;  // a multiple of 32: whole key blocks of every cache layout
  virtual void cross_kv(Exec& ex, const PackedLinear* const* w, KvCache* const* caches, int n_layers,
                        TensorView audio) const {
    const int T = audio.rows, D = audio.cols, band = std::min(kCrossKvBand, T);
    float* rows = ex.ws->get<float>(Workspace::kCrossKv, static_cast<size_t>(band) * 2 * D);
    for (int r0 = 0; r0 < T; r0 += band) {
      const int r1 = std::min(T, r0 + band);
      const TensorView kv = f32_view(rows, r1 - r0, 2 * D);
      for (int l = 0; l < n_layers; ++l) {
        linear(ex, *w[l], audio.rows_range(r0, r1), kv, {});
        kv_write(ex, *caches[l], r0, kv.cols_range(0, D), kv.cols_range(D, 2 * D));
      }
    }
  }
  // For every job: out (Tq, dim) = softmax(q kᵀ / √head_dim) v per head, over keys [0, kv_len) of its cache.
  // All jobs run in one call (sequences of a decoder step, or one encoder window), so the work of all of
  // them is spread over the threads together.
  virtual void attention(Exec& ex, const AttentionJob* jobs, int n_jobs,
                         const AttentionShape& shape) const = 0;
};

std::unique_ptr<Backend> make_reference_backend();
// `isa` must be one the machine runs (cpu::isa_supported); `type` is resolved if Auto.
std::unique_ptr<Backend> make_cpu_backend(ComputeType type, cpu::Isa isa);

}  // namespace wisp::backend
