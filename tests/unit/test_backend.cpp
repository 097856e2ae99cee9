// The CPU backend — every ISA level this machine runs × every compute type — against the reference backend,
// verb by verb, over awkward shapes: one row, tails, strided (channel-major) input, causal attention with an
// offset, several jobs at once, a probability sink, cache copies.
#include <gtest/gtest.h>
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "backend/backend.h"
#include "backend/cpu/attention.h"
#include "backend/cpu/conv_im2col.h"
#include "backend/cpu/gemm.h"
#include "backend/cpu/isa.h"
#include "core/error.h"

namespace wisp::backend {
namespace {

std::vector<float> random_vec(size_t n, std::mt19937& rng, float scale = 1.0f) {
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// max |a − b| / (max |b| + 1)
double rel_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double m = 0, d = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    m = std::max(m, std::fabs(static_cast<double>(b[i])));
    d = std::max(d, std::fabs(static_cast<double>(a[i]) - b[i]));
  }
  return d / (m + 1.0);
}

// The rows x (n rows of kv.dim) as a cache of kv's format holds them: int8 and int4 caches keep each head's
// 64 values of a position as integers |q| ≤ 127 or 7 times max |x| / that. The reference attends over exactly
// those values, so that a comparison tests the kernels, not the cache's rounding (4-bit: several per cent).
std::vector<float> held(const KvCache& kv, const std::vector<float>& x, int n) {
  const auto& c = static_cast<const cpu::CpuKvCache&>(kv);
  if (!c.quantized()) return x;
  const float levels = c.format == cpu::KvFormat::I4 ? 7.0f : 127.0f;
  std::vector<float> y(x);
  for (int r = 0; r < n; ++r)
    for (int h = 0; h < c.n_head; ++h) {
      float* p = y.data() + static_cast<size_t>(r) * c.dim + h * c.head_dim;
      float amax = 0.0f;
      for (int d = 0; d < c.head_dim; ++d) amax = std::max(amax, std::fabs(p[d]));
      const float inv = amax > 0.0f ? levels / amax : 0.0f, scale = amax / levels;
      for (int d = 0; d < c.head_dim; ++d) p[d] = std::nearbyint(p[d] * inv) * scale;
    }
  return y;
}

double tolerance(ComputeType t) {
  switch (t) {
    case ComputeType::Int8:
      return 4e-2;
    case ComputeType::Bfloat16:
      return 2e-2;
    default:
      return 2e-5;
  }
}

using Param = std::tuple<cpu::Isa, ComputeType>;

std::vector<Param> params() {
  std::vector<Param> out;
  for (int i = 0; i < cpu::kIsaCount; ++i)
    if (cpu::isa_supported(static_cast<cpu::Isa>(i)))
      for (ComputeType t : {ComputeType::Float32, ComputeType::Bfloat16, ComputeType::Int8})
        out.emplace_back(static_cast<cpu::Isa>(i), t);
  return out;
}

class BackendVsReference : public ::testing::TestWithParam<Param> {
 protected:
  void SetUp() override {
    cpu_ = make_cpu_backend(std::get<1>(GetParam()), std::get<0>(GetParam()));
    ref_ = make_reference_backend();
    ex_.threads = 2;
    ex_.ws = &ws_;
    ref_ex_.ws = &ref_ws_;
  }
  double tol() const { return tolerance(std::get<1>(GetParam())); }
  std::unique_ptr<Backend> cpu_, ref_;
  Workspace ws_, ref_ws_;
  Exec ex_, ref_ex_;
};

TEST_P(BackendVsReference, LinearFromEveryStoredType) {
  std::mt19937 rng(21);
  for (int M : {1, 3, 16, 17, 70})
    for (auto [K, N] : {std::pair{64, 48}, std::pair{65, 33}, std::pair{384, 200}}) {
      const auto W = random_vec(static_cast<size_t>(N) * K, rng, 0.1f);
      const auto bias = random_vec(N, rng);
      std::vector<uint16_t> W16(W.size());
      for (size_t i = 0; i < W.size(); ++i) W16[i] = _cvtss_sh(W[i], 0);
      std::vector<int8_t> Q(W.size());
      std::vector<float> qscale(N);
      for (int n = 0; n < N; ++n) {
        qscale[n] = 127.0f / 0.4f;
        for (int k = 0; k < K; ++k)
          Q[n * K + k] = static_cast<int8_t>(std::clamp(std::lrint(W[n * K + k] * qscale[n]), -127L, 127L));
      }
      const WeightView views[] = {{DType::F32, W.data(), N, K, nullptr},
                                  {DType::F16, W16.data(), N, K, nullptr},
                                  {DType::I8, Q.data(), N, K, qscale.data()}};
      for (const WeightView& wv : views)
        for (LinearUse use : {LinearUse::ManyRows, LinearUse::AnyRows})
          for (int variant = 0; variant < 3; ++variant) {
            auto pc = cpu_->pack_linear(wv, bias.data(), use);
            auto pr = ref_->pack_linear(wv, bias.data(), use);
            const auto x = random_vec(static_cast<size_t>(M) * K, rng);
            auto y = random_vec(static_cast<size_t>(M) * N, rng), y_ref = y;
            Epilogue ep;
            ep.gelu = variant == 1;
            ep.accumulate = variant == 2;
            cpu_->linear(ex_, *pc, f32_view(x.data(), M, K), f32_view(y.data(), M, N), ep);
            ref_->linear(ref_ex_, *pr, f32_view(x.data(), M, K), f32_view(y_ref.data(), M, N), ep);
            ASSERT_LT(rel_diff(y, y_ref), tol())
                << cpu_->description() << " stored " << dtype_name(wv.dtype) << " M=" << M << " K=" << K
                << " N=" << N << " variant " << variant;
          }
    }
}

// LayerNorm then a Linear in one call (the CPU backend normalises the rows as it quantizes or converts them)
// gives what the two calls give, to the bit; and the result still matches the reference's.
TEST_P(BackendVsReference, NormLinearEqualsLayerNormThenLinear) {
  std::mt19937 rng(27);
  for (int M : {1, 2, 5, 70, 130})
    for (auto [K, N] : {std::pair{64, 48}, std::pair{100, 33}, std::pair{384, 200}}) {
      const auto W = random_vec(static_cast<size_t>(N) * K, rng, 0.1f);
      const auto bias = random_vec(N, rng), gamma = random_vec(K, rng), beta = random_vec(K, rng);
      const WeightView wv{DType::F32, W.data(), N, K, nullptr};
      for (LinearUse use : {LinearUse::ManyRows, LinearUse::AnyRows}) {
        auto pc = cpu_->pack_linear(wv, bias.data(), use);
        auto pr = ref_->pack_linear(wv, bias.data(), use);
        const auto x = random_vec(static_cast<size_t>(M) * (K + 3), rng, 3.0f);  // rows with a stride
        TensorView xv = f32_view(x.data(), M, K);
        xv.row_stride = K + 3;
        std::vector<float> h(static_cast<size_t>(M) * K), y(static_cast<size_t>(M) * N), y2(y.size()),
            y_ref(y.size());
        Epilogue ep;
        ep.gelu = true;
        cpu_->norm_linear(ex_, *pc, xv, gamma.data(), beta.data(), f32_view(h.data(), M, K),
                          f32_view(y.data(), M, N), ep);
        cpu_->layer_norm(ex_, xv, gamma.data(), beta.data(), f32_view(h.data(), M, K));
        cpu_->linear(ex_, *pc, f32_view(h.data(), M, K), f32_view(y2.data(), M, N), ep);
        ASSERT_EQ(std::memcmp(y.data(), y2.data(), sizeof(float) * y.size()), 0)
            << cpu_->description() << " M=" << M << " K=" << K << " N=" << N;
        ref_->norm_linear(ref_ex_, *pr, xv, gamma.data(), beta.data(), f32_view(h.data(), M, K),
                          f32_view(y_ref.data(), M, N), ep);
        ASSERT_LT(rel_diff(y, y_ref), tol()) << cpu_->description() << " M=" << M << " K=" << K;
      }
    }
}

// A self-attention's inputs in one call (the CPU backend runs bands of rows from the layer norm to the cache
// writes, and over a bf16 cache hands the queries over in bf16) give norm_linear then kv_write's cache bytes,
// and queries that attend to the bit as theirs do: rows below, at and past whole bands, a ragged last band
// and last query block, head widths on and off the 64 grid.
TEST_P(BackendVsReference, NormLinearQkvEqualsNormLinearThenKvWrite) {
  std::mt19937 rng(28);
  for (int dh : {64, 40}) {
    const int H = 2, D = H * dh;
    const auto W = random_vec(static_cast<size_t>(3) * D * D, rng, 0.1f);
    const auto bias = random_vec(3 * D, rng), gamma = random_vec(D, rng), beta = random_vec(D, rng);
    auto packed =
        cpu_->pack_linear({DType::F32, W.data(), 3 * D, D, nullptr}, bias.data(), LinearUse::ManyRows);
    const AttentionShape shape{H, dh, false};
    for (int T : {1, 95, 96, 97, 250, 1500}) {
      const auto x = random_vec(static_cast<size_t>(T) * (D + 3), rng, 3.0f);  // rows with a stride
      TensorView xv = f32_view(x.data(), T, D);
      xv.row_stride = D + 3;
      std::vector<float> h(static_cast<size_t>(T) * D), h2(h.size()), qkv(static_cast<size_t>(T) * 3 * D),
          qkv2(qkv.size());
      auto fused = cpu_->make_kv_cache(T, D, H, KvUse::SelfAttention);
      auto apart = cpu_->make_kv_cache(T, D, H, KvUse::SelfAttention);
      const TensorView q =
          cpu_->norm_linear_qkv(ex_, *packed, xv, gamma.data(), beta.data(), f32_view(h.data(), T, D),
                                f32_view(qkv.data(), T, 3 * D), *fused);
      const TensorView all = f32_view(qkv2.data(), T, 3 * D);
      cpu_->norm_linear(ex_, *packed, xv, gamma.data(), beta.data(), f32_view(h2.data(), T, D), all, {});
      cpu_->kv_write(ex_, *apart, 0, all.cols_range(D, 2 * D), all.cols_range(2 * D, 3 * D));
      const auto& a = static_cast<const cpu::CpuKvCache&>(*fused).storage;
      const auto& b = static_cast<const cpu::CpuKvCache&>(*apart).storage;
      ASSERT_EQ(a.size(), b.size());
      ASSERT_EQ(std::memcmp(a.data(), b.data(), a.size()), 0)
          << cpu_->description() << " T=" << T << " head_dim " << dh;
      ASSERT_EQ(q.rows, T);
      ASSERT_EQ(q.cols, D);
      if (q.dtype == DType::F32)
        for (int t = 0; t < T; ++t)
          ASSERT_EQ(std::memcmp(q.as<float>() + t * q.row_stride, &qkv2[static_cast<size_t>(t) * 3 * D],
                                sizeof(float) * D),
                    0)
              << cpu_->description() << " q of row " << t << ", T=" << T << " head_dim " << dh;
      else
        ASSERT_EQ(q.dtype, DType::BF16) << cpu_->description();
      std::vector<float> out(static_cast<size_t>(T) * D), out2(out.size());
      const AttentionJob job{q, fused.get(), T, 0, f32_view(out.data(), T, D), nullptr, nullptr};
      const AttentionJob job2{all.cols_range(0, D),        apart.get(), T,      0,
                              f32_view(out2.data(), T, D), nullptr,     nullptr};
      cpu_->attention(ex_, &job, 1, shape);
      cpu_->attention(ex_, &job2, 1, shape);
      ASSERT_EQ(std::memcmp(out.data(), out2.data(), sizeof(float) * out.size()), 0)
          << cpu_->description() << " attention, T=" << T << " head_dim " << dh;
    }
  }
}

// A Transformer MLP with its residual in one call (the CPU backend fuses it in bands of rows with int8 on
// AMX) gives what norm_linear then linear give, to the bit; and the result still matches the reference's. Row
// counts below and past the fused pass's threshold (128) and a ragged last band; widths off the 64 grid.
TEST_P(BackendVsReference, MlpEqualsNormLinearThenLinear) {
  std::mt19937 rng(29);
  for (auto [M, D] : {std::pair{1, 64}, std::pair{5, 100}, std::pair{127, 64}, std::pair{128, 100},
                      std::pair{161, 384}, std::pair{300, 64}}) {
    const int F = 4 * D;
    const auto W1 = random_vec(static_cast<size_t>(F) * D, rng, 0.1f);
    const auto W2 = random_vec(static_cast<size_t>(D) * F, rng, 0.05f);
    const auto b1 = random_vec(F, rng), b2 = random_vec(D, rng);
    const auto gamma = random_vec(D, rng), beta = random_vec(D, rng);
    const WeightView w1{DType::F32, W1.data(), F, D, nullptr}, w2{DType::F32, W2.data(), D, F, nullptr};
    auto c1 = cpu_->pack_linear(w1, b1.data(), LinearUse::ManyRows);
    auto c2 = cpu_->pack_linear(w2, b2.data(), LinearUse::ManyRows);
    auto r1 = ref_->pack_linear(w1, b1.data(), LinearUse::ManyRows);
    auto r2 = ref_->pack_linear(w2, b2.data(), LinearUse::ManyRows);
    const int ld = D + 3;  // rows with a stride
    const auto x0 = random_vec(static_cast<size_t>(M) * ld, rng, 3.0f);
    auto x = x0, x2 = x0, x_ref = x0;
    auto view = [&](std::vector<float>& v) {
      TensorView t = f32_view(v.data(), M, D);
      t.row_stride = ld;
      return t;
    };
    std::vector<float> h(static_cast<size_t>(M) * D), hidden(static_cast<size_t>(M) * F);
    cpu_->mlp(ex_, *c1, *c2, view(x), gamma.data(), beta.data(), f32_view(h.data(), M, D));
    Epilogue gelu, residual;
    gelu.gelu = true;
    residual.accumulate = true;
    cpu_->norm_linear(ex_, *c1, view(x2), gamma.data(), beta.data(), f32_view(h.data(), M, D),
                      f32_view(hidden.data(), M, F), gelu);
    cpu_->linear(ex_, *c2, f32_view(hidden.data(), M, F), view(x2), residual);
    ASSERT_EQ(std::memcmp(x.data(), x2.data(), sizeof(float) * x.size()), 0)
        << cpu_->description() << " M=" << M << " D=" << D;
    ref_->mlp(ref_ex_, *r1, *r2, view(x_ref), gamma.data(), beta.data(), f32_view(h.data(), M, D));
    ASSERT_LT(rel_diff(x, x_ref), tol()) << cpu_->description() << " M=" << M << " D=" << D;
  }
}

// The conv stem against the reference, on channel-major input (a mel) and on position-major input (conv1's
// output), packed as the encoder packs it (ConvStem: bf16 where the CPU has it, its operand rows made on the
// way) and as any Linear; the ConvStem form gives what its Linear on the im2col rows gives, to the bit.
TEST_P(BackendVsReference, ConvStem) {
  std::mt19937 rng(22);
  for (bool channel_major : {true, false})
    for (LinearUse use : {LinearUse::ManyRows, LinearUse::ConvStem})
      for (int stride : {1, 2})
        for (auto [T, C, O] : {std::tuple{7, 5, 16}, std::tuple{100, 80, 64}, std::tuple{61, 24, 40},
                               std::tuple{33, 32, 48}, std::tuple{40, 384, 32}}) {
          const auto W = random_vec(static_cast<size_t>(O) * C * 3, rng, 0.2f);
          const auto bias = random_vec(O, rng);
          const auto in = random_vec(static_cast<size_t>(C) * T, rng);
          TensorView x = f32_view(in.data(), T, C);  // (T, C), or (C, T) read as (T, C): a mel
          if (channel_major) {
            x.row_stride = 1;
            x.col_stride = T;
          }
          const int T_out = (T + stride - 1) / stride;
          std::vector<float> y(static_cast<size_t>(T_out) * O), y_ref(y.size());
          const WeightView wv{DType::F32, W.data(), O, C * 3, nullptr};
          Epilogue ep;
          ep.gelu = true;
          const auto packed = cpu_->pack_linear(wv, bias.data(), use);
          cpu_->conv1d_k3(ex_, *packed, x, stride, f32_view(y.data(), T_out, O), ep);
          ref_->conv1d_k3(ref_ex_, *ref_->pack_linear(wv, bias.data(), use), x, stride,
                          f32_view(y_ref.data(), T_out, O), ep);
          const std::string where = "T=" + std::to_string(T) + " C=" + std::to_string(C) + " stride " +
                                    std::to_string(stride) + (channel_major ? " channel-major" : "") +
                                    (use == LinearUse::ConvStem ? " ConvStem" : "");
          ASSERT_LT(rel_diff(y, y_ref), tol()) << where;
          const cpu::Im2colK3 src{
              .x = in.data(), .T_in = T, .C = C, .stride = stride, .ldx = x.row_stride, .ldc = x.col_stride};
          std::vector<float> cols(static_cast<size_t>(T_out) * C * 3), y_cols(y.size());
          for (int t = 0; t < T_out; ++t) cpu::im2col_k3_row(src, t, &cols[static_cast<size_t>(t) * C * 3]);
          cpu_->linear(ex_, *packed, f32_view(cols.data(), T_out, 3 * C), f32_view(y_cols.data(), T_out, O),
                       ep);
          ASSERT_EQ(std::memcmp(y.data(), y_cols.data(), sizeof(float) * y.size()), 0) << where;
        }
}

TEST_P(BackendVsReference, LayerNormAddEmbed) {
  std::mt19937 rng(23);
  for (auto [M, N] : {std::pair{1, 7}, std::pair{33, 384}, std::pair{70, 100}}) {
    const auto x = random_vec(static_cast<size_t>(M) * N, rng, 3.0f), g = random_vec(N, rng),
               b = random_vec(N, rng);
    std::vector<float> y(x.size()), y_ref(x.size());
    cpu_->layer_norm(ex_, f32_view(x.data(), M, N), g.data(), b.data(), f32_view(y.data(), M, N));
    ref_->layer_norm(ref_ex_, f32_view(x.data(), M, N), g.data(), b.data(), f32_view(y_ref.data(), M, N));
    ASSERT_LT(rel_diff(y, y_ref), 2e-5) << "layer_norm";
    cpu_->add(ex_, f32_view(x.data(), M, N), f32_view(y.data(), M, N));
    ref_->add(ref_ex_, f32_view(x.data(), M, N), f32_view(y_ref.data(), M, N));
    ASSERT_LT(rel_diff(y, y_ref), 2e-5) << "add";
  }
  const int V = 50, D = 24;
  const auto table = random_vec(static_cast<size_t>(V) * D, rng);
  std::vector<uint16_t> t16(table.size());
  for (size_t i = 0; i < table.size(); ++i) t16[i] = _cvtss_sh(table[i], 0);
  const auto pos = random_vec(4 * D, rng);
  const int ids[4] = {0, 49, 7, 7};
  std::vector<float> y(4 * D), y_ref(4 * D);
  const WeightView tv{DType::F16, t16.data(), V, D, nullptr};
  cpu_->embed(ex_, tv, ids, f32_view(pos.data(), 4, D), f32_view(y.data(), 4, D));
  ref_->embed(ref_ex_, tv, ids, f32_view(pos.data(), 4, D), f32_view(y_ref.data(), 4, D));
  EXPECT_LT(rel_diff(y, y_ref), 1e-6) << "embed";
}

TEST_P(BackendVsReference, AttentionJobsCausalOffsetsSinkAndCopies) {
  std::mt19937 rng(24);
  const int H = 3, dh = 64, D = H * dh, cap = 100;
  struct Case {
    int q_rows, kv_len, q_offset;
    bool causal;
  };
  for (KvUse use : {KvUse::SelfAttention, KvUse::CrossAttentionBatched})
    for (Case c : {Case{1, 1, 0, true}, Case{5, 37, 32, true}, Case{70, 70, 0, true}, Case{3, 100, 0, false},
                   Case{65, 17, 0, false}}) {
      std::vector<std::unique_ptr<KvCache>> kc, kr;
      std::vector<std::vector<float>> qs, outs, outs_ref, probs, probs_ref;
      std::vector<AttentionJob> jc, jr;
      const uint8_t heads[H] = {1, 0, 1};
      std::vector<ProbabilitySink> sinks(4), sinks_ref(4);
      for (int j = 0; j < 2; ++j) {  // two jobs, each with its own cache
        kc.push_back(cpu_->make_kv_cache(cap, D, H, use));
        kr.push_back(ref_->make_kv_cache(cap, D, H, use));
        // Written in two parts (as a prompt then steps are), then copied to a fresh cache and used from
        // there.
        const auto k = random_vec(static_cast<size_t>(c.kv_len) * D, rng),
                   v = random_vec(static_cast<size_t>(c.kv_len) * D, rng);
        const int first = c.kv_len / 2;
        const auto kh = held(*kc.back(), k, c.kv_len), vh = held(*kc.back(), v, c.kv_len);
        for (auto [b, kv] :
             {std::pair{cpu_.get(), kc.back().get()}, std::pair{ref_.get(), kr.back().get()}}) {
          Exec& e = b == cpu_.get() ? ex_ : ref_ex_;
          const float* kk = b == cpu_.get() ? k.data() : kh.data();
          const float* vv = b == cpu_.get() ? v.data() : vh.data();
          if (first > 0) b->kv_write(e, *kv, 0, f32_view(kk, first, D), f32_view(vv, first, D));
          b->kv_write(e, *kv, first, f32_view(kk + first * D, c.kv_len - first, D),
                      f32_view(vv + first * D, c.kv_len - first, D));
        }
        auto copy_c = cpu_->make_kv_cache(cap, D, H, use);
        cpu_->kv_copy(ex_, *kc.back(), *copy_c, c.kv_len);
        kc.back() = std::move(copy_c);
        qs.push_back(random_vec(static_cast<size_t>(c.q_rows) * D, rng, 2.0f));
        outs.emplace_back(static_cast<size_t>(c.q_rows) * D);
        outs_ref.emplace_back(static_cast<size_t>(c.q_rows) * D);
        probs.emplace_back(static_cast<size_t>(H) * c.q_rows * c.kv_len, -1.0f);
        probs_ref.emplace_back(static_cast<size_t>(H) * c.q_rows * c.kv_len, -1.0f);
      }
      for (int j = 0; j < 2; ++j) {
        sinks[j] = {heads, probs[j].data(), static_cast<int64_t>(c.q_rows) * c.kv_len, c.kv_len};
        sinks_ref[j] = {heads, probs_ref[j].data(), static_cast<int64_t>(c.q_rows) * c.kv_len, c.kv_len};
        jc.push_back({f32_view(qs[j].data(), c.q_rows, D), kc[j].get(), c.kv_len, c.q_offset,
                      f32_view(outs[j].data(), c.q_rows, D), &sinks[j]});
        jr.push_back({f32_view(qs[j].data(), c.q_rows, D), kr[j].get(), c.kv_len, c.q_offset,
                      f32_view(outs_ref[j].data(), c.q_rows, D), &sinks_ref[j]});
      }
      const AttentionShape shape{H, dh, c.causal};
      cpu_->attention(ex_, jc.data(), 2, shape);
      ref_->attention(ref_ex_, jr.data(), 2, shape);
      for (int j = 0; j < 2; ++j) {
        ASSERT_LT(rel_diff(outs[j], outs_ref[j]), tol())
            << "q_rows " << c.q_rows << " kv " << c.kv_len << " use " << static_cast<int>(use);
        ASSERT_LT(rel_diff(probs[j], probs_ref[j]), tol()) << "probabilities";
      }
    }
}

// The keys and values a cache holds do not depend on how they were written: in one call (whole 16-key
// panels at a time where they fit) or one position at a time, from any starting position.
TEST_P(BackendVsReference, KvWriteIsTheSameInOneCallOrByRows) {
  std::mt19937 rng(26);
  for (int dh : {64, 40}) {
    const int H = 2, D = H * dh, cap = 150;
    for (KvUse use : {KvUse::SelfAttention, KvUse::CrossAttentionBatched})
      for (auto [first, n] : {std::pair{0, 150}, std::pair{5, 100}, std::pair{16, 33}, std::pair{31, 1}}) {
        const auto k = random_vec(static_cast<size_t>(n) * D, rng),
                   v = random_vec(static_cast<size_t>(n) * D, rng);
        auto whole = cpu_->make_kv_cache(cap, D, H, use), rows = cpu_->make_kv_cache(cap, D, H, use);
        cpu_->kv_write(ex_, *whole, first, f32_view(k.data(), n, D), f32_view(v.data(), n, D));
        for (int t = 0; t < n; ++t)
          cpu_->kv_write(ex_, *rows, first + t, f32_view(k.data() + t * D, 1, D),
                         f32_view(v.data() + t * D, 1, D));
        const auto& a = static_cast<const cpu::CpuKvCache&>(*whole).storage;
        const auto& b = static_cast<const cpu::CpuKvCache&>(*rows).storage;
        ASSERT_EQ(a.size(), b.size());
        EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size()), 0)
            << "head_dim " << dh << " from " << first << ", " << n << " use " << static_cast<int>(use);
      }
  }
}

