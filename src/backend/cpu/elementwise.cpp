#include "backend/cpu/elementwise.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "backend/cpu/simd_avx2.h"
#include "core/half.h"

namespace wisp::backend::cpu {
namespace {

float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

float hmax(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// A reduction over x[0, n rounded down to 8) in four running accumulators — one would make every step wait
// for the previous one (a vocabulary row of 51,864 is 6,483 vectors; a row of 384, 48): acc = step(acc, 8
// values), the four combined as combine(combine(a0, a1), combine(a2, a3)). *done: the values it covered.
template <typename Step, typename Combine>
__m256 fold4(const float* x, int n, __m256 init, Step step, Combine combine, int* done) {
  __m256 a0 = init, a1 = init, a2 = init, a3 = init;
  int j = 0;
  for (; j + 32 <= n; j += 32) {
    a0 = step(a0, _mm256_loadu_ps(x + j));
    a1 = step(a1, _mm256_loadu_ps(x + j + 8));
    a2 = step(a2, _mm256_loadu_ps(x + j + 16));
    a3 = step(a3, _mm256_loadu_ps(x + j + 24));
  }
  for (; j + 8 <= n; j += 8) a0 = step(a0, _mm256_loadu_ps(x + j));
  *done = j;
  return combine(combine(a0, a1), combine(a2, a3));
}

constexpr auto max8 = [](__m256 a, __m256 b) { return _mm256_max_ps(a, b); };
constexpr auto add8 = [](__m256 a, __m256 b) { return _mm256_add_ps(a, b); };

float row_max(const float* x, int n) {
  int j = 0;
  float mx = hmax(fold4(x, n, _mm256_set1_ps(-INFINITY), max8, max8, &j));
  for (; j < n; ++j) mx = std::max(mx, x[j]);
  return mx;
}

// exp(x − mx) for x <= mx, one at a time: the vector routine on one lane.
float exp_nonpos1(float x) { return _mm256_cvtss_f32(avx2::exp_nonpos(_mm256_set1_ps(x))); }

}  // namespace

float max_of(const float* x, int n) { return n > 0 ? row_max(x, n) : -INFINITY; }

int argmax(const float* x, int n) {
  if (n <= 0) return 0;
  const float mx = row_max(x, n);
  const __m256 vmx = _mm256_set1_ps(mx);
  int j = 0;
  for (; j + 8 <= n; j += 8)
    if (const int hit = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(x + j), vmx, _CMP_EQ_OQ)); hit)
      return j + __builtin_ctz(static_cast<unsigned>(hit));
  for (; j < n; ++j)
    if (x[j] == mx) return j;
  return static_cast<int>(std::max_element(x, x + n) - x);  // a NaN as the maximum: as std::max_element
}

namespace {

// Inserts index i into out (sorted by value, largest first, earlier index first among equals), keeping at
// most k.
void insert_ranked(const float* x, int i, int k, std::vector<int>& out) {
  auto pos = std::upper_bound(out.begin(), out.end(), i, [&](int a, int b) { return x[a] > x[b]; });
  out.insert(pos, i);
  if (static_cast<int>(out.size()) > k) out.pop_back();
}

}  // namespace

void top_k(const float* x, int n, int k, std::vector<int>& out) {
  out.clear();
  if (k <= 0) return;
  int i = 0;
  for (; i < n && static_cast<int>(out.size()) < k; ++i) insert_ranked(x, i, k, out);
  // From here a value is taken only if it beats the k-th (!(x <= kth), as the scalar test: a NaN on either
  // side goes to the scalar path). Eight at a time: after the first few hundred entries nearly every block
  // holds none, and costs one compare.
  for (; i + 8 <= n; i += 8) {
    const __m256 kth = _mm256_set1_ps(x[out.back()]);
    unsigned hit =
        static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(x + i), kth, _CMP_NLE_UQ)));
    while (hit) {
      const int j = i + __builtin_ctz(hit);
      hit &= hit - 1;
      if (!(x[j] <= x[out.back()])) insert_ranked(x, j, k, out);  // the k-th may have risen since
    }
  }
  for (; i < n; ++i)
    if (!(x[i] <= x[out.back()])) insert_ranked(x, i, k, out);
}

