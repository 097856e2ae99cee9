// Cross-attention over an int8 cache with AMX (head_dim 64; attention_kernels.h, attention_i8.h): a
// query's (or its probabilities') high and low bytes in two rows of one tile, so a single product per 16-key
// panel (tdpbsud: signed query bytes, keys + 128 unsigned) or per 16-dim value panel (tdpbusd: unsigned
// probability bytes, signed values) gives both halves.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "backend/cpu/amx_tiles.h"
#include "backend/cpu/attention_i8.h"
#include "backend/cpu/attention_i8_amx.h"
#include "backend/cpu/attention_kernels.h"

namespace wisp::backend::cpu {

using i8attn::kDh;

void attention_head_i8_amx(const I8HeadJob& job, void* scratch) {
  const i8attn::Scratch s = i8attn::begin(job, scratch);
  const auto* keys = static_cast<const uint8_t*>(job.keys);
  const int panels = (job.L + 15) / 16;
  const size_t ld_s = static_cast<size_t>(s.lp) * 4;  // bytes
  // Scores: per block of 8 queries, tile 5 their bytes (s8), tiles 6/7 in turn a 16-key panel (u8), tiles 0-4
  // the products of five panels (a result tile waits for its store before it takes the next panel).
  amx_use_tiles(std::min(s.r2, 16));
  for (int r = 0; r < s.r2; r += 16) {
    _tile_loadd(5, s.q + r * kDh, kDh);
    auto* row = reinterpret_cast<uint8_t*>(s.scores + static_cast<size_t>(r) * s.lp);
    for (int p = 0; p < panels; p += 5) {
      const int np = std::min(5, panels - p);
// Panel p + J into result tile J through B tile B (tile numbers must be literals).
#define WISP_SCORE_PANEL(J, B)                                      \
  if ((J) < np) {                                                   \
    _tile_loadd(B, keys + static_cast<size_t>(p + (J)) * 1024, 64); \
    _tile_zero(J);                                                  \
    _tile_dpbsud(J, 5, B);                                          \
    _tile_stored(J, row + (p + (J)) * 64, ld_s);                    \
  }
      WISP_SCORE_PANEL(0, 6)
      WISP_SCORE_PANEL(1, 7)
      WISP_SCORE_PANEL(2, 6)
      WISP_SCORE_PANEL(3, 7)
      WISP_SCORE_PANEL(4, 6)
#undef WISP_SCORE_PANEL
    }
  }

  i8attn::softmax(s, job);

  // Values: the panels where they lie (value_depth / 4 rows of 64 bytes per 16-dim panel).
  const auto* values = static_cast<const int8_t*>(job.values);
  const size_t panel_bytes = static_cast<size_t>(job.value_depth / 4) * 64;
  i8attn::value_products_amx(
      s, [&](int p, int b) { return values + p * panel_bytes + static_cast<size_t>(b) * 1024; });

  i8attn::finish(s, job);
}

}  // namespace wisp::backend::cpu