// A decoder step hands its new keys and values to the attention call (AttentionJob::append): the caches and
// outputs are those of writing them first and attending after, to the bit, whether the job's rows make one
// query block (written by the attention's tasks) or several (written before them), and in the reference.
TEST_P(BackendVsReference, AttentionAppendsAsWriteThenAttend) {
  std::mt19937 rng(28);
  const int H = 3, dh = 64, D = H * dh, cap = 200;
  for (Backend* b : {cpu_.get(), ref_.get()})
    for (auto [past, rows] : {std::pair{0, 1}, std::pair{15, 1}, std::pair{16, 5}, std::pair{31, 2},
                              std::pair{0, 70}, std::pair{40, 100}}) {
      Exec& e = b == cpu_.get() ? ex_ : ref_ex_;
      const int L = past + rows;
      const auto k = random_vec(static_cast<size_t>(L) * D, rng),
                 v = random_vec(static_cast<size_t>(L) * D, rng);
      const auto q = random_vec(static_cast<size_t>(rows) * D, rng, 2.0f);
      std::vector<float> out[2];
      std::unique_ptr<KvCache> caches[2];
      for (int fused = 0; fused < 2; ++fused) {
        auto& kv = caches[fused];
        kv = b->make_kv_cache(cap, D, H, KvUse::SelfAttention);
        if (past > 0) b->kv_write(e, *kv, 0, f32_view(k.data(), past, D), f32_view(v.data(), past, D));
        const KvWrite w{kv.get(), past, f32_view(k.data() + past * D, rows, D),
                        f32_view(v.data() + past * D, rows, D)};
        if (!fused) b->kv_write(e, *w.kv, w.position, w.k, w.v);
        out[fused].assign(q.size(), 0.0f);
        const AttentionJob job{
            f32_view(q.data(), rows, D), kv.get(), L, past, f32_view(out[fused].data(), rows, D), nullptr,
            fused ? &w : nullptr};
        b->attention(e, &job, 1, AttentionShape{H, dh, true});
      }
      const std::string what = std::string(b == ref_.get() ? "reference" : "cpu") + ", " +
                               std::to_string(past) + " keys, then " + std::to_string(rows);
      EXPECT_EQ(std::memcmp(out[0].data(), out[1].data(), sizeof(float) * out[0].size()), 0) << what;
      if (b == cpu_.get()) {
        const auto& a = static_cast<const cpu::CpuKvCache&>(*caches[0]).storage;
        const auto& c = static_cast<const cpu::CpuKvCache&>(*caches[1]).storage;
        EXPECT_EQ(std::memcmp(a.data(), c.data(), a.size()), 0) << what;
      }
      // An append must go to the job's own cache, at its rows' positions.
      auto other = b->make_kv_cache(cap, D, H, KvUse::SelfAttention);
      const KvWrite wrong{other.get(), past, f32_view(k.data() + past * D, rows, D),
                          f32_view(v.data() + past * D, rows, D)};
      std::vector<float> o(q.size());
      const AttentionJob bad{f32_view(q.data(), rows, D), caches[1].get(), L,     past,
                             f32_view(o.data(), rows, D), nullptr,         &wrong};
      EXPECT_THROW(b->attention(e, &bad, 1, AttentionShape{H, dh, true}), wisp::Error) << what;
    }
}

