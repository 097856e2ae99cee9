// The CPU backend: weights packed for the compute type, kernels of the chosen ISA level, work spread over
// the context's threads.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "backend/cpu/attention.h"
#include "backend/cpu/conv_im2col.h"
#include "backend/cpu/elementwise.h"
#include "backend/cpu/gemm.h"
#include "backend/cpu/gemm_kernels.h"
#include "backend/cpu/linear_f16.h"
#include "backend/cpu/mlp.h"
#include "backend/cpu/threads.h"
#include "core/error.h"
#include "core/half.h"

namespace wisp::backend::cpu {
namespace {

constexpr int kFewRows = 16;  // up to this many rows, float32 streams fp16 weights instead of the GEMM

class CpuLinear final : public PackedLinear {
 public:
  ComputeType type = ComputeType::Float32;  // which of the forms below the products use
  PackedF32 f32;
  PackedI8 i8;
  PackedBf16 bf16;
  Buffer f16;  // float32 compute type, fp16 file, decoder use: the file's values for few-row products
  bool has_f16 = false;
  std::vector<float> bias;
};

// Row r of a stored weight, as floats.
void widen_row(const WeightView& w, int r, float* out) {
  const size_t off = static_cast<size_t>(r) * w.cols;
  switch (w.dtype) {
    case DType::F32:
      std::memcpy(out, static_cast<const float*>(w.data) + off, sizeof(float) * w.cols);
      return;
    case DType::F16:
      widen_f16(static_cast<const unsigned char*>(w.data) + 2 * off, out, static_cast<size_t>(w.cols));
      return;
    case DType::BF16:
      for (int c = 0; c < w.cols; ++c) out[c] = bf16_to_float(load_u16(w.data, off + c));
      return;
    case DType::I8: {
      const float inv = w.row_scale && w.row_scale[r] != 0.0f ? 1.0f / w.row_scale[r] : 0.0f;
      for (int c = 0; c < w.cols; ++c) out[c] = static_cast<const int8_t*>(w.data)[off + c] * inv;
      return;
    }
    case DType::I32:
      break;
  }
  throw Error(ErrorKind::Model, std::string("weights of type ") + dtype_name(w.dtype) + " cannot be used");
}

// Bias, GELU and accumulation after a product that wrote plain x · Wᵀ into tmp (which may be y itself).
void apply_epilogue(Exec& ex, TensorView y, const Epilogue& ep, float* tmp, int64_t ld_tmp) {
  parallel_for(y.rows * y.cols >= (1 << 15) ? ex.threads : 1, y.rows, [&](int r) {
    float* yr = y.as<float>() + r * y.row_stride;
    float* t = tmp + r * ld_tmp;
    const auto n = static_cast<size_t>(y.cols);
    if (ep.bias) add_inplace(t, ep.bias, n);
    if (ep.gelu) gelu_inplace(t, n);
    if (ep.accumulate)
      add_inplace(yr, t, n);
    else if (t != yr)
      std::memcpy(yr, t, sizeof(float) * n);
  });
}

class CpuBackend final : public Backend {
 public:
  CpuBackend(ComputeType type, Isa isa) : type_(resolve_compute_type(type, isa)), isa_(isa) {
    if (!isa_supported(isa))
      throw Error(ErrorKind::InvalidArgument,
                  std::string("this CPU cannot run ") + isa_name(isa) + " kernels");
  }

  std::string description() const override {
    return std::string("cpu ") + isa_name(isa_) + " " + compute_type_name(type_);
  }
  ComputeType compute_type() const override { return type_; }

