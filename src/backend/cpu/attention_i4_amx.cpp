// Cross-attention over an int4 cache with AMX (head_dim 64; attention_kernels.h): the int8 AMX kernel's
// products (attention_i8_amx.cpp), each B tile unpacked from its nibbles into L1 just before it is loaded —
// a key block's two 16-key panels (+ 128, as the int8 keys), a value panel's 64 positions (signed). For
// beams and a prompt's rows; one or two rows take the VNNI kernel (attention_i4_avx512_vnni.cpp).
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "backend/cpu/amx_tiles.h"
#include "backend/cpu/attention_i8.h"
#include "backend/cpu/attention_i8_amx.h"
#include "backend/cpu/attention_kernels.h"

namespace wisp::backend::cpu {

using i8attn::kDh;

void attention_head_i4_amx(const I8HeadJob& job, void* scratch) {
  const i8attn::Scratch s = i8attn::begin(job, scratch);  // int8 offsets: the keys are unpacked + 128
  const auto* keys = static_cast<const __m512i*>(job.keys);
  const int blocks = (job.L + 31) / 32;
  const size_t ld_s = static_cast<size_t>(s.lp) * 4;  // bytes
  alignas(64) int8_t tile[2][1024];                   // two B tiles' bytes
  const __m512i low = _mm512_set1_epi8(15), k120 = _mm512_set1_epi8(120), eight = _mm512_set1_epi8(8);

  // Scores: per block of 8 queries, tile 5 their bytes (s8); per 32-key block, tiles 6/7 its two panels
  // (u8), tiles 0/1 their products.
  amx_use_tiles(std::min(s.r2, 16));
  for (int r = 0; r < s.r2; r += 16) {
    _tile_loadd(5, s.q + r * kDh, kDh);
    auto* row = reinterpret_cast<uint8_t*>(s.scores + static_cast<size_t>(r) * s.lp);
    for (int b = 0; b < blocks; ++b) {
      for (int g = 0; g < 16; ++g) {
        const __m512i x = _mm512_loadu_si512(keys + b * 16 + g);
        _mm512_store_si512(tile[0] + 64 * g, _mm512_add_epi8(_mm512_and_si512(x, low), k120));
        _mm512_store_si512(tile[1] + 64 * g,
                           _mm512_add_epi8(_mm512_and_si512(_mm512_srli_epi16(x, 4), low), k120));
      }
      _tile_loadd(6, tile[0], 64);
      _tile_loadd(7, tile[1], 64);
      _tile_zero(0);
      _tile_zero(1);
      _tile_dpbsud(0, 5, 6);
      _tile_dpbsud(1, 5, 7);
      _tile_stored(0, row + b * 128, ld_s);
      _tile_stored(1, row + b * 128 + 64, ld_s);
    }
  }

  i8attn::softmax(s, job);

  // Values: each panel's 8 rows of nibbles (value_depth / 8 per panel) unpacked into a B tile of signed
  // bytes, the two tiles in turn.
  const auto* values = static_cast<const __m512i*>(job.values);
  const size_t panel = static_cast<size_t>(job.value_depth / 8);
  i8attn::value_products_amx(s, [&](int p, int b) {
    int8_t* dst = tile[p & 1];
    for (int g = 0; g < 8; ++g) {
      const __m512i x = _mm512_loadu_si512(values + p * panel + b * 8 + g);
      _mm512_store_si512(dst + 128 * g, _mm512_sub_epi8(_mm512_and_si512(x, low), eight));
      _mm512_store_si512(dst + 128 * g + 64,
                         _mm512_sub_epi8(_mm512_and_si512(_mm512_srli_epi16(x, 4), low), eight));
    }
    return dst;
  });

  i8attn::finish(s, job);
}

}  // namespace wisp::backend::cpu