// A decoder step's call: many jobs of one or two rows (the backend runs consecutive heads as one task
// there). Each job's output is the bits of the same job attended alone, and near the reference's.
TEST_P(BackendVsReference, ManySmallJobsAttendAsEachAlone) {
  std::mt19937 rng(29);
  const int H = 4, dh = 64, D = H * dh, cap = 300, n_jobs = 9;
  for (KvUse use : {KvUse::SelfAttention, KvUse::CrossAttentionBatched})
    for (int rows : {1, 2, 5}) {
      std::vector<std::unique_ptr<KvCache>> kc, kr;
      std::vector<std::vector<float>> qs, together, alone, ref;
      std::vector<AttentionJob> jobs, ref_jobs;
      for (int j = 0; j < n_jobs; ++j) {
        const int L = 17 + 31 * j;
        kc.push_back(cpu_->make_kv_cache(cap, D, H, use));
        kr.push_back(ref_->make_kv_cache(cap, D, H, use));
        const auto k = random_vec(static_cast<size_t>(L) * D, rng),
                   v = random_vec(static_cast<size_t>(L) * D, rng);
        cpu_->kv_write(ex_, *kc.back(), 0, f32_view(k.data(), L, D), f32_view(v.data(), L, D));
        const auto kh = held(*kc.back(), k, L), vh = held(*kc.back(), v, L);
        ref_->kv_write(ref_ex_, *kr.back(), 0, f32_view(kh.data(), L, D), f32_view(vh.data(), L, D));
        qs.push_back(random_vec(static_cast<size_t>(rows) * D, rng, 2.0f));
        for (auto* o : {&together, &alone, &ref}) o->emplace_back(static_cast<size_t>(rows) * D);
      }
      const bool causal = use == KvUse::SelfAttention;
      for (int j = 0; j < n_jobs; ++j) {
        const int L = 17 + 31 * j, offset = causal ? L - rows : 0;
        jobs.push_back({f32_view(qs[j].data(), rows, D), kc[j].get(), L, offset,
                        f32_view(together[j].data(), rows, D), nullptr, nullptr});
        ref_jobs.push_back({f32_view(qs[j].data(), rows, D), kr[j].get(), L, offset,
                            f32_view(ref[j].data(), rows, D), nullptr, nullptr});
      }
      const AttentionShape shape{H, dh, causal};
      cpu_->attention(ex_, jobs.data(), n_jobs, shape);
      ref_->attention(ref_ex_, ref_jobs.data(), n_jobs, shape);
      for (int j = 0; j < n_jobs; ++j) {
        AttentionJob one = jobs[j];
        one.out = f32_view(alone[j].data(), rows, D);
        cpu_->attention(ex_, &one, 1, shape);
        const std::string what = "job " + std::to_string(j) + ", rows " + std::to_string(rows) + ", use " +
                                 std::to_string(static_cast<int>(use));
        EXPECT_EQ(std::memcmp(together[j].data(), alone[j].data(), sizeof(float) * alone[j].size()), 0)
            << what;
        EXPECT_LT(rel_diff(together[j], ref[j]), tol()) << what;
      }
    }
}