  std::unique_ptr<PackedLinear> pack_linear(const WeightView& w, const float* bias,
                                            LinearUse use) const override {
    auto p = std::make_unique<CpuLinear>();
    p->out = w.rows;
    p->in = w.cols;
    if (bias) p->bias.assign(bias, bias + w.rows);
    const RowSource rows = [&w](int n, float* out) { widen_row(w, n, out); };
    p->type = type_;
    if (type_ == ComputeType::Int8 && use == LinearUse::ConvStem)
      p->type = native_bf16() ? ComputeType::Bfloat16 : ComputeType::Float32;
    switch (p->type) {
      case ComputeType::Int8:
        if (w.dtype == DType::I8 && w.row_scale)
          p->i8 = pack_i8_quantized(w.rows, w.cols, static_cast<const int8_t*>(w.data), w.row_scale);
        else
          p->i8 = pack_i8(w.rows, w.cols, rows, thread_budget());
        break;
      case ComputeType::Bfloat16:
        p->bf16 = pack_bf16(w.rows, w.cols, rows, thread_budget());
        break;
      case ComputeType::Float32:
      case ComputeType::Auto:
        p->f32 = pack_f32(w.rows, w.cols, rows, thread_budget());
        if (use == LinearUse::AnyRows && w.dtype == DType::F16) {
          p->f16.resize(sizeof(uint16_t) * w.rows * w.cols);
          std::memcpy(p->f16.data(), w.data, sizeof(uint16_t) * w.rows * w.cols);
          p->has_f16 = true;
        }
        break;
    }
    return p;
  }

  void linear(Exec& ex, const PackedLinear& packed, TensorView x, TensorView y, Epilogue ep) const override {
    run_linear(ex, static_cast<const CpuLinear&>(packed), x, y, ep, nullptr);
  }

  void norm_linear(Exec& ex, const PackedLinear& packed, TensorView x, const float* gamma, const float* beta,
                   TensorView scratch, TensorView y, Epilogue ep) const override {
    const auto& w = static_cast<const CpuLinear&>(packed);
    if (w.type != ComputeType::Int8 && w.type != ComputeType::Bfloat16) {  // fp32 multiplies x as it is
      Backend::norm_linear(ex, packed, x, gamma, beta, scratch, y, ep);
      return;
    }
    const RowNorm norm{gamma, beta};
    run_linear(ex, w, x, y, ep, &norm);
  }

  // Bands of kQkvBand rows, each on one thread from its layer norm and product to its cache writes: the keys
  // and values go to the cache from this core's L2 (written to the shared cache and read back by the other
  // core, the cache writes took ~5 % of the encoder), in one parallel region instead of two. Over a bf16
  // cache the queries leave in bf16 too, in `scratch`: the attention's tasks read half the bytes and convert
  // nothing (converting its rows from the shared cache took ~10 % of the attention).
  TensorView norm_linear_qkv(Exec& ex, const PackedLinear& packed, TensorView x, const float* gamma,
                             const float* beta, TensorView scratch, TensorView qkv,
                             KvCache& kv) const override {
    const auto& w = static_cast<const CpuLinear&>(packed);
    const int T = x.rows, D = x.cols, bands = (T + kQkvBand - 1) / kQkvBand;
    if ((w.type != ComputeType::Int8 && w.type != ComputeType::Bfloat16) || bands < 2)
      return Backend::norm_linear_qkv(ex, packed, x, gamma, beta, scratch, qkv, kv);
    if (qkv.rows != T || qkv.cols != 3 * D || !qkv.contiguous_rows())
      throw Error(ErrorKind::Internal, "norm_linear_qkv: shapes do not match");
    auto& cache = static_cast<CpuKvCache&>(kv);
    // bf16 queries: T rows of D in the scratch's room (x's shape in fp32: twice what they need)
    const bool bf16_q = cache.bf16() && scratch.dtype == DType::F32 && scratch.rows >= T &&
                        scratch.cols >= D && scratch.contiguous_rows() && scratch.row_stride == scratch.cols;
    TensorView q = qkv.cols_range(0, D);
    if (bf16_q) {
      q.data = scratch.data;
      q.dtype = DType::BF16;
      q.row_stride = D;
    }
    const RowNorm norm{gamma, beta};
    parallel_for_rethrowing(ex.threads, bands, [&](int b) {
      thread_local Workspace ws;  // this thread's: its band's operand
      Exec one{1, &ws};
      const int r0 = b * kQkvBand, r1 = std::min(T, r0 + kQkvBand);
      const TensorView rows = qkv.rows_range(r0, r1);
      run_linear(one, w, x.rows_range(r0, r1), rows, {}, &norm);
      cpu::kv_write(one, cache, r0, rows.cols_range(D, 2 * D), rows.cols_range(2 * D, 3 * D));
      if (bf16_q)  // a bf16 cache means AVX-512 BF16 (make_kv_cache), as the attention's conversion assumes
        convert_rows_bf16_avx512(rows.as<float>(), r1 - r0, D, static_cast<int>(rows.row_stride),
                                 q.as<uint16_t>() + static_cast<size_t>(r0) * D, D);
    });
    return q;
  }

