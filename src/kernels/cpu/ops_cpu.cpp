// Fast CPU kernels: GEMM from OpenBLAS (OpenMP build), element-wise loops written so the compiler
// vectorises them, rows spread over OpenMP threads. Checked against kernels/ref by
// tests/unit/test_kernels.cpp.
#include <cblas.h>
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/ops.h"

extern "C" void openblas_set_num_threads(int);

namespace wisp::kernels {
namespace {

int g_threads = 1;
constexpr int kFewRows =
    8;  // below this many rows, linear() streams the weights itself (see linear_few_rows)

// exp(x) for x <= 0 (what softmax and erf need), relative error ~2e-7: range reduction to
// 2^n · e^r with |r| <= ln2/2 and a degree-6 polynomial. Branch-free so loops vectorise.
inline float exp_nonpos(float x_in) {
  // NaN fails every comparison: it is replaced by a number here (the float -> int conversion below is
  // undefined for NaN) and handed back unchanged at the end. Above 88 the exponent would overflow the int.
  const float x = x_in >= -87.0f ? std::min(x_in, 88.0f) : -87.0f;
  const float n = std::nearbyint(x * 1.44269504088896341f);
  const float r = x - n * 0.693145751953125f - n * 1.428606765330187045e-06f;
  float p = 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, 4);
  // Underflow (and masked -inf scores) give exactly 0; NaN stays NaN.
  return x_in >= -87.0f ? p * scale : (x_in < -87.0f ? 0.0f : x_in);
}

// erf(x), Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7).
inline float erf_fast(float x) {
  const float a = std::fabs(x);
  const float t = 1.0f / (1.0f + 0.3275911f * a);
  const float poly =
      t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
  const float y = 1.0f - poly * exp_nonpos(-a * a);
  return std::copysign(y, x);
}

// The same two functions, 8 lanes at a time (AVX2 + FMA).
inline __m256 exp256_nonpos(__m256 x_in) {
  const __m256 x = _mm256_max_ps(x_in, _mm256_set1_ps(-87.0f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145751953125f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.428606765330187045e-06f), r);
  __m256 p = _mm256_set1_ps(1.0f / 720);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  const __m256 result = _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
  return _mm256_andnot_ps(_mm256_cmp_ps(x_in, _mm256_set1_ps(-87.0f), _CMP_LT_OQ), result);  // underflow → 0
}

inline __m256 erf256(__m256 x) {
  const __m256 sign = _mm256_and_ps(x, _mm256_set1_ps(-0.0f));
  const __m256 a = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
  const __m256 t = _mm256_div_ps(_mm256_set1_ps(1.0f),
                                 _mm256_fmadd_ps(_mm256_set1_ps(0.3275911f), a, _mm256_set1_ps(1.0f)));
  __m256 poly = _mm256_fmadd_ps(_mm256_set1_ps(1.061405429f), t, _mm256_set1_ps(-1.453152027f));
  poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(1.421413741f));
  poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(-0.284496736f));
  poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(0.254829592f));
  poly = _mm256_mul_ps(poly, t);
  const __m256 e = exp256_nonpos(_mm256_mul_ps(_mm256_sub_ps(_mm256_setzero_ps(), a), a));
  const __m256 y = _mm256_fnmadd_ps(poly, e, _mm256_set1_ps(1.0f));
  return _mm256_or_ps(y, sign);
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline float hmax(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

}  // namespace

void set_num_threads(int n) {
  g_threads = std::max(1, n);
  omp_set_num_threads(g_threads);
  openblas_set_num_threads(g_threads);
}

int num_threads() { return g_threads; }

void gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
          const float* B, int ldb, float beta, float* C, int ldc) {
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, M, N,
              K, alpha, A, lda, B, ldb, beta, C, ldc);
}