// The encoder's case: many query rows, every key visible, no probabilities kept. Key counts around 128-key
// blocks and the 30-s window's 1500, query rows that are no multiple of 32-row passes, large scores (a
// peaked softmax whose maximum moves from block to block).
TEST_P(BackendVsReference, AttentionManyRowsLongKeys) {
  std::mt19937 rng(25);
  const int H = 2, dh = 64, D = H * dh, cap = 1500;
  for (KvUse use : {KvUse::SelfAttention, KvUse::CrossAttentionBatched})
    for (int kv_len : {16, 127, 129, 333, 1500})
      for (int q_rows : {16, 45, 100}) {
        auto kc = cpu_->make_kv_cache(cap, D, H, use), kr = ref_->make_kv_cache(cap, D, H, use);
        const auto k = random_vec(static_cast<size_t>(kv_len) * D, rng),
                   v = random_vec(static_cast<size_t>(kv_len) * D, rng);
        cpu_->kv_write(ex_, *kc, 0, f32_view(k.data(), kv_len, D), f32_view(v.data(), kv_len, D));
        const auto kh = held(*kc, k, kv_len), vh = held(*kc, v, kv_len);
        ref_->kv_write(ref_ex_, *kr, 0, f32_view(kh.data(), kv_len, D), f32_view(vh.data(), kv_len, D));
        const auto q = random_vec(static_cast<size_t>(q_rows) * D, rng, 3.0f);
        std::vector<float> out(q.size()), out_ref(q.size());
        const AttentionJob jc{f32_view(q.data(), q_rows, D),   kc.get(), kv_len, 0,
                              f32_view(out.data(), q_rows, D), nullptr};
        const AttentionJob jr{f32_view(q.data(), q_rows, D),       kr.get(), kv_len, 0,
                              f32_view(out_ref.data(), q_rows, D), nullptr};
        cpu_->attention(ex_, &jc, 1, AttentionShape{H, dh, false});
        ref_->attention(ref_ex_, &jr, 1, AttentionShape{H, dh, false});
        ASSERT_LT(rel_diff(out, out_ref), tol())
            << "q_rows " << q_rows << " kv " << kv_len << " use " << static_cast<int>(use);
      }
}