  void mlp(Exec& ex, const PackedLinear& fc1, const PackedLinear& fc2, TensorView x, const float* gamma,
           const float* beta, TensorView scratch) const override {
    const auto& w1 = static_cast<const CpuLinear&>(fc1);
    const auto& w2 = static_cast<const CpuLinear&>(fc2);
    if (w1.type == ComputeType::Int8 && w2.type == ComputeType::Int8 && x.contiguous_rows() &&
        x.cols == w1.in && w2.in == w1.out && w2.out == x.cols &&
        mlp_i8_fuses(isa_, x.rows, w1.i8.view(), w2.i8.view())) {
      mlp_i8(ex, isa_, x.as<float>(), x.rows, static_cast<int>(x.row_stride), RowNorm{gamma, beta},
             w1.i8.view(), w1.bias.empty() ? nullptr : w1.bias.data(), w2.i8.view(),
             w2.bias.empty() ? nullptr : w2.bias.data());
      return;
    }
    Backend::mlp(ex, fc1, fc2, x, gamma, beta, scratch);
  }

  void conv1d_k3(Exec& ex, const PackedLinear& w, TensorView x, int stride, TensorView y,
                 Epilogue ep) const override {
    const int T_in = x.rows, C = x.cols, T_out = (T_in + stride - 1) / stride;
    if (w.in != 3 * C || y.rows != T_out || y.cols != w.out)
      throw Error(ErrorKind::Internal, "conv1d_k3: shapes do not match");
    // The im2col rows (conv_im2col.h) times the weight as a Linear.
    const Im2colK3 src{
        .x = x.as<float>(), .T_in = T_in, .C = C, .stride = stride, .ldx = x.row_stride, .ldc = x.col_stride};
    const bool avx512 = static_cast<int>(isa_) >= static_cast<int>(Isa::Avx512);
    auto row = [&](int t, float* out) { (avx512 ? im2col_k3_row_avx512 : im2col_k3_row)(src, t, out); };
    const auto& cw = static_cast<const CpuLinear&>(w);
    if (cw.type == ComputeType::Bfloat16 &&
        y.contiguous_rows()) {  // rows made on the way to the bf16 operand
      if (!cw.bias.empty()) ep.bias = cw.bias.data();
      gemm_bf16_rows(ex, isa_, T_out, row, cw.bf16.view(), ep, y.as<float>(), static_cast<int>(y.row_stride));
      return;
    }
    float* cols = ex.ws->get<float>(Workspace::kConv, static_cast<size_t>(T_out) * C * 3);
    parallel_for(ex.threads, (T_out + 63) / 64, [&](int blk) {
      for (int t = blk * 64; t < std::min(T_out, blk * 64 + 64); ++t)
        row(t, cols + static_cast<size_t>(t) * C * 3);
    });
    linear(ex, w, f32_view(cols, T_out, 3 * C), y, ep);
  }

  void layer_norm(Exec& ex, TensorView x, const float* gamma, const float* beta,
                  TensorView y) const override {
    const auto norm_row =
        static_cast<int>(isa_) >= static_cast<int>(Isa::Avx512) ? layer_norm_row_avx512 : layer_norm_row;
    parallel_for(x.rows >= 32 ? ex.threads : 1, (x.rows + 15) / 16, [&](int b) {
      for (int r = b * 16; r < std::min(x.rows, b * 16 + 16); ++r)
        norm_row(x.as<float>() + r * x.row_stride, x.cols, gamma, beta, y.as<float>() + r * y.row_stride);
    });
  }

