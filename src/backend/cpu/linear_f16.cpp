// linear_f16.h with AVX2 + F16C: 8 lanes per FMA.
#include "backend/cpu/linear_f16.h"

#include "backend/cpu/linear_f16_rows.h"

namespace wisp::backend::cpu {
namespace {

struct Avx2 {
  using type = __m256;
  static constexpr int kLanes = 8;
  static __m256 zero() { return _mm256_setzero_ps(); }
  static __m256 load(const float* p) { return _mm256_loadu_ps(p); }
  static __m256 load_f16(const uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static __m256 fmadd(__m256 a, __m256 b, __m256 c) { return _mm256_fmadd_ps(a, b, c); }
  static float sum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
};

}  // namespace

void linear_f16_cols_avx2(const float* x, int M, int K, const uint16_t* W, int n0, int n1, float* y,
                          int ldy) {
  linear_f16_cols<Avx2>(x, M, K, W, n0, n1, y, ldy);
}

}  // namespace wisp::backend::cpu
