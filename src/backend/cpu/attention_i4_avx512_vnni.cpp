// Cross-attention over an int4 cache (head_dim 64; attention_kernels.h): half the bytes of the int8 cache,
// which is what a batched decoder step spends its time reading (every window's keys and values, from L3 or
// memory, for a token per window).
//
// The nibbles are the int8 layouts' bytes two to a byte (a key block's two 16-key panels, a value panel's
// two rows of 4 positions), so a 64-byte load and two masks give two int8 operands, and the arithmetic is
// the int8 kernels': queries in 15-bit and probabilities in 16-bit fixed point, their high and low bytes
// multiplied apart (attention_i8.h), keys + 8 (unsigned) by vpdpbusd. All the rows of a job are multiplied
// by each loaded operand, so beams read a head's keys and values once.
// On AMX machines, beams and prompts take attention_i4_amx.cpp.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "backend/cpu/attention_i8.h"
#include "backend/cpu/attention_kernels.h"

namespace wisp::backend::cpu {
namespace {

using i8attn::kDh;

// How far ahead the kernels prefetch: a batched step reads every window's cache once, from L3 or memory,
// and the hardware's prefetcher alone leaves the single row's products waiting on it (an 8-window base step
// took 12 % longer without). Keys: 16 blocks of 32 (16 KB) ahead of the blocks being multiplied; values:
// 32 rows of a panel (2 KB) ahead in each panel read.
constexpr int kKeyBlocksAhead = 16;
constexpr int kValueRowsAhead = 32;

// The two int8 operands in a 64-byte load of nibbles: the low nibbles, the high nibbles. (No vector constant
// at namespace scope: its initialiser would run at start-up on CPUs without AVX-512.)
inline __m512i low_nibbles(__m512i x) { return _mm512_and_si512(x, _mm512_set1_epi8(15)); }
inline __m512i high_nibbles(__m512i x) {
  return _mm512_and_si512(_mm512_srli_epi16(x, 4), _mm512_set1_epi8(15));
}

// Scores of R rows (pairs of byte rows in s.q) against NB key blocks of 32 from block b: Σ q_byte · (k + 8)
// into rows 2i (high bytes) and 2i + 1 (low bytes) of s.scores.
template <int R, int NB>
void score_blocks(const i8attn::Scratch& s, int i0, const uint8_t* keys, int b) {
  __m512i acc[R][NB][4];  // [row][block][high·panel 0, high·panel 1, low·panel 0, low·panel 1]
  for (int i = 0; i < R; ++i)
    for (int n = 0; n < NB; ++n)
      for (int a = 0; a < 4; ++a) acc[i][n][a] = _mm512_setzero_si512();
  const auto* kp = reinterpret_cast<const __m512i*>(keys) + static_cast<size_t>(b) * 16;
  for (int g = 0; g < 16; ++g) {
    __m512i z[NB][2];
    for (int n = 0; n < NB; ++n)  // (a prefetch past the cache's end is dropped, never a fault)
      _mm_prefetch(reinterpret_cast<const char*>(kp + (kKeyBlocksAhead + n) * 16 + g), _MM_HINT_T0);
    for (int n = 0; n < NB; ++n) {
      const __m512i x = _mm512_loadu_si512(kp + n * 16 + g);
      z[n][0] = low_nibbles(x);
      z[n][1] = high_nibbles(x);
    }
    for (int i = 0; i < R; ++i) {
      const auto* q = reinterpret_cast<const int32_t*>(s.q + 2 * (i0 + i) * kDh);
      const __m512i bh = _mm512_set1_epi32(q[g]), bl = _mm512_set1_epi32(q[g + kDh / 4]);
      for (int n = 0; n < NB; ++n) {
        acc[i][n][0] = _mm512_dpbusd_epi32(acc[i][n][0], z[n][0], bh);
        acc[i][n][1] = _mm512_dpbusd_epi32(acc[i][n][1], z[n][1], bh);
        acc[i][n][2] = _mm512_dpbusd_epi32(acc[i][n][2], z[n][0], bl);
        acc[i][n][3] = _mm512_dpbusd_epi32(acc[i][n][3], z[n][1], bl);
      }
    }
  }
  for (int i = 0; i < R; ++i) {
    int32_t* hi = s.scores + static_cast<size_t>(2 * (i0 + i)) * s.lp + b * 32;
    int32_t* lo = hi + s.lp;
    for (int n = 0; n < NB; ++n) {
      _mm512_storeu_si512(hi + 32 * n, acc[i][n][0]);
      _mm512_storeu_si512(hi + 32 * n + 16, acc[i][n][1]);
      _mm512_storeu_si512(lo + 32 * n, acc[i][n][2]);
      _mm512_storeu_si512(lo + 32 * n + 16, acc[i][n][3]);
    }
  }
}

template <int R>
void scores(const i8attn::Scratch& s, int i0, const uint8_t* keys, int blocks) {
  constexpr int NB = R == 1 ? 4 : R == 2 ? 2 : 1;  // blocks in flight: 16 sums, or R · 4
  int b = 0;
  for (; b + NB <= blocks; b += NB) score_blocks<R, NB>(s, i0, keys, b);
  for (; b < blocks; ++b) score_blocks<R, 1>(s, i0, keys, b);
}

// Outputs of R rows: Σ p_byte · v over the value panels' rows of 8 positions up to `groups` of them, into
// rows 2i (high bytes) and 2i + 1 (low bytes) of s.out. P panels at a time, with A sums per row, panel and
// byte (A = 2: the two nibbles' products in sums of their own), so that 16 chains of vpdpbusd are in flight
// (one row and panel at a time, two chains waited on their own latency).
template <int R, int P, int A>
void output_panels(const i8attn::Scratch& s, int i0, const uint8_t* values, size_t panel_bytes, int groups,
                   int p0) {
  const __m512i eight = _mm512_set1_epi8(8);
  __m512i acc[R][P][2][A];  // [row][panel][high, low byte][nibble]
  for (int i = 0; i < R; ++i)
    for (int p = 0; p < P; ++p)
      for (int h = 0; h < 2; ++h)
        for (int a = 0; a < A; ++a) acc[i][p][h][a] = _mm512_setzero_si512();
  const int32_t* pr[R][2];
  for (int i = 0; i < R; ++i)
    for (int h = 0; h < 2; ++h)
      pr[i][h] = reinterpret_cast<const int32_t*>(s.probs + static_cast<size_t>(2 * (i0 + i) + h) * s.lp);
  for (int g = 0; g < groups; ++g)
    for (int p = 0; p < P; ++p) {
      const auto* rows = reinterpret_cast<const __m512i*>(values + (p0 + p) * panel_bytes);
      _mm_prefetch(reinterpret_cast<const char*>(rows + g + kValueRowsAhead), _MM_HINT_T0);
      const __m512i x = _mm512_loadu_si512(rows + g);
      const __m512i z0 = _mm512_sub_epi8(low_nibbles(x), eight), z1 = _mm512_sub_epi8(high_nibbles(x), eight);
      for (int i = 0; i < R; ++i)
        for (int h = 0; h < 2; ++h) {
          acc[i][p][h][0] = _mm512_dpbusd_epi32(acc[i][p][h][0], _mm512_set1_epi32(pr[i][h][2 * g]), z0);
          acc[i][p][h][A - 1] =
              _mm512_dpbusd_epi32(acc[i][p][h][A - 1], _mm512_set1_epi32(pr[i][h][2 * g + 1]), z1);
        }
    }
  for (int i = 0; i < R; ++i)
    for (int p = 0; p < P; ++p)
      for (int h = 0; h < 2; ++h) {
        const __m512i sum = A == 2 ? _mm512_add_epi32(acc[i][p][h][0], acc[i][p][h][A - 1]) : acc[i][p][h][0];
        _mm512_storeu_si512(s.out + (2 * (i0 + i) + h) * kDh + (p0 + p) * 16, sum);
      }
}

template <int R>
void outputs(const i8attn::Scratch& s, int i0, const uint8_t* values, size_t panel_bytes, int groups) {
  if constexpr (R == 1) {
    output_panels<1, 4, 2>(s, i0, values, panel_bytes, groups, 0);
  } else if constexpr (R == 2) {
    output_panels<2, 4, 1>(s, i0, values, panel_bytes, groups, 0);
  } else {
    output_panels<R, 2, 1>(s, i0, values, panel_bytes, groups, 0);
    output_panels<R, 2, 1>(s, i0, values, panel_bytes, groups, 2);
  }
}

// Rows in groups of up to four (R · 4 · blocks-in-flight sums in registers).
template <typename F>
void by_row_groups(int rows, F&& f) {
  for (int i0 = 0; i0 < rows;) {
    const int n = std::min(4, rows - i0);
    f(i0, n);
    i0 += n;
  }
}

}  // namespace

void attention_head_i4_vnni(const I8HeadJob& job, void* scratch) {
  i8attn::Scratch s = i8attn::begin(job, scratch);
  for (int i = 0; i < job.rows; ++i) s.offset[i] /= 16;  // keys + 8, not + 128: 8 · Σ q15
  const auto* keys = reinterpret_cast<const uint8_t*>(job.keys);
  const int blocks = (job.L + 31) / 32;
  by_row_groups(job.rows, [&](int i0, int n) {
    if (n == 1)
      scores<1>(s, i0, keys, blocks);
    else if (n == 2)
      scores<2>(s, i0, keys, blocks);
    else if (n == 3)
      scores<3>(s, i0, keys, blocks);
    else
      scores<4>(s, i0, keys, blocks);
  });

  i8attn::softmax(s, job);

  const auto* values = reinterpret_cast<const uint8_t*>(job.values);
  const size_t panel_bytes = static_cast<size_t>(job.value_depth / 8) * 64;
  int max_visible = 0;
  for (int i = 0; i < job.rows; ++i) max_visible = std::max(max_visible, job.visible[i]);
  const int groups = (max_visible + 7) / 8;  // probabilities past a row's visible keys are zeros
  by_row_groups(job.rows, [&](int i0, int n) {
    if (n == 1)
      outputs<1>(s, i0, values, panel_bytes, groups);
    else if (n == 2)
      outputs<2>(s, i0, values, panel_bytes, groups);
    else if (n == 3)
      outputs<3>(s, i0, values, panel_bytes, groups);
    else
      outputs<4>(s, i0, values, panel_bytes, groups);
  });

  i8attn::finish(s, job);
}

}  // namespace wisp::backend::cpu