  void add(Exec& ex, TensorView x, TensorView y) const override {
    parallel_for(x.rows >= 64 ? ex.threads : 1, (x.rows + 31) / 32, [&](int b) {
      for (int r = b * 32; r < std::min(x.rows, b * 32 + 32); ++r)
        add_inplace(y.as<float>() + r * y.row_stride, x.as<float>() + r * x.row_stride,
                    static_cast<size_t>(x.cols));
    });
  }

  void embed(Exec& ex, const WeightView& table, const int* ids, TensorView pos, TensorView y) const override {
    for (int r = 0; r < y.rows; ++r) {
      if (ids[r] < 0 || ids[r] >= table.rows) throw Error(ErrorKind::Internal, "token id out of range");
      float* yr = y.as<float>() + r * y.row_stride;
      widen_row(table, ids[r], yr);
      add_inplace(yr, pos.as<float>() + r * pos.row_stride, static_cast<size_t>(y.cols));
    }
    (void)ex;
  }

  std::unique_ptr<KvCache> make_kv_cache(int capacity, int dim, int n_head, KvUse use) const override {
    // The batched mode's cross-attention in int4 where the products are int8 anyway and the CPU multiplies
    // bytes (AVX-512 VNNI, AMX): a decoder step reads every window's keys and values, a quarter of the bytes
    // of bf16 (attention_kernels.h). WISP_CROSS_KV_BITS=8 keeps them in int8 (twice the bytes; for
    // comparisons).
    if (use == KvUse::CrossAttentionBatched && type_ == ComputeType::Int8 &&
        static_cast<int>(isa_) >= static_cast<int>(Isa::Avx512Vnni) && dim == 64 * n_head) {
      return std::make_unique<CpuKvCache>(capacity, dim, n_head,
                                          cross_kv_int8_ ? KvFormat::I8 : KvFormat::I4);
    }
    return std::make_unique<CpuKvCache>(capacity, dim, n_head,
                                        attention_bf16() ? KvFormat::Bf16 : KvFormat::F32);
  }
  // A band of rows per task, each on one thread from its products to its cache writes (a window's 8 bands of
  // 192 rows): one parallel region per window instead of two or three per band and layer.
  void cross_kv(Exec& ex, const PackedLinear* const* w, KvCache* const* caches, int n_layers,
                TensorView audio) const override {
    const int T = audio.rows, D = audio.cols, bands = (T + kCrossKvBand - 1) / kCrossKvBand;
    if (ex.threads <= 1 || bands < 2) return Backend::cross_kv(ex, w, caches, n_layers, audio);
    parallel_for_rethrowing(ex.threads, bands, [&](int b) {
      thread_local Workspace ws;  // this thread's: its band's operands and products
      Exec one{1, &ws};
      const int r0 = b * kCrossKvBand, r1 = std::min(T, r0 + kCrossKvBand);
      const TensorView kv =
          f32_view(ws.get<float>(Workspace::kCrossKv, static_cast<size_t>(r1 - r0) * 2 * D), r1 - r0, 2 * D);
      for (int l = 0; l < n_layers; ++l) {
        linear(one, *w[l], audio.rows_range(r0, r1), kv, {});
        kv_write(one, *caches[l], r0, kv.cols_range(0, D), kv.cols_range(D, 2 * D));
      }
    });
  }
  void kv_write(Exec& ex, KvCache& kv, int position, TensorView k, TensorView v) const override {
    cpu::kv_write(ex, static_cast<CpuKvCache&>(kv), position, k, v);
  }
  void kv_copy(Exec&, const KvCache& src, KvCache& dst, int length) const override {
    cpu::kv_copy(static_cast<const CpuKvCache&>(src), static_cast<CpuKvCache&>(dst), length);
  }
  void attention(Exec& ex, const AttentionJob* jobs, int n_jobs, const AttentionShape& shape) const override {
    cpu::attention(ex, isa_, jobs, n_jobs, shape);
  }

