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
  // Each B tile is unpacked one tile ahead of its load, into the other of two buffers: a tile loaded
  // right after the stores that wrote it waits for them to reach L1 (the tile loads were the kernel's
  // hottest instructions; unpacked ahead, beams' cross-attention takes 10-13 % less time).
  alignas(64) int8_t tile[2][2048];
  const __m512i low = _mm512_set1_epi8(15), k120 = _mm512_set1_epi8(120), eight = _mm512_set1_epi8(8);

  // Scores: per block of 8 queries, tile 5 their bytes (s8); per 32-key block, tiles 6/7 its two panels
  // (u8; the block's 2 KB in one buffer), tiles 0/1 their products.
  auto unpack_keys = [&](int b, int8_t* dst) {
    for (int g = 0; g < 16; ++g) {
      const __m512i x = _mm512_loadu_si512(keys + b * 16 + g);
      _mm512_store_si512(dst + 64 * g, _mm512_add_epi8(_mm512_and_si512(x, low), k120));
      _mm512_store_si512(dst + 1024 + 64 * g,
                         _mm512_add_epi8(_mm512_and_si512(_mm512_srli_epi16(x, 4), low), k120));
    }
  };
  amx_use_tiles(std::min(s.r2, 16));
  for (int r = 0; r < s.r2; r += 16) {
    _tile_loadd(5, s.q + r * kDh, kDh);
    auto* row = reinterpret_cast<uint8_t*>(s.scores + static_cast<size_t>(r) * s.lp);
    unpack_keys(0, tile[0]);
    for (int b = 0; b < blocks; ++b) {
      if (b + 1 < blocks) unpack_keys(b + 1, tile[(b + 1) & 1]);
      _tile_loadd(6, tile[b & 1], 64);
      _tile_loadd(7, tile[b & 1] + 1024, 64);
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
  // bytes. The products ask for the panels in a fixed order (per 16 rows: per 64 keys: panels 0-3), so the
  // n-th tile asked for is in buffer n % 2 and the next one is unpacked into the other as it is handed out.
  const auto* values = static_cast<const __m512i*>(job.values);
  const size_t panel = static_cast<size_t>(job.value_depth / 8);
  const int value_blocks = s.lp / 64;
  auto unpack_values = [&](int p, int b, int8_t* dst) {
    for (int g = 0; g < 8; ++g) {
      const __m512i x = _mm512_loadu_si512(values + p * panel + b * 8 + g);
      _mm512_store_si512(dst + 128 * g, _mm512_sub_epi8(_mm512_and_si512(x, low), eight));
      _mm512_store_si512(dst + 128 * g + 64,
                         _mm512_sub_epi8(_mm512_and_si512(_mm512_srli_epi16(x, 4), low), eight));
    }
  };
  unpack_values(0, 0, tile[0]);
  int handed = 0;
  i8attn::value_products_amx(s, [&](int p, int b) {
    int8_t* mine = tile[handed & 1];
    ++handed;
    if (p < 3)
      unpack_values(p + 1, b, tile[handed & 1]);
    else
      unpack_values(0, b + 1 < value_blocks ? b + 1 : 0, tile[handed & 1]);  // or the next 16 rows' first
    return mine;
  });

  i8attn::finish(s, job);
}

}  // namespace wisp::backend::cpu
