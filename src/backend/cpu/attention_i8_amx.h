// What the int8 and int4 AMX cross-attention kernels (attention_i8_amx.cpp, attention_i4_amx.cpp) share:
// the value products. Included only by translation units built with AMX's flags (*_amx.cpp).
#pragma once

#include <immintrin.h>

#include <cstddef>

#include "backend/cpu/attention_i8.h"

namespace wisp::backend::cpu::i8attn {

// s.out = P · V: per block of 8 queries, tile 5 their probabilities' bytes (s.probs) for 64 keys, tiles
// 6/7 in turn a 16-dim panel of those keys' values, tiles 0-3 the four panels' products, accumulated over
// the keys. panel(p, b): the 1 KB B tile of dims 16p..16p+15 for keys 64b..64b+63 (signed bytes, the
// int8 layout), valid until the next call but one. (Tile numbers must be literals: the loop is written out.)
template <typename Panel>
void value_products_amx(const Scratch& s, Panel&& panel) {
  const int blocks = s.lp / 64;
  for (int r = 0; r < s.r2; r += 16) {
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    for (int b = 0; b < blocks; ++b) {
      _tile_loadd(5, s.probs + static_cast<size_t>(r) * s.lp + b * 64, s.lp);
      _tile_loadd(6, panel(0, b), 64);
      _tile_dpbusd(0, 5, 6);
      _tile_loadd(7, panel(1, b), 64);
      _tile_dpbusd(1, 5, 7);
      _tile_loadd(6, panel(2, b), 64);
      _tile_dpbusd(2, 5, 6);
      _tile_loadd(7, panel(3, b), 64);
      _tile_dpbusd(3, 5, 7);
    }
    _tile_stored(0, s.out + r * kDh, kDh * 4);
    _tile_stored(1, s.out + r * kDh + 16, kDh * 4);
    _tile_stored(2, s.out + r * kDh + 32, kDh * 4);
    _tile_stored(3, s.out + r * kDh + 48, kDh * 4);
  }
}

}  // namespace wisp::backend::cpu::i8attn
