// linear_f16.h with AVX-512: 16 lanes per FMA.
#include "backend/cpu/linear_f16.h"

#include "backend/cpu/linear_f16_rows.h"

namespace wisp::backend::cpu {
namespace {

struct Avx512 {
  using type = __m512;
  static constexpr int kLanes = 16;
  static __m512 zero() { return _mm512_setzero_ps(); }
  static __m512 load(const float* p) { return _mm512_loadu_ps(p); }
  static __m512 load_f16(const uint16_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static __m512 fmadd(__m512 a, __m512 b, __m512 c) { return _mm512_fmadd_ps(a, b, c); }
  static float sum(__m512 v) { return _mm512_reduce_add_ps(v); }
};

}  // namespace

void linear_f16_cols_avx512(const float* x, int M, int K, const uint16_t* W, int n0, int n1, float* y,
                            int ldy) {
  linear_f16_cols<Avx512>(x, M, K, W, n0, n1, y, ldy);
}

}  // namespace wisp::backend::cpu