void layer_norm_row(const float* x, int n, const float* gamma, const float* beta, float* y) {
  int j = 0;
  float sum = hsum(fold4(x, n, _mm256_setzero_ps(), add8, add8, &j));
  for (; j < n; ++j) sum += x[j];
  const float mean = sum / static_cast<float>(n);
  const __m256 vmean = _mm256_set1_ps(mean);
  const auto square = [&](__m256 acc, __m256 v) {
    const __m256 d = _mm256_sub_ps(v, vmean);
    return _mm256_fmadd_ps(d, d, acc);
  };
  float var = hsum(fold4(x, n, _mm256_setzero_ps(), square, add8, &j));
  for (; j < n; ++j) var += (x[j] - mean) * (x[j] - mean);
  const float inv = 1.0f / std::sqrt(var / static_cast<float>(n) + 1e-5f);
  const __m256 vinv = _mm256_set1_ps(inv);
  for (j = 0; j + 8 <= n; j += 8) {
    const __m256 d = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + j), vmean), vinv);
    _mm256_storeu_ps(y + j, _mm256_fmadd_ps(d, _mm256_loadu_ps(gamma + j), _mm256_loadu_ps(beta + j)));
  }
  for (; j < n; ++j) y[j] = (x[j] - mean) * inv * gamma[j] + beta[j];
}

void softmax_row(float* r, int n) {
  float mx = row_max(r, n);
  if (mx == -INFINITY) mx = 0.0f;  // a fully masked row: zeros below, no NaN
  const __m256 vmx = _mm256_set1_ps(mx);
  __m256 vsum = _mm256_setzero_ps();
  int j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m256 e = avx2::exp_nonpos(_mm256_sub_ps(_mm256_loadu_ps(r + j), vmx));
    _mm256_storeu_ps(r + j, e);
    vsum = _mm256_add_ps(vsum, e);
  }
  float sum = hsum(vsum);
  for (; j < n; ++j) {
    r[j] = exp_nonpos1(r[j] - mx);
    sum += r[j];
  }
  scale_inplace(r, static_cast<size_t>(n), sum > 0.0f ? 1.0f / sum : 0.0f);
}

float log_sum_exp(const float* x, int n) { return log_sum_exp(x, n, row_max(x, n)); }

float log_sum_exp(const float* x, int n, float mx) {
  if (mx == -INFINITY) return -INFINITY;
  const __m256 vmx = _mm256_set1_ps(mx);
  __m256 vsum = _mm256_setzero_ps();
  int j = 0;
  for (; j + 8 <= n; j += 8)
    vsum = _mm256_add_ps(vsum, avx2::exp_nonpos(_mm256_sub_ps(_mm256_loadu_ps(x + j), vmx)));
  float sum = hsum(vsum);
  for (; j < n; ++j) sum += exp_nonpos1(x[j] - mx);
  return mx + std::log(sum);
}

void gelu_inplace(float* x, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, avx2::gelu(_mm256_loadu_ps(x + i)));
  if (i < n) {
    const int rest = static_cast<int>(n - i);
    const __m256i mask = avx2::first_lanes(rest);
    _mm256_maskstore_ps(x + i, mask, avx2::gelu(_mm256_maskload_ps(x + i, mask)));
  }
}

void add_inplace(float* y, const float* x, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(y + i), _mm256_loadu_ps(x + i)));
  for (; i < n; ++i) y[i] += x[i];
}

void scale_inplace(float* x, size_t n, float s) {
  const __m256 vs = _mm256_set1_ps(s);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), vs));
  for (; i < n; ++i) x[i] *= s;
}

void widen_f16(const void* x, float* y, size_t n) {
  const auto* bytes = static_cast<const unsigned char*>(x);
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i,
                     _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes + 2 * i))));
  for (; i < n; ++i) y[i] = _cvtsh_ss(load_u16(x, i));
}

}  // namespace wisp::backend::cpu
