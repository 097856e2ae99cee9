#include <immintrin.h>

#include <cstdint>

#include "backend/cpu/amx_tiles.h"

namespace wisp::backend::cpu {
namespace {

// The 64-byte operand of ldtilecfg: palette 1, every tile 16 rows of 64 bytes. A constant in static
// storage: built on the stack, GCC 12 dropped the row and column stores as dead (the builtin does not
// tell it that ldtilecfg reads them), which left every tile unconfigured.
struct alignas(64) TileConfig {
  uint8_t palette, start_row;
  uint8_t reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};
constexpr TileConfig kConfig = {1, 0, {}, {64, 64, 64, 64, 64, 64, 64, 64}, {16, 16, 16, 16, 16, 16, 16, 16}};

thread_local bool configured = false;

}  // namespace

void amx_use_tiles() {
  if (configured) return;
  _tile_loadconfig(&kConfig);
  configured = true;
}

}  // namespace wisp::backend::cpu