namespace {

// y(M,N) = x(M,K) · W(N,K)ᵀ + b for a few rows (decoder steps: M = beams). BLAS packs the whole weight
// matrix before multiplying, which for the (51865 × D) output projection costs more than the product;
// here each weight row is streamed once and dotted with every x row while it sits in L1.
void linear_few_rows(const float* x, int M, int K, const float* W, const float* b, int N, float* y) {
#pragma omp parallel for schedule(static) if (static_cast <int64_t>(N) * K > (1 << 15))
  for (int n = 0; n < N; ++n) {
    const float* w = W + static_cast<size_t>(n) * K;
    for (int m = 0; m < M; ++m) {
      const float* xm = x + static_cast<size_t>(m) * K;
      float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
      for (int k = 0; k < K; ++k) acc += xm[k] * w[k];
      y[static_cast<size_t>(m) * N + n] = acc + (b ? b[n] : 0.0f);
    }
  }
}

// M rows at once against one fp16 weight row: each 8-wide chunk of weights is widened once (F16C) and
// multiplied into all M accumulators, so the weights stream through exactly once.
template <int M>
void linear_f16_rows(const float* x, int K, const uint16_t* W, const float* b, int N, float* y, int ldy) {
#pragma omp parallel for schedule(static) if (static_cast <int64_t>(N) * K > (1 << 15))
  for (int n = 0; n < N; ++n) {
    const uint16_t* w = W + static_cast<size_t>(n) * K;
    __m256 acc[M];
    for (int m = 0; m < M; ++m) acc[m] = _mm256_setzero_ps();
    int k = 0;
    for (; k + 8 <= K; k += 8) {
      const __m256 wv = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + k)));
      for (int m = 0; m < M; ++m)
        acc[m] = _mm256_fmadd_ps(_mm256_loadu_ps(x + static_cast<size_t>(m) * K + k), wv, acc[m]);
    }
    for (int m = 0; m < M; ++m) {
      float sum = hsum(acc[m]);
      for (int kk = k; kk < K; ++kk) sum += x[static_cast<size_t>(m) * K + kk] * _cvtsh_ss(w[kk]);
      y[static_cast<size_t>(m) * ldy + n] = sum + (b ? b[n] : 0.0f);
    }
  }
}

// The same with AVX-512: 16 lanes per FMA, chosen at run time when the CPU has it. Output columns
// [n0, n1) only: the OpenMP region lives in the caller, because an outlined parallel body does not
// inherit this function's target attribute (clang rejects the AVX-512 code in it).
// (GCC 12's AVX-512 headers start some intrinsics from _mm512_undefined_*, which -Wmaybe-uninitialized
// wrongly reports; silenced for this function only.)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
template <int M>
__attribute__((target("avx512f,avx512bw,avx512vl,f16c,fma"))) void linear_f16_cols_avx512(
    const float* x, int K, const uint16_t* W, const float* b, int n0, int n1, float* y, int ldy) {
  for (int n = n0; n < n1; ++n) {
    const uint16_t* w = W + static_cast<size_t>(n) * K;
    __m512 acc[M];
    for (int m = 0; m < M; ++m) acc[m] = _mm512_setzero_ps();
    int k = 0;
    for (; k + 16 <= K; k += 16) {
      const __m512 wv = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + k)));
      for (int m = 0; m < M; ++m)
        acc[m] = _mm512_fmadd_ps(_mm512_loadu_ps(x + static_cast<size_t>(m) * K + k), wv, acc[m]);
    }
    for (int m = 0; m < M; ++m) {
      float sum = hsum(_mm256_add_ps(_mm512_castps512_ps256(acc[m]),
                                     _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc[m]), 1))));
      for (int kk = k; kk < K; ++kk) sum += x[static_cast<size_t>(m) * K + kk] * _cvtsh_ss(w[kk]);
      y[static_cast<size_t>(m) * ldy + n] = sum + (b ? b[n] : 0.0f);
    }
  }
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

template <int M>
void linear_f16_rows_avx512(const float* x, int K, const uint16_t* W, const float* b, int N, float* y,
                            int ldy) {
#pragma omp parallel if (static_cast <int64_t>(N) * K > (1 << 15))
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int n0 = static_cast<int>(static_cast<int64_t>(N) * t / nt);
    const int n1 = static_cast<int>(static_cast<int64_t>(N) * (t + 1) / nt);
    linear_f16_cols_avx512<M>(x, K, W, b, n0, n1, y, ldy);
  }
}

using LinearF16Rows = void (*)(const float*, int, const uint16_t*, const float*, int, float*, int);

template <int M>
LinearF16Rows pick_linear_f16_rows() {
  static const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                             __builtin_cpu_supports("avx512vl");
  return avx512 ? &linear_f16_rows_avx512<M> : &linear_f16_rows<M>;
}

}  // namespace

void linear_f16(const float* x, int M, int K, const uint16_t* W, const float* b, int N, float* y) {
  // Rows in blocks of up to 8 (templated so the accumulators stay in registers).
  static const LinearF16Rows kernels[kFewRows] = {pick_linear_f16_rows<1>(), pick_linear_f16_rows<2>(),
                                                  pick_linear_f16_rows<3>(), pick_linear_f16_rows<4>(),
                                                  pick_linear_f16_rows<5>(), pick_linear_f16_rows<6>(),
                                                  pick_linear_f16_rows<7>(), pick_linear_f16_rows<8>()};
  for (int m0 = 0; m0 < M; m0 += kFewRows) {
    const int rows = std::min(kFewRows, M - m0);
    kernels[rows - 1](x + static_cast<size_t>(m0) * K, K, W, b, N, y + static_cast<size_t>(m0) * N, N);
  }
}

