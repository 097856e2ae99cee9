// The reference backend: every verb as the plainest loops, in fp32 storage with double sums, straight from
// the definitions (a direct convolution, not im2col; a full softmax per row). The oracle the CPU backend's
// kernels and whole encoder/decoder passes are tested against. Slow by design; never used to transcribe.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "backend/backend.h"
#include "core/error.h"
#include "core/half.h"

namespace wisp::backend {
namespace {

// IEEE half → float, bit by bit (no hardware conversion).
float half_to_float(uint16_t h) {
  const int sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  double v;
  if (exp == 0)
    v = std::ldexp(mant, -24);
  else if (exp == 31)
    v = mant ? NAN : INFINITY;
  else
    v = std::ldexp(1024 + mant, exp - 25);
  return static_cast<float>(sign ? -v : v);
}

float stored_value(const WeightView& w, size_t i, int row) {
  switch (w.dtype) {
    case DType::F32:
      return static_cast<const float*>(w.data)[i];
    case DType::F16:
      return half_to_float(load_u16(w.data, i));
    case DType::BF16: {
      const uint32_t u = static_cast<uint32_t>(load_u16(w.data, i)) << 16;
      float f;
      std::memcpy(&f, &u, 4);
      return f;
    }
    case DType::I8:
      return static_cast<float>(static_cast<const int8_t*>(w.data)[i]) / w.row_scale[row];
    case DType::I32:
      break;
  }
  throw Error(ErrorKind::Model, "unsupported weight type");
}

class RefLinear final : public PackedLinear {
 public:
  std::vector<float> w, bias;  // (out, in), (out)
};

class RefKv final : public KvCache {
 public:
  std::vector<float> k, v;  // (capacity, dim)
};

float at(const TensorView& t, int r, int c) {
  return t.as<float>()[static_cast<int64_t>(r) * t.row_stride + static_cast<int64_t>(c) * t.col_stride];
}
float& at_mut(const TensorView& t, int r, int c) {
  return t.as<float>()[static_cast<int64_t>(r) * t.row_stride + static_cast<int64_t>(c) * t.col_stride];
}

double gelu(double v) { return 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))); }

void finish(const Epilogue& ep, double v, float& y) {
  if (ep.gelu) v = gelu(v);
  y = static_cast<float>(ep.accumulate ? y + v : v);
}

class RefBackend final : public Backend {
 public:
  std::string description() const override { return "reference float32"; }
  ComputeType compute_type() const override { return ComputeType::Float32; }

  std::unique_ptr<PackedLinear> pack_linear(const WeightView& w, const float* bias,
                                            LinearUse) const override {
    auto p = std::make_unique<RefLinear>();
    p->out = w.rows;
    p->in = w.cols;
    p->w.resize(static_cast<size_t>(w.rows) * w.cols);
    for (int r = 0; r < w.rows; ++r)
      for (int c = 0; c < w.cols; ++c) {
        const size_t i = static_cast<size_t>(r) * w.cols + c;
        p->w[i] = stored_value(w, i, r);
      }
    if (bias) p->bias.assign(bias, bias + w.rows);
    return p;
  }

  void linear(Exec&, const PackedLinear& packed, TensorView x, TensorView y, Epilogue ep) const override {
    const auto& w = static_cast<const RefLinear&>(packed);
    if (x.cols != w.in || y.cols != w.out || x.rows != y.rows)
      throw Error(ErrorKind::Internal, "linear shapes");
    for (int m = 0; m < x.rows; ++m)
      for (int n = 0; n < w.out; ++n) {
        double acc = w.bias.empty() ? 0.0 : w.bias[n];
        for (int k = 0; k < w.in; ++k)
          acc += static_cast<double>(at(x, m, k)) * w.w[static_cast<size_t>(n) * w.in + k];
        finish(ep, acc, at_mut(y, m, n));
      }
  }

  void conv1d_k3(Exec&, const PackedLinear& packed, TensorView x, int stride, TensorView y,
                 Epilogue ep) const override {
    const auto& w = static_cast<const RefLinear&>(packed);
    const int C = x.cols;
    for (int t = 0; t < y.rows; ++t)
      for (int o = 0; o < w.out; ++o) {
        double acc = w.bias.empty() ? 0.0 : w.bias[o];
        for (int c = 0; c < C; ++c)
          for (int k = 0; k < 3; ++k) {
            const int src = t * stride + k - 1;
            if (src >= 0 && src < x.rows)
              acc += static_cast<double>(w.w[static_cast<size_t>(o) * w.in + c * 3 + k]) * at(x, src, c);
          }
        finish(ep, acc, at_mut(y, t, o));
      }
  }

  void layer_norm(Exec&, TensorView x, const float* gamma, const float* beta, TensorView y) const override {
    for (int r = 0; r < x.rows; ++r) {
      double mean = 0, var = 0;
      for (int c = 0; c < x.cols; ++c) mean += at(x, r, c);
      mean /= x.cols;
      for (int c = 0; c < x.cols; ++c) var += (at(x, r, c) - mean) * (at(x, r, c) - mean);
      const double inv = 1.0 / std::sqrt(var / x.cols + 1e-5);
      for (int c = 0; c < x.cols; ++c)
        at_mut(y, r, c) = static_cast<float>((at(x, r, c) - mean) * inv * gamma[c] + beta[c]);
    }
  }

