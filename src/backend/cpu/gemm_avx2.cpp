// int8 and bf16 GEMM kernels for any AVX2 + FMA CPU.
//
// int8 without VNNI: vpmaddubsw multiplies unsigned by signed bytes into saturating 16-bit pair sums. With
// signed activations a and weights w in [-127, 127], |a| · (sign(a) · w) = a · w and a pair sum is at most
// 2 · 127 · 127 = 32258: no saturation, no offset to undo. vpmaddwd then widens pairs of pairs to int32.
// bf16: a bf16 value is the top half of an fp32, so widening is a shift; products use FMA.
#include <algorithm>
#include <array>
#include <utility>

#include "backend/cpu/gemm_kernels.h"
#include "backend/cpu/simd_avx2.h"

namespace wisp::backend::cpu {
namespace {

constexpr int kMaxRows = 4;

// MR rows × 16 columns (one panel, two 8-lane halves).
template <int MR>
void tile_i8(const I8Block& b, int m, int n) {
  const PackedView& w = b.w;
  const int Kp = w.Kp;
  const int8_t* bp = static_cast<const int8_t*>(w.data) + static_cast<size_t>(n / 16) * w.panel_elems();
  const int8_t* ap = b.a + static_cast<size_t>(m) * b.lda;
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i acc[MR][2];
#pragma GCC unroll 4
  for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
  for (int k = 0; k < Kp; k += 4) {
    const __m256i b0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(bp + static_cast<size_t>(k) * 16));
    const __m256i b1 =
        _mm256_load_si256(reinterpret_cast<const __m256i*>(bp + static_cast<size_t>(k) * 16 + 32));
#pragma GCC unroll 4
    for (int r = 0; r < MR; ++r) {
      int32_t quad;
      __builtin_memcpy(&quad, ap + static_cast<size_t>(r) * b.lda + k, 4);
      const __m256i av = _mm256_set1_epi32(quad);
      const __m256i abs_a = _mm256_sign_epi8(av, av);
      const __m256i p0 = _mm256_maddubs_epi16(abs_a, _mm256_sign_epi8(b0, av));
      const __m256i p1 = _mm256_maddubs_epi16(abs_a, _mm256_sign_epi8(b1, av));
      acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(p0, ones));
      acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(p1, ones));
    }
  }
  const float* wscale = w.scale + n;
#pragma GCC unroll 2
  for (int h = 0; h < 2; ++h) {
    const int cols = w.N - n - 8 * h;
    const __m256 ws = _mm256_load_ps(wscale + 8 * h);
    const __m256 bias = avx2::bias8(b.ep, n + 8 * h, cols);
#pragma GCC unroll 4
    for (int r = 0; r < MR; ++r) {
      const __m256 s = _mm256_mul_ps(_mm256_set1_ps(b.a_scale[m + r]), ws);
      avx2::store8(_mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[r][h]), s, bias), b.ep,
                   b.y + static_cast<size_t>(m + r) * b.ldy + n + 8 * h, cols);
    }
  }
}

// MR rows × 16 columns of bf16: each 32-bit word of a panel row holds (w[k], w[k+1]) of one column.
template <int MR>
void tile_bf16(const Bf16Block& b, int m, int n) {
  const PackedView& w = b.w;
  const int Kp = w.Kp;
  const uint16_t* bp = static_cast<const uint16_t*>(w.data) + static_cast<size_t>(n / 16) * w.panel_elems();
  const uint16_t* ap = b.a + static_cast<size_t>(m) * b.lda;
  const __m256i high = _mm256_set1_epi32(static_cast<int>(0xffff0000u));
  __m256 acc[MR][2];
#pragma GCC unroll 4
  for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  for (int k = 0; k < Kp; k += 2) {
    const __m256i w0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(bp + static_cast<size_t>(k) * 16));
    const __m256i w1 =
        _mm256_load_si256(reinterpret_cast<const __m256i*>(bp + static_cast<size_t>(k) * 16 + 16));
    const __m256 w0e = _mm256_castsi256_ps(_mm256_slli_epi32(w0, 16)),
                 w0o = _mm256_castsi256_ps(_mm256_and_si256(w0, high));
    const __m256 w1e = _mm256_castsi256_ps(_mm256_slli_epi32(w1, 16)),
                 w1o = _mm256_castsi256_ps(_mm256_and_si256(w1, high));
#pragma GCC unroll 4
    for (int r = 0; r < MR; ++r) {
      int32_t pair;
      __builtin_memcpy(&pair, ap + static_cast<size_t>(r) * b.lda + k, 4);
      const __m256i av = _mm256_set1_epi32(pair);
      const __m256 ae = _mm256_castsi256_ps(_mm256_slli_epi32(av, 16)),
                   ao = _mm256_castsi256_ps(_mm256_and_si256(av, high));
      acc[r][0] = _mm256_fmadd_ps(ae, w0e, acc[r][0]);
      acc[r][0] = _mm256_fmadd_ps(ao, w0o, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(ae, w1e, acc[r][1]);
      acc[r][1] = _mm256_fmadd_ps(ao, w1o, acc[r][1]);
    }
  }
#pragma GCC unroll 2
  for (int h = 0; h < 2; ++h) {
    const int cols = w.N - n - 8 * h;
    const __m256 bias = avx2::bias8(b.ep, n + 8 * h, cols);
#pragma GCC unroll 4
    for (int r = 0; r < MR; ++r)
      avx2::store8(_mm256_add_ps(acc[r][h], bias), b.ep, b.y + static_cast<size_t>(m + r) * b.ldy + n + 8 * h,
                   cols);
  }
}

