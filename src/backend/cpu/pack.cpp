// Weight packing (once, at load) and activation quantization / conversion (per call) for gemm.h.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "backend/cpu/gemm.h"
#include "backend/cpu/gemm_kernels.h"
#include "backend/cpu/threads.h"

namespace wisp::backend::cpu {
namespace {

int round_up(int x, int m) { return (x + m - 1) / m * m; }

// Offset of W[n][k] in the int8 layout [Np/16][Kp/4][16][4].
size_t i8_offset(int n, int k, int Kp) {
  return ((static_cast<size_t>(n / 16) * (Kp / 4) + k / 4) * 16 + n % 16) * 4 + k % 4;
}
// Offset of W[n][k] in the bf16 layout [Np/16][Kp/2][16][2].
size_t bf16_offset(int n, int k, int Kp) {
  return ((static_cast<size_t>(n / 16) * (Kp / 2) + k / 2) * 16 + n % 16) * 2 + k % 2;
}

float max_abs(const float* x, int n) {
  __m256 m = _mm256_setzero_ps();
  const __m256 sign = _mm256_set1_ps(-0.0f);
  int i = 0;
  for (; i + 8 <= n; i += 8) m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)));
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  float r = _mm_cvtss_f32(s);
  for (; i < n; ++i) r = std::max(r, std::fabs(x[i]));
  return r;
}

void init_i8(PackedI8& p, int N, int K) {
  p.N = N;
  p.K = K;
  p.Np = round_up(N, 16);
  p.Kp = round_up(std::max(K, 1), 64);
  p.data.resize(static_cast<size_t>(p.Np) * p.Kp);
  p.scale.resize(sizeof(float) * p.Np);
  p.col_sum.resize(sizeof(int32_t) * p.Np);
  float* scale = p.scale.as<float>();
  for (int n = 0; n < p.Np; ++n) scale[n] = 1.0f;
}

// Stores q[0..K) of row n into the int8 layout, 4 bytes (one k-quad) per store; Σ q into col_sum.
void store_i8_row(PackedI8& p, int n, const int8_t* q) {
  int8_t* d = p.data.as<int8_t>();
  int32_t sum = 0;
  for (int k = 0; k < p.K; ++k) sum += q[k];
  p.col_sum.as<int32_t>()[n] = sum;
  for (int k = 0; k < p.K; k += 4) std::memcpy(d + i8_offset(n, k, p.Kp), q + k, 4);  // q is padded to 4
}

// Runs fn(n, row, scratch) for every row, a 16-row panel per task, with per-task row buffers.
template <typename Fn>
void for_rows(int N, int K, int threads, Fn&& fn) {
  parallel_for(threads, (N + 15) / 16, [&](int panel) {
    std::vector<float> row(static_cast<size_t>(K));
    std::vector<int8_t> scratch(static_cast<size_t>(round_up(K, 64)) * 2 + 64);
    for (int n = panel * 16; n < std::min(N, panel * 16 + 16); ++n) fn(n, row.data(), scratch.data());
  });
}

}  // namespace

uint16_t float_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);  // quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);                                                      // nearest even
  return static_cast<uint16_t>(u >> 16);
}