  void add(Exec&, TensorView x, TensorView y) const override {
    for (int r = 0; r < x.rows; ++r)
      for (int c = 0; c < x.cols; ++c) at_mut(y, r, c) += at(x, r, c);
  }

  void embed(Exec&, const WeightView& table, const int* ids, TensorView pos, TensorView y) const override {
    for (int r = 0; r < y.rows; ++r) {
      if (ids[r] < 0 || ids[r] >= table.rows) throw Error(ErrorKind::Internal, "token id out of range");
      for (int c = 0; c < y.cols; ++c)
        at_mut(y, r, c) =
            stored_value(table, static_cast<size_t>(ids[r]) * table.cols + c, ids[r]) + at(pos, r, c);
    }
  }

  std::unique_ptr<KvCache> make_kv_cache(int capacity, int dim, int n_head, KvUse) const override {
    auto kv = std::make_unique<RefKv>();
    kv->capacity = capacity;
    kv->dim = dim;
    kv->n_head = n_head;
    kv->k.assign(static_cast<size_t>(capacity) * dim, 0.0f);
    kv->v.assign(static_cast<size_t>(capacity) * dim, 0.0f);
    return kv;
  }

  void kv_write(Exec&, KvCache& cache, int position, TensorView k, TensorView v) const override {
    auto& kv = static_cast<RefKv&>(cache);
    if (position < 0 || position + k.rows > kv.capacity)
      throw Error(ErrorKind::Internal, "kv_write outside the cache");
    for (int t = 0; t < k.rows; ++t)
      for (int c = 0; c < kv.dim; ++c) {
        kv.k[static_cast<size_t>(position + t) * kv.dim + c] = at(k, t, c);
        kv.v[static_cast<size_t>(position + t) * kv.dim + c] = at(v, t, c);
      }
  }

  void kv_copy(Exec&, const KvCache& src, KvCache& dst, int length) const override {
    const auto& s = static_cast<const RefKv&>(src);
    auto& d = static_cast<RefKv&>(dst);
    std::copy_n(s.k.begin(), static_cast<size_t>(length) * s.dim, d.k.begin());
    std::copy_n(s.v.begin(), static_cast<size_t>(length) * s.dim, d.v.begin());
  }

  void attention(Exec& ex, const AttentionJob* jobs, int n_jobs, const AttentionShape& shape) const override {
    const int dh = shape.head_dim;
    const double scale = 1.0 / std::sqrt(static_cast<double>(dh));
    for (int j = 0; j < n_jobs; ++j)
      if (const KvWrite* w = jobs[j].append) {
        if (!append_fits(jobs[j]))
          throw Error(ErrorKind::Internal, "attention job appends to another cache or other rows");
        kv_write(ex, *w->kv, w->position, w->k, w->v);
      }
    for (int j = 0; j < n_jobs; ++j) {
      const AttentionJob& job = jobs[j];
      if (job.q.dtype != DType::F32)
        throw Error(ErrorKind::Internal, "reference attention takes float32 queries");
      const auto& kv = static_cast<const RefKv&>(*job.kv);
      std::vector<double> p(job.kv_len);
      for (int h = 0; h < shape.n_head; ++h)
        for (int i = 0; i < job.q.rows; ++i) {
          const int visible = shape.causal ? std::min(job.kv_len, job.q_offset + i + 1) : job.kv_len;
          double mx = -INFINITY;
          for (int t = 0; t < visible; ++t) {
            double s = 0;
            for (int d = 0; d < dh; ++d)
              s += static_cast<double>(at(job.q, i, h * dh + d)) *
                   kv.k[static_cast<size_t>(t) * kv.dim + h * dh + d];
            p[t] = s * scale;
            mx = std::max(mx, p[t]);
          }
          double sum = 0;
          for (int t = 0; t < visible; ++t) sum += (p[t] = std::exp(p[t] - mx));
          for (int t = 0; t < job.kv_len; ++t) p[t] = t < visible ? p[t] / sum : 0.0;
          if (job.sink && job.sink->heads[h])
            for (int t = 0; t < job.kv_len; ++t)
              job.sink->probs[h * job.sink->head_stride + i * job.sink->row_stride + t] =
                  static_cast<float>(p[t]);
          for (int d = 0; d < dh; ++d) {
            double o = 0;
            for (int t = 0; t < visible; ++t) o += p[t] * kv.v[static_cast<size_t>(t) * kv.dim + h * dh + d];
            at_mut(job.out, i, h * dh + d) = static_cast<float>(o);
          }
        }
    }
  }
};

}  // namespace

std::unique_ptr<Backend> make_reference_backend() { return std::make_unique<RefBackend>(); }

}  // namespace wisp::backend