// MR rows × 16 columns of fp32 (two 8-lane halves of one panel).
template <int MR>
void tile_f32(const F32Block& b, int m, int n) {
  const PackedView& w = b.w;
  const float* bp = static_cast<const float*>(w.data) + static_cast<size_t>(n / 16) * w.panel_elems();
  const float* ap = b.a + static_cast<size_t>(m) * b.lda;
  __m256 acc[MR * 2];
#pragma GCC unroll 16
  for (int i = 0; i < MR * 2; ++i) acc[i] = _mm256_setzero_ps();
  for (int k = 0; k < w.K; ++k) {
    const __m256 b0 = _mm256_load_ps(bp + static_cast<size_t>(k) * 16);
    const __m256 b1 = _mm256_load_ps(bp + static_cast<size_t>(k) * 16 + 8);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m256 av = _mm256_broadcast_ss(ap + static_cast<size_t>(r) * b.lda + k);
      acc[2 * r] = _mm256_fmadd_ps(av, b0, acc[2 * r]);
      acc[2 * r + 1] = _mm256_fmadd_ps(av, b1, acc[2 * r + 1]);
    }
  }
  alignas(32) float c[MR * 16];
#pragma GCC unroll 16
  for (int i = 0; i < MR * 2; ++i) _mm256_store_ps(c + 8 * i, acc[i]);
  for (int h = 0; h < 2; ++h) {
    const int cols = w.N - n - 8 * h;
    const __m256 bias = avx2::bias8(b.ep, n + 8 * h, cols);
    for (int r = 0; r < MR; ++r)
      avx2::store8(_mm256_add_ps(_mm256_load_ps(c + 16 * r + 8 * h), bias), b.ep,
                   b.y + static_cast<size_t>(m + r) * b.ldy + n + 8 * h, cols);
  }
}

using F32Fn = void (*)(const F32Block&, int, int);
constexpr std::array<F32Fn, 6> kF32 = {&tile_f32<1>, &tile_f32<2>, &tile_f32<3>,
                                       &tile_f32<4>, &tile_f32<5>, &tile_f32<6>};

using I8Fn = void (*)(const I8Block&, int, int);
using Bf16Fn = void (*)(const Bf16Block&, int, int);
constexpr std::array<I8Fn, kMaxRows> kI8 = {&tile_i8<1>, &tile_i8<2>, &tile_i8<3>, &tile_i8<4>};
constexpr std::array<Bf16Fn, kMaxRows> kBf16 = {&tile_bf16<1>, &tile_bf16<2>, &tile_bf16<3>, &tile_bf16<4>};

}  // namespace

void gemm_i8_avx2(const I8Block& b, int m0, int m1, int n0, int n1) {
  for (int n = n0; n < n1; n += 16)
    for (int m = m0; m < m1; m += kMaxRows) kI8[std::min(kMaxRows, m1 - m) - 1](b, m, n);
}

void gemm_f32_avx2(const F32Block& b, int m0, int m1, int n0, int n1) {
  for (int n = n0; n < n1; n += 16)
    for (int m = m0; m < m1; m += 6) kF32[std::min(6, m1 - m) - 1](b, m, n);
}

void gemm_bf16_avx2(const Bf16Block& b, int m0, int m1, int n0, int n1) {
  for (int n = n0; n < n1; n += 16)
    for (int m = m0; m < m1; m += kMaxRows) kBf16[std::min(kMaxRows, m1 - m) - 1](b, m, n);
}

}  // namespace wisp::backend::cpu
