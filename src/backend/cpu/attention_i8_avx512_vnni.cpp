// Cross-attention over an int8 cache with AVX-512 VNNI (head_dim 64; attention_kernels.h, attention_i8.h),
// for CPUs without AMX: query by query, vpdpbusd multiplies the keys (+ 128, unsigned) by a broadcast
// group of 4 query bytes (signed), and a broadcast group of 4 probability bytes (unsigned) by the values
// (signed); the high and the low bytes in sums of their own, eight in flight.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "backend/cpu/attention_i8.h"
#include "backend/cpu/attention_kernels.h"

namespace wisp::backend::cpu {

using i8attn::kDh;

void attention_head_i8_vnni(const I8HeadJob& job, void* scratch) {
  const i8attn::Scratch s = i8attn::begin(job, scratch);
  const int rows = job.rows;

  // Scores: four 16-key panels at a time; a panel's row g holds dims 4g..4g+3 of its 16 keys.
  const int panels = (job.L + 15) / 16;
  const auto* kp = reinterpret_cast<const __m512i*>(job.keys);
  for (int i = 0; i < rows; ++i) {
    const auto* qh = reinterpret_cast<const int32_t*>(s.q + 2 * i * kDh);
    const auto* ql = reinterpret_cast<const int32_t*>(s.q + (2 * i + 1) * kDh);
    int32_t* hi_row = s.scores + static_cast<size_t>(2 * i) * s.lp;
    int32_t* lo_row = hi_row + s.lp;
    for (int p = 0; p < panels; p += 4) {
      const int np = std::min(4, panels - p);
      __m512i hi[4], lo[4];
      for (int k = 0; k < 4; ++k) hi[k] = lo[k] = _mm512_setzero_si512();
      for (int g = 0; g < 16; ++g) {
        const __m512i bh = _mm512_set1_epi32(qh[g]), bl = _mm512_set1_epi32(ql[g]);
        for (int k = 0; k < np; ++k) {
          const __m512i z = _mm512_loadu_si512(kp + (p + k) * 16 + g);
          hi[k] = _mm512_dpbusd_epi32(hi[k], z, bh);
          lo[k] = _mm512_dpbusd_epi32(lo[k], z, bl);
        }
      }
      for (int k = 0; k < np; ++k) {
        _mm512_storeu_si512(hi_row + (p + k) * 16, hi[k]);
        _mm512_storeu_si512(lo_row + (p + k) * 16, lo[k]);
      }
    }
  }

  i8attn::softmax(s, job);

  // Values: four keys at a time into all four 16-dim panels; a panel's row holds 16 dims of 4 keys.
  const size_t panel = static_cast<size_t>(job.value_depth / 4);  // 64-byte rows per 16-dim panel
  const auto* vp = reinterpret_cast<const __m512i*>(job.values);
  for (int i = 0; i < rows; ++i) {
    const auto* ph = reinterpret_cast<const int32_t*>(s.probs + static_cast<size_t>(2 * i) * s.lp);
    const auto* pl = reinterpret_cast<const int32_t*>(s.probs + static_cast<size_t>(2 * i + 1) * s.lp);
    __m512i hi[4], lo[4];
    for (int d = 0; d < 4; ++d) hi[d] = lo[d] = _mm512_setzero_si512();
    const int groups = (job.visible[i] + 3) / 4;
    for (int g = 0; g < groups; ++g) {
      const __m512i bh = _mm512_set1_epi32(ph[g]), bl = _mm512_set1_epi32(pl[g]);
      for (int d = 0; d < 4; ++d) {
        const __m512i z = _mm512_loadu_si512(vp + d * panel + g);
        hi[d] = _mm512_dpbusd_epi32(hi[d], bh, z);
        lo[d] = _mm512_dpbusd_epi32(lo[d], bl, z);
      }
    }
    for (int d = 0; d < 4; ++d) {
      _mm512_storeu_si512(s.out + 2 * i * kDh + d * 16, hi[d]);
      _mm512_storeu_si512(s.out + (2 * i + 1) * kDh + d * 16, lo[d]);
    }
  }

  i8attn::finish(s, job);
}

}  // namespace wisp::backend::cpu
