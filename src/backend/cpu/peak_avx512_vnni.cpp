#include <immintrin.h>

#include "backend/cpu/peak.h"

namespace wisp::backend::cpu {

double peak_loop_vnni512(long iters) {
  __m512i a[12];
  for (int i = 0; i < 12; ++i) a[i] = _mm512_setzero_si512();
  const __m512i x = _mm512_set1_epi8(1), w = _mm512_set1_epi8(1);
  for (long it = 0; it < iters; ++it)
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) a[i] = _mm512_dpbusd_epi32(a[i], x, w);
  __m512i s = a[0];
  for (int i = 1; i < 12; ++i) s = _mm512_add_epi32(s, a[i]);
  volatile int sink = _mm512_reduce_add_epi32(s);
  (void)sink;
  return static_cast<double>(iters) * 12 * 64 * 2;
}

}  // namespace wisp::backend::cpu
