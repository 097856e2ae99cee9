// im2col_k3_row with AVX-512: 16 channels of the three positions (a, b, d) interleaved into 48 values
// a0 b0 d0 a1 b1 d1 … by two permutes per output vector.
#include <immintrin.h>

#include "backend/cpu/conv_im2col.h"

namespace wisp::backend::cpu {
namespace {

// Output vector v, lane l holds value j = 16v + l: position j % 3 (a, b, d), channel j / 3. Per vector the
// indices into (a, b) for vpermt2ps, into d, and the lanes that take d. Plain integers: no vector constant
// at namespace scope (its initialiser would run on CPUs without AVX-512).
struct Interleave {
  int ab[3][16] = {}, d[3][16] = {};
  uint16_t from_d[3] = {};
  constexpr Interleave() {
    for (int v = 0; v < 3; ++v)
      for (int l = 0; l < 16; ++l) {
        const int j = 16 * v + l, src = j % 3, c = j / 3;
        ab[v][l] = src == 1 ? 16 + c : c;
        d[v][l] = c;
        if (src == 2) from_d[v] = static_cast<uint16_t>(from_d[v] | (1u << l));
      }
  }
};
constexpr Interleave kInterleave;

}  // namespace

void im2col_k3_row_avx512(const Im2colK3& s, int t, float* row) {
  if (s.ldc != 1 || s.C % 16 != 0) {
    im2col_k3_row(s, t, row);
    return;
  }
  const float* src[3];
  for (int k = 0; k < 3; ++k) {
    const int p = t * s.stride + k - 1;
    src[k] = p >= 0 && p < s.T_in ? s.x + static_cast<int64_t>(p) * s.ldx : nullptr;
  }
  __m512i ab[3], d[3];
  for (int v = 0; v < 3; ++v) {
    ab[v] = _mm512_loadu_si512(kInterleave.ab[v]);
    d[v] = _mm512_loadu_si512(kInterleave.d[v]);
  }
  for (int c = 0; c < s.C; c += 16) {
    const __m512 a = src[0] ? _mm512_loadu_ps(src[0] + c) : _mm512_setzero_ps();
    const __m512 b = src[1] ? _mm512_loadu_ps(src[1] + c) : _mm512_setzero_ps();
    const __m512 e = src[2] ? _mm512_loadu_ps(src[2] + c) : _mm512_setzero_ps();
    for (int v = 0; v < 3; ++v) {
      const __m512 x = _mm512_permutex2var_ps(a, ab[v], b);
      _mm512_storeu_ps(row + 3 * c + 16 * v, _mm512_mask_permutexvar_ps(x, kInterleave.from_d[v], d[v], e));
    }
  }
}

}  // namespace wisp::backend::cpu