void linear(const float* x, int M, int K, const float* W, const float* b, int N, float* y) {
  if (M <= kFewRows) {
    linear_few_rows(x, M, K, W, b, N, y);
    return;
  }
  if (b) {
    // Start C from the bias so the GEMM adds onto it (beta = 1): no second pass over y.
    for (int i = 0; i < M; ++i) std::memcpy(y + static_cast<size_t>(i) * N, b, sizeof(float) * N);
  }
  gemm(false, true, M, N, K, 1.0f, x, K, W, K, b ? 1.0f : 0.0f, y, N);
}

void layer_norm(const float* x, int M, int N, const float* gamma, const float* beta, float* y) {
#pragma omp parallel for schedule(static) if (M > 16)
  for (int i = 0; i < M; ++i) {
    const float* r = x + static_cast<size_t>(i) * N;
    float* o = y + static_cast<size_t>(i) * N;
    float mean = 0.0f;
    for (int j = 0; j < N; ++j) mean += r[j];
    mean /= N;
    float var = 0.0f;
    for (int j = 0; j < N; ++j) var += (r[j] - mean) * (r[j] - mean);
    const float inv = 1.0f / std::sqrt(var / N + 1e-5f);
    for (int j = 0; j < N; ++j) o[j] = (r[j] - mean) * inv * gamma[j] + beta[j];
  }
}

void gelu(float* x, size_t n) {
  const int64_t nn = static_cast<int64_t>(n), n8 = nn / 8 * 8;
#pragma omp parallel for schedule(static) if (nn > 65536)
  for (int64_t i = 0; i < n8; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    const __m256 e = erf256(_mm256_mul_ps(v, _mm256_set1_ps(0.70710678118654752f)));
    _mm256_storeu_ps(
        x + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), v), _mm256_add_ps(_mm256_set1_ps(1.0f), e)));
  }
  for (int64_t i = n8; i < nn; ++i) x[i] = 0.5f * x[i] * (1.0f + erf_fast(x[i] * 0.70710678118654752f));
}

void softmax_rows(float* x, int M, int N) {
#pragma omp parallel for schedule(static) if (M > 8)
  for (int i = 0; i < M; ++i) {
    float* r = x + static_cast<size_t>(i) * N;
    int j = 0;
    __m256 vmax = _mm256_set1_ps(-INFINITY);
    for (; j + 8 <= N; j += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(r + j));
    float mx = hmax(vmax);
    for (; j < N; ++j) mx = std::max(mx, r[j]);
    if (mx == -INFINITY) mx = 0.0f;  // a fully masked row: leave it as zeros below, no NaN
    const __m256 vmx = _mm256_set1_ps(mx);
    __m256 vsum = _mm256_setzero_ps();
    for (j = 0; j + 8 <= N; j += 8) {
      const __m256 e = exp256_nonpos(_mm256_sub_ps(_mm256_loadu_ps(r + j), vmx));
      _mm256_storeu_ps(r + j, e);
      vsum = _mm256_add_ps(vsum, e);
    }
    float sum = hsum(vsum);
    for (; j < N; ++j) {
      r[j] = exp_nonpos(r[j] - mx);
      sum += r[j];
    }
    const __m256 inv = _mm256_set1_ps(sum > 0.0f ? 1.0f / sum : 0.0f);
    for (j = 0; j + 8 <= N; j += 8) _mm256_storeu_ps(r + j, _mm256_mul_ps(_mm256_loadu_ps(r + j), inv));
    for (; j < N; ++j) r[j] *= sum > 0.0f ? 1.0f / sum : 0.0f;
  }
}

float log_sum_exp(const float* x, int n) {
  int j = 0;
  __m256 vmax = _mm256_set1_ps(-INFINITY);
  for (; j + 8 <= n; j += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(x + j));
  float mx = hmax(vmax);
  for (; j < n; ++j) mx = std::max(mx, x[j]);
  if (mx == -INFINITY) return -INFINITY;
  const __m256 vmx = _mm256_set1_ps(mx);
  __m256 vsum = _mm256_setzero_ps();
  for (j = 0; j + 8 <= n; j += 8)
    vsum = _mm256_add_ps(vsum, exp256_nonpos(_mm256_sub_ps(_mm256_loadu_ps(x + j), vmx)));
  float sum = hsum(vsum);
  for (; j < n; ++j) sum += exp_nonpos(x[j] - mx);
  return mx + std::log(sum);
}

void add(float* y, const float* x, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] += x[i];
}

}  // namespace wisp::kernels
