// Attention scores with AMX for head_dim 64: the query block stays in four tiles (32 rows × 2 halves of
// the head dimension) while the keys stream past one 16-key panel (two B tiles) at a time; each pair of
// accumulator tiles is stored straight into the score rows.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "backend/cpu/amx_tiles.h"
#include "backend/cpu/attention_kernels.h"

namespace wisp::backend::cpu {
void scores_amx_d64(const uint16_t* q, int rows, const uint16_t* keys, int L, float* S, int ld_s) {
  amx_use_tiles(std::min(rows, 16));  // a decoder step's few rows: tiles of that many rows
  const size_t s_stride = static_cast<size_t>(ld_s) * 4;
  const int panels = (L + 15) / 16;
  for (int r = 0; r < rows; r += 32) {
    const bool two = rows - r > 16;
    // Tiles 2-5: query rows [r, r+16) and [r+16, r+32), dims [0, 32) and [32, 64).
    _tile_loadd(2, q + static_cast<size_t>(r) * 64, 128);
    _tile_loadd(3, q + static_cast<size_t>(r) * 64 + 32, 128);
    if (two) {
      _tile_loadd(4, q + static_cast<size_t>(r + 16) * 64, 128);
      _tile_loadd(5, q + static_cast<size_t>(r + 16) * 64 + 32, 128);
    }
    auto* out = reinterpret_cast<uint8_t*>(S + static_cast<size_t>(r) * ld_s);
    for (int p = 0; p < panels; ++p) {
      const uint16_t* panel = keys + static_cast<size_t>(p) * 64 * 16;  // 32 pairs × 16 keys × 2
      _tile_loadd(6, panel, 64);                                        // pairs 0-15: dims 0-31
      _tile_loadd(7, panel + 16 * 32, 64);                              // pairs 16-31: dims 32-63
      _tile_zero(0);
      _tile_dpbf16ps(0, 2, 6);
      _tile_dpbf16ps(0, 3, 7);
      _tile_stored(0, out + p * 64, s_stride);
      if (two) {
        _tile_zero(1);
        _tile_dpbf16ps(1, 4, 6);
        _tile_dpbf16ps(1, 5, 7);
        _tile_stored(1, out + 16 * s_stride + p * 64, s_stride);
      }
    }
  }
}

}  // namespace wisp::backend::cpu