float bf16_to_float(uint16_t h) {
  const uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

PackedI8 pack_i8(int N, int K, const RowSource& source, int threads) {
  PackedI8 p;
  init_i8(p, N, K);
  float* scale = p.scale.as<float>();
  for_rows(N, K, threads, [&](int n, float* row, int8_t* q) {
    source(n, row);
    // Symmetric per-row quantization: the same arithmetic as the activations' (quantize_rows_i8).
    quantize_rows_i8(row, 1, K, K, q, round_up(K, 4), &scale[n], false);
    store_i8_row(p, n, q);
  });
  return p;
}

PackedI8 pack_i8_quantized(int N, int K, const int8_t* Q, const float* ct2_scale) {
  PackedI8 p;
  init_i8(p, N, K);
  float* scale = p.scale.as<float>();
  std::vector<int8_t> q(static_cast<size_t>(round_up(K, 4)), 0);
  for (int n = 0; n < N; ++n) {
    scale[n] = ct2_scale[n] != 0.0f ? 1.0f / ct2_scale[n] : 0.0f;
    for (int k = 0; k < K; ++k)  // -128 has no negation (the sign trick needs one): it becomes -127
      q[k] = std::max<int8_t>(Q[static_cast<size_t>(n) * K + k], -127);
    store_i8_row(p, n, q.data());
  }
  return p;
}

PackedBf16 pack_bf16(int N, int K, const RowSource& source, int threads) {
  PackedBf16 p;
  p.N = N;
  p.K = K;
  p.Np = round_up(N, 16);
  p.Kp = round_up(std::max(K, 1), 32);
  p.data.resize(sizeof(uint16_t) * p.Np * p.Kp);
  uint16_t* d = p.data.as<uint16_t>();
  for_rows(N, K, threads, [&](int n, float* row, int8_t* scratch) {
    source(n, row);
    auto* b = reinterpret_cast<uint16_t*>(scratch);
    convert_rows_bf16(row, 1, K, K, b, round_up(K, 2));
    for (int k = 0; k < K; k += 2) std::memcpy(d + bf16_offset(n, k, p.Kp), b + k, 4);  // one pair per store
  });
  return p;
}

PackedF32 pack_f32(int N, int K, const RowSource& source, int threads) {
  PackedF32 p;
  p.N = N;
  p.K = K;
  p.Np = round_up(N, 16);
  p.Kp = K;
  p.data.resize(sizeof(float) * p.Np * p.Kp);
  float* d = p.data.as<float>();
  for_rows(N, K, threads, [&](int n, float* row, int8_t*) {
    source(n, row);
    float* col = d + static_cast<size_t>(n / 16) * K * 16 + n % 16;
    for (int k = 0; k < K; ++k) col[static_cast<size_t>(k) * 16] = row[k];
  });
  return p;
}

PackedI8 pack_i8(int N, int K, const float* W) {
  return pack_i8(
      N, K, [&](int n, float* out) { std::memcpy(out, W + static_cast<size_t>(n) * K, sizeof(float) * K); });
}
PackedBf16 pack_bf16(int N, int K, const float* W) {
  return pack_bf16(
      N, K, [&](int n, float* out) { std::memcpy(out, W + static_cast<size_t>(n) * K, sizeof(float) * K); });
}
PackedF32 pack_f32(int N, int K, const float* W) {
  return pack_f32(
      N, K, [&](int n, float* out) { std::memcpy(out, W + static_cast<size_t>(n) * K, sizeof(float) * K); });
}

void quantize_rows_i8(const float* x, int M, int K, int ldx, int8_t* q, int ldq, float* scale, bool shift) {
  const __m256i offset = _mm256_set1_epi8(shift ? static_cast<char>(0x80) : 0);
  for (int m = 0; m < M; ++m) {
    const float* xr = x + static_cast<size_t>(m) * ldx;
    int8_t* qr = q + static_cast<size_t>(m) * ldq;
    const float inv = row_quant_inverse(max_abs(xr, K), &scale[m]);
    const __m256 vinv = _mm256_set1_ps(inv);
    int k = 0;
    for (; k + 32 <= K; k += 32) {
      // 4 × 8 floats → 32 int8 (packs saturate, but |x · inv| <= 127 already).
      const __m256i a = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xr + k), vinv));
      const __m256i b = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xr + k + 8), vinv));
      const __m256i c = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xr + k + 16), vinv));
      const __m256i d = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xr + k + 24), vinv));
      const __m256i ab = _mm256_packs_epi32(a, b), cd = _mm256_packs_epi32(c, d);
      __m256i v = _mm256_packs_epi16(ab, cd);  // lanes interleaved by the 128-bit packs: restore the order
      v = _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(qr + k), _mm256_xor_si256(v, offset));
    }
    for (; k < K; ++k) {
      const auto v = static_cast<int8_t>(std::lrint(xr[k] * inv));  // nearest even, as cvtps_epi32
      qr[k] = shift ? static_cast<int8_t>(v ^ 0x80) : v;            // ^0x80: v + 128 as an unsigned byte
    }
    // Padding is zero in the unsigned domain too: the packed weights are zero there.
    std::memset(qr + K, shift ? 0x80 : 0, static_cast<size_t>(ldq - K));
  }
}

void convert_rows_bf16(const float* x, int M, int K, int ldx, uint16_t* q, int ldq) {
  for (int m = 0; m < M; ++m) {
    const float* xr = x + static_cast<size_t>(m) * ldx;
    uint16_t* qr = q + static_cast<size_t>(m) * ldq;
    int k = 0;
    // Nearest-even rounding, 8 at a time: u + 0x7fff + ((u >> 16) & 1), then the high halves.
    const __m256i bias = _mm256_set1_epi32(0x7fff), one = _mm256_set1_epi32(1);
    for (; k + 16 <= K; k += 16) {
      __m256i a = _mm256_castps_si256(_mm256_loadu_ps(xr + k));
      __m256i b = _mm256_castps_si256(_mm256_loadu_ps(xr + k + 8));
      a = _mm256_srli_epi32(
          _mm256_add_epi32(a, _mm256_add_epi32(bias, _mm256_and_si256(_mm256_srli_epi32(a, 16), one))), 16);
      b = _mm256_srli_epi32(
          _mm256_add_epi32(b, _mm256_add_epi32(bias, _mm256_and_si256(_mm256_srli_epi32(b, 16), one))), 16);
      const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(a, b), 0xd8);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(qr + k), packed);
    }
    for (; k < K; ++k) qr[k] = float_to_bf16(xr[k]);
    std::memset(qr + K, 0, sizeof(uint16_t) * static_cast<size_t>(ldq - K));
  }
}

}  // namespace wisp::backend::cpu