INSTANTIATE_TEST_SUITE_P(Cpu, BackendVsReference, ::testing::ValuesIn(params()),
                         [](const ::testing::TestParamInfo<Param>& i) {
                           return std::string(cpu::isa_name(std::get<0>(i.param))) + "_" +
                                  compute_type_name(std::get<1>(i.param));
                         });

// The int8 and int4 cross-attention caches' kernels multiply the same bytes exactly (AMX tiles, AVX-512
// VNNI), so they give the same outputs and probabilities to the bit, for one row (greedy), beams and a
// prompt's rows; and they attend as the reference does over the values the cache holds. (The batched mode's
// caches are int4; WISP_CROSS_KV_BITS=8 makes them int8.)
TEST(QuantizedCrossAttention, AmxAndVnniKernelsAgreeToTheBitAndWithTheReference) {
  if (!cpu::isa_supported(cpu::Isa::Avx512Vnni)) GTEST_SKIP() << "no AVX-512 VNNI on this CPU";
  const bool has_amx = cpu::isa_supported(cpu::Isa::Amx);
  auto vnni = make_cpu_backend(ComputeType::Int8, cpu::Isa::Avx512Vnni);
  auto amx = has_amx ? make_cpu_backend(ComputeType::Int8, cpu::Isa::Amx) : nullptr;
  auto ref = make_reference_backend();
  {
    auto kv = vnni->make_kv_cache(1500, 128, 2, KvUse::CrossAttentionBatched);
    EXPECT_EQ(static_cast<const cpu::CpuKvCache&>(*kv).format, cpu::KvFormat::I4);
  }
  Workspace ws, ref_ws;
  Exec ex{2, &ws}, ref_ex{1, &ref_ws};
  std::mt19937 rng(27);
  const int H = 2, D = H * 64, cap = 1500;
  for (cpu::KvFormat format : {cpu::KvFormat::I8, cpu::KvFormat::I4})
    for (auto [rows, kv_len] : {std::pair{1, 1500}, std::pair{2, 999}, std::pair{3, 1500}, std::pair{5, 1500},
                                std::pair{9, 333}, std::pair{70, 17}}) {
      const auto k = random_vec(static_cast<size_t>(kv_len) * D, rng, 2.0f),
                 v = random_vec(static_cast<size_t>(kv_len) * D, rng);
      const auto q = random_vec(static_cast<size_t>(rows) * D, rng, 3.0f);
      std::vector<float> out[3], probs[3];
      const uint8_t heads[H] = {1, 1};
      auto run = [&](Backend& b, Exec& e, std::unique_ptr<KvCache> kv, const std::vector<float>& kk,
                     const std::vector<float>& vv, int which) {
        b.kv_write(e, *kv, 0, f32_view(kk.data(), kv_len, D), f32_view(vv.data(), kv_len, D));
        out[which].assign(q.size(), 0.0f);
        probs[which].assign(static_cast<size_t>(H) * rows * kv_len, -1.0f);
        const ProbabilitySink sink{heads, probs[which].data(), static_cast<int64_t>(rows) * kv_len, kv_len};
        const AttentionJob job{f32_view(q.data(), rows, D),          kv.get(), kv_len, 0,
                               f32_view(out[which].data(), rows, D), &sink};
        b.attention(e, &job, 1, AttentionShape{H, 64, false});
      };
      auto cache = [&] { return std::make_unique<cpu::CpuKvCache>(cap, D, H, format); };
      run(*vnni, ex, cache(), k, v, 0);
      const auto probe = cache();
      run(*ref, ref_ex, ref->make_kv_cache(cap, D, H, KvUse::CrossAttention), held(*probe, k, kv_len),
          held(*probe, v, kv_len), 1);
      const std::string what = std::string(format == cpu::KvFormat::I4 ? "int4" : "int8") + ", rows " +
                               std::to_string(rows) + ", keys " + std::to_string(kv_len);
      EXPECT_LT(rel_diff(out[0], out[1]), 2e-3) << what;
      EXPECT_LT(rel_diff(probs[0], probs[1]), 2e-3) << what;
      if (!amx) continue;
      run(*amx, ex, cache(), k, v, 2);
      EXPECT_EQ(std::memcmp(out[0].data(), out[2].data(), sizeof(float) * out[0].size()), 0) << what;
      EXPECT_EQ(std::memcmp(probs[0].data(), probs[2].data(), sizeof(float) * probs[0].size()), 0) << what;
    }
}

}  // namespace
}  // namespace wisp::backend
