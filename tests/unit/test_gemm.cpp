// The int8 and bf16 GEMM kernels of every ISA level this machine runs, against the reference products on the
// same quantized operands, over awkward shapes: one row, tails of every tile, K not a multiple of the block.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/amx_tiles.h"
#include "backend/cpu/conv_im2col.h"
#include "backend/cpu/gemm.h"
#include "backend/cpu/gemm_kernels.h"
#include "backend/cpu/isa.h"

namespace wisp::backend::cpu {
namespace {

std::vector<float> random_vec(size_t n, std::mt19937& rng, float scale = 1.0f) {
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

std::vector<Isa> supported_isas() {
  std::vector<Isa> out;
  for (int i = 0; i < kIsaCount; ++i)
    if (isa_supported(static_cast<Isa>(i))) out.push_back(static_cast<Isa>(i));
  return out;
}

struct Shape {
  int M, K, N;
};
const Shape kShapes[] = {{1, 1, 1},     {1, 64, 16},    {1, 384, 1001}, {2, 3, 17},    {5, 65, 33},
                         {6, 127, 64},  {7, 128, 65},   {16, 385, 48},  {17, 64, 100}, {31, 200, 31},
                         {33, 384, 96}, {100, 96, 130}, {130, 511, 47}, {97, 1536, 40}};

float tolerance(const std::vector<float>& ref, float rel) {
  float m = 0.0f;
  for (float v : ref) m = std::max(m, std::fabs(v));
  return rel * (m + 1.0f);
}

class GemmVariants : public ::testing::TestWithParam<Isa> {};

TEST_P(GemmVariants, Int8MatchesReference) {
  const Isa isa = GetParam();
  std::mt19937 rng(11);
  Workspace ws;
  for (int threads : {1, 2})
    for (const Shape& s : kShapes)
      for (int variant = 0; variant < 4; ++variant) {
        const auto W = random_vec(static_cast<size_t>(s.N) * s.K, rng, 0.1f);
        const auto x = random_vec(static_cast<size_t>(s.M) * (s.K + 3), rng);
        const auto bias = random_vec(s.N, rng);
        const PackedI8 p = pack_i8(s.N, s.K, W.data());
        Epilogue ep;
        ep.bias = variant & 1 ? bias.data() : nullptr;
        ep.gelu = variant == 2;
        ep.accumulate = variant == 3;
        const int ldy = s.N + 5;
        auto y = random_vec(static_cast<size_t>(s.M) * ldy, rng), y_ref = y;
        gemm_i8(Exec{threads, &ws}, isa, x.data(), s.M, s.K + 3, p.view(), ep, y.data(), ldy);
        gemm_i8_reference(x.data(), s.M, s.K + 3, p.view(), ep, y_ref.data(), ldy);
        const float tol = tolerance(y_ref, 2e-6f);
        for (size_t i = 0; i < y.size(); ++i)
          ASSERT_NEAR(y[i], y_ref[i], tol) << isa_name(isa) << " M=" << s.M << " K=" << s.K << " N=" << s.N
                                           << " variant " << variant << " at " << i;
      }
}

TEST_P(GemmVariants, Bf16MatchesReference) {
  const Isa isa = GetParam();
  std::mt19937 rng(12);
  Workspace ws;
  for (int threads : {1, 2})
    for (const Shape& s : kShapes)
      for (int variant = 0; variant < 4; ++variant) {
        const auto W = random_vec(static_cast<size_t>(s.N) * s.K, rng, 0.1f);
        const auto x = random_vec(static_cast<size_t>(s.M) * s.K, rng);
        const auto bias = random_vec(s.N, rng);
        const PackedBf16 p = pack_bf16(s.N, s.K, W.data());
        Epilogue ep;
        ep.bias = variant & 1 ? bias.data() : nullptr;
        ep.gelu = variant == 2;
        ep.accumulate = variant == 3;
        std::vector<float> y = random_vec(static_cast<size_t>(s.M) * s.N, rng), y_ref = y;
        gemm_bf16(Exec{threads, &ws}, isa, x.data(), s.M, s.K, p.view(), ep, y.data(), s.N);
        gemm_bf16_reference(x.data(), s.M, s.K, p.view(), ep, y_ref.data(), s.N);
        const float tol = tolerance(y_ref, 1e-5f);
        for (size_t i = 0; i < y.size(); ++i)
          ASSERT_NEAR(y[i], y_ref[i], tol) << isa_name(isa) << " M=" << s.M << " K=" << s.K << " N=" << s.N
                                           << " variant " << variant << " at " << i;
      }
}

TEST_P(GemmVariants, F32MatchesReference) {
  const Isa isa = GetParam();
  std::mt19937 rng(14);
  Workspace ws;
  for (int threads : {1, 2})
    for (const Shape& s : kShapes)
      for (int variant = 0; variant < 4; ++variant) {
        const auto W = random_vec(static_cast<size_t>(s.N) * s.K, rng, 0.1f);
        const auto x = random_vec(static_cast<size_t>(s.M) * (s.K + 1), rng);
        const auto bias = random_vec(s.N, rng);
        const PackedF32 p = pack_f32(s.N, s.K, W.data());
        Epilogue ep;
        ep.bias = variant & 1 ? bias.data() : nullptr;
        ep.gelu = variant == 2;
        ep.accumulate = variant == 3;
        std::vector<float> y = random_vec(static_cast<size_t>(s.M) * s.N, rng), y_ref = y;
        gemm_f32(Exec{threads, &ws}, isa, x.data(), s.M, s.K + 1, p.view(), ep, y.data(), s.N);
        gemm_f32_reference(x.data(), s.M, s.K + 1, p.view(), ep, y_ref.data(), s.N);
        const float tol = tolerance(y_ref, 1e-5f);
        for (size_t i = 0; i < y.size(); ++i)
          ASSERT_NEAR(y[i], y_ref[i], tol) << isa_name(isa) << " M=" << s.M << " K=" << s.K << " N=" << s.N
                                           << " variant " << variant << " at " << i;
      }
}

// The quantized products stay close to the float ones (the point of the scheme, not just self-consistency).
TEST_P(GemmVariants, CloseToFloat) {
  const Isa isa = GetParam();
  std::mt19937 rng(13);
  Workspace ws;
  const int M = 40, K = 384, N = 200;
  const auto W = random_vec(static_cast<size_t>(N) * K, rng, 0.05f);
  const auto x = random_vec(static_cast<size_t>(M) * K, rng);
  std::vector<float> exact(static_cast<size_t>(M) * N), y(exact.size());
  double norm = 0;
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n) {
      double d = 0;
      for (int k = 0; k < K; ++k) d += static_cast<double>(x[m * K + k]) * W[n * K + k];
      exact[m * N + n] = static_cast<float>(d);
      norm += d * d;
    }
  auto rel_err = [&] {
    double e = 0;
    for (size_t i = 0; i < y.size(); ++i) e += (y[i] - exact[i]) * static_cast<double>(y[i] - exact[i]);
    return std::sqrt(e / norm);
  };
  gemm_i8(Exec{2, &ws}, isa, x.data(), M, K, pack_i8(N, K, W.data()).view(), Epilogue{}, y.data(), N);
  EXPECT_LT(rel_err(), 0.02) << "int8 " << isa_name(isa);
  gemm_bf16(Exec{2, &ws}, isa, x.data(), M, K, pack_bf16(N, K, W.data()).view(), Epilogue{}, y.data(), N);
  EXPECT_LT(rel_err(), 0.01) << "bf16 " << isa_name(isa);
}

// A row's output does not depend on the rows multiplied with it (a decoder step's rows are its sequences,
// however many there are): the product of M rows at once gives, bit for bit, that of its rows in slices,
// with one or two threads, in int8 and bf16 — for weights that stay in the caches and for weights larger
// than them (the vocabulary projection's), whose rows the AMX kernels group differently.
TEST_P(GemmVariants, RowsIndependentOfTheirBatch) {
  const Isa isa = GetParam();
  std::mt19937 rng(17);
  Workspace ws;
  const int K = 384;
  for (int N : {1001, 11000}) {
    const auto W = random_vec(static_cast<size_t>(N) * K, rng, 0.1f);
    const auto bias = random_vec(N, rng);
    const PackedI8 p8 = pack_i8(N, K, W.data());
    const PackedBf16 p16 = pack_bf16(N, K, W.data());
    Epilogue ep;
    ep.bias = bias.data();
    for (int M : {40, 100, 160})
      for (int threads : {1, 2}) {
        const auto x = random_vec(static_cast<size_t>(M) * K, rng);
        for (int type = 0; type < 2; ++type) {
          auto run = [&](int m0, int rows, float* y) {
            const Exec ex{threads, &ws};
            if (type == 0)
              gemm_i8(ex, isa, x.data() + static_cast<size_t>(m0) * K, rows, K, p8.view(), ep, y, N);
            else
              gemm_bf16(ex, isa, x.data() + static_cast<size_t>(m0) * K, rows, K, p16.view(), ep, y, N);
          };
          std::vector<float> all(static_cast<size_t>(M) * N), parts(all.size());
          run(0, M, all.data());
          for (int m0 = 0; m0 < M; m0 += 32)
            run(m0, std::min(32, M - m0), parts.data() + static_cast<size_t>(m0) * N);
          ASSERT_EQ(0, std::memcmp(all.data(), parts.data(), all.size() * sizeof(float)))
              << isa_name(isa) << (type == 0 ? " int8" : " bf16") << " M=" << M << " N=" << N << " threads "
              << threads;
        }
      }
  }
}
// The AVX-512 activation routines write exactly the bytes of the AVX2 ones (the oracle's): every K tail,
// both signednesses, rows with a stride, an all-zero row.
TEST(GemmActivations, Avx512MatchesAvx2) {
  if (!isa_supported(Isa::Avx512)) GTEST_SKIP() << "no AVX-512 on this CPU";
  std::mt19937 rng(16);
  for (int K : {1, 7, 15, 16, 17, 63, 64, 65, 384, 385, 1536}) {
    const int M = 5, ldx = K + 3, ldq = (K + 63) / 64 * 64;
    auto x = random_vec(static_cast<size_t>(M) * ldx, rng, 2.0f);
    std::fill(x.begin() + 2 * ldx, x.begin() + 3 * ldx, 0.0f);
    for (bool shift : {false, true}) {
      std::vector<int8_t> q(static_cast<size_t>(M) * ldq, 1), q_ref(q.size(), 2);
      std::vector<float> s(M), s_ref(M);
      quantize_rows_i8_avx512(x.data(), M, K, ldx, q.data(), ldq, s.data(), shift);
      quantize_rows_i8(x.data(), M, K, ldx, q_ref.data(), ldq, s_ref.data(), shift);
      ASSERT_EQ(q, q_ref) << "K=" << K << " shift " << shift;
      ASSERT_EQ(s, s_ref) << "K=" << K;
    }
    std::vector<uint16_t> b(static_cast<size_t>(M) * ldq, 1), b_ref(b.size(), 2);
    convert_rows_bf16_avx512(x.data(), M, K, ldx, b.data(), ldq);
    convert_rows_bf16(x.data(), M, K, ldx, b_ref.data(), ldq);
    ASSERT_EQ(b, b_ref) << "K=" << K;
  }
}

// The AVX-512 im2col rows are the plain loops' values: contiguous channels (16 and more of them), strided
// ones (the plain loops then), both strides, the first and last rows (zeros outside the input).
TEST(ConvIm2col, Avx512MatchesThePlainLoops) {
  if (!isa_supported(Isa::Avx512)) GTEST_SKIP() << "no AVX-512 on this CPU";
  std::mt19937 rng(17);
  for (int C : {5, 16, 32, 80, 384})
    for (int T : {1, 2, 9, 40})
      for (int stride : {1, 2})
        for (bool strided : {false, true}) {
          const auto x = random_vec(static_cast<size_t>(T) * C, rng, 1.0f);
          const Im2colK3 s{.x = x.data(),
                           .T_in = T,
                           .C = C,
                           .stride = stride,
                           .ldx = strided ? 1 : C,
                           .ldc = strided ? T : 1};
          std::vector<float> row(static_cast<size_t>(C) * 3, 1.0f), row_ref(row.size(), 2.0f);
          for (int t = 0; t < (T + stride - 1) / stride; ++t) {
            im2col_k3_row_avx512(s, t, row.data());
            im2col_k3_row(s, t, row_ref.data());
            ASSERT_EQ(row, row_ref) << "C=" << C << " T=" << T << " stride " << stride << " t=" << t;
          }
        }
}

// Another library on the same thread (oneDNN does this) releases the AMX tiles after its own products:
// the next AMX kernel must configure them again rather than die on an illegal instruction.
TEST(GemmAmx, SurvivesTilesReleasedByAnotherLibrary) {
  if (!isa_supported(Isa::Amx)) GTEST_SKIP() << "no AMX on this CPU";
  std::mt19937 rng(15);
  Workspace ws;
  const int M = 40, K = 96, N = 48;
  const auto W = random_vec(static_cast<size_t>(N) * K, rng, 0.1f);
  const auto x = random_vec(static_cast<size_t>(M) * K, rng);
  const PackedI8 p = pack_i8(N, K, W.data());
  std::vector<float> y(static_cast<size_t>(M) * N), y_ref(y.size());
  gemm_i8_reference(x.data(), M, K, p.view(), Epilogue{}, y_ref.data(), N);
  for (int round = 0; round < 2; ++round) {
    gemm_i8(Exec{1, &ws}, Isa::Amx, x.data(), M, K, p.view(), Epilogue{}, y.data(), N);
    for (size_t i = 0; i < y.size(); ++i) ASSERT_NEAR(y[i], y_ref[i], tolerance(y_ref, 2e-6f)) << i;
    amx_release_tiles();
  }
}

INSTANTIATE_TEST_SUITE_P(Isa, GemmVariants, ::testing::ValuesIn(supported_isas()),
                         [](const ::testing::TestParamInfo<Isa>& i) {
                           return std::string(isa_name(i.param));
                         });

TEST(GemmPacking, FileInt8WeightsKeepTheirValues) {
  // CTranslate2 int8: w = q / scale. Packing keeps q and uses 1 / scale.
  const int N = 3, K = 5;
  const int8_t Q[N * K] = {1, -2, 3, -4, 5, 127, -127, 0, 1, -1, -128, 10, 20, 30, 40};
  const float ct2_scale[N] = {2.0f, 4.0f, 0.5f};
  const PackedI8 p = pack_i8_quantized(N, K, Q, ct2_scale);
  std::vector<float> x(K, 0.0f), y(N);
  Workspace ws;
  for (int k = 0; k < K; ++k) {
    std::fill(x.begin(), x.end(), 0.0f);
    x[k] = 1.0f;  // one-hot: y = column k of W
    gemm_i8_reference(x.data(), 1, K, p.view(), Epilogue{}, y.data(), N);
    for (int n = 0; n < N; ++n) {
      const int q = std::max<int>(Q[n * K + k], -127);
      EXPECT_FLOAT_EQ(y[n], q / ct2_scale[n]) << n << "," << k;
    }
  }
}

}  // namespace
}  // namespace wisp::backend::cpu
