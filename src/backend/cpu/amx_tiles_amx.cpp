#include <immintrin.h>

#include <cstdint>
#include <cstring>

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

}  // namespace

void amx_use_tiles() {
  // Another library on this thread (oneDNN, for one) may have released the tiles or configured them
  // otherwise since our last call; a tile instruction on unconfigured tiles raises #UD (SIGILL). Reading
  // the configuration back is much cheaper than loading it, so check every time.
  alignas(64) TileConfig now;
  _tile_storeconfig(&now);
  if (std::memcmp(&now, &kConfig, sizeof now) != 0) _tile_loadconfig(&kConfig);
}

void amx_release_tiles() { _tile_release(); }

}  // namespace wisp::backend::cpu