 private:
  // y = x · Wᵀ with the epilogue; with `norm` (int8 and bf16 weights only), each row of x layer-normalised
  // on its way into the quantized / converted operand.
  void run_linear(Exec& ex, const CpuLinear& w, TensorView x, TensorView y, Epilogue ep,
                  const RowNorm* norm) const {
    if (x.cols != w.in || y.cols != w.out || x.rows != y.rows || !x.contiguous_rows() || !y.contiguous_rows())
      throw Error(ErrorKind::Internal, "linear: operand shapes do not match the weights");
    if (!w.bias.empty()) ep.bias = w.bias.data();
    const int M = x.rows, ldx = static_cast<int>(x.row_stride), ldy = static_cast<int>(y.row_stride);
    const float* xp = x.as<float>();
    float* yp = y.as<float>();
    switch (w.type) {
      case ComputeType::Int8:
        gemm_i8(ex, isa_, xp, M, ldx, w.i8.view(), ep, yp, ldy, norm);
        return;
      case ComputeType::Bfloat16:
        gemm_bf16(ex, isa_, xp, M, ldx, w.bf16.view(), ep, yp, ldy, norm);
        return;
      case ComputeType::Float32:
      case ComputeType::Auto:
        break;  // below, x as it is: norm_linear normalises into its scratch before an fp32 product
    }
    if (!(w.has_f16 && M <= kFewRows)) {
      gemm_f32(ex, isa_, xp, M, ldx, w.f32.view(), ep, yp, ldy);
      return;
    }
    // Few rows: stream the fp16 weights (products identical to fp32 ones), then the epilogue.
    const bool direct = !ep.accumulate && ldx == w.in;
    float* tmp = direct ? yp : ex.ws->get<float>(Workspace::kConv, static_cast<size_t>(M) * w.out);
    const int64_t ld_tmp = direct ? ldy : w.out;
    std::vector<float> packed_x;
    const float* xs = xp;
    if (ldx != w.in) {  // the streaming kernel wants dense rows
      packed_x.resize(static_cast<size_t>(M) * w.in);
      for (int r = 0; r < M; ++r)
        std::memcpy(&packed_x[static_cast<size_t>(r) * w.in], xp + static_cast<size_t>(r) * ldx,
                    sizeof(float) * w.in);
      xs = packed_x.data();
    }
    const bool avx512 = static_cast<int>(isa_) >= static_cast<int>(Isa::Avx512);
    constexpr int kCols = 256;
    const int blocks = (w.out + kCols - 1) / kCols;
    parallel_for(static_cast<int64_t>(w.out) * w.in > (1 << 15) ? ex.threads : 1, blocks, [&](int b) {
      const int n0 = b * kCols, n1 = std::min(w.out, n0 + kCols);
      if (avx512)
        linear_f16_cols_avx512(xs, M, w.in, w.f16.as<uint16_t>(), n0, n1, tmp, static_cast<int>(ld_tmp));
      else
        linear_f16_cols_avx2(xs, M, w.in, w.f16.as<uint16_t>(), n0, n1, tmp, static_cast<int>(ld_tmp));
    });
    apply_epilogue(ex, y, ep, tmp, ld_tmp);
  }
  bool native_bf16() const { return static_cast<int>(isa_) >= static_cast<int>(Isa::Avx512Bf16); }
  // Attention in bf16 where the CPU multiplies bf16 natively (and the model is not running in float32).
  bool attention_bf16() const { return type_ != ComputeType::Float32 && native_bf16(); }

  // Rows per task of norm_linear_qkv: a multiple of 32 (whole key blocks of every cache layout), and a band's
  // products (small: 96 × 2304 floats, 0.9 MB) stay in a 2 MB L2 beside the weights.
  static constexpr int kQkvBand = 96;

  ComputeType type_;
  Isa isa_;
  // The batched mode's cross-attention caches in int8 instead of int4 (WISP_CROSS_KV_BITS=8, read once).
  bool cross_kv_int8_ = [] {
    const char* bits = std::getenv("WISP_CROSS_KV_BITS");
    return bits && std::string(bits) == "8";
  }();
};

}  // namespace
}  // namespace wisp::backend::cpu

namespace wisp::backend {

std::unique_ptr<Backend> make_cpu_backend(ComputeType type, cpu::Isa isa) {
  return std::make_unique<cpu::CpuBackend>(type, isa);
}

}  // namespace wisp::backend
