#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "backend/cpu/amx_tiles.h"

namespace wisp::backend::cpu {
namespace {

// The 64-byte operand of ldtilecfg: palette 1, eight tiles of 64-byte rows. A constant in static storage:
// built on the stack, GCC 12 dropped the row and column stores as dead (the builtin does not tell it that
// ldtilecfg reads them), which left every tile unconfigured.
struct alignas(64) TileConfig {
  uint8_t palette, start_row;
  uint8_t reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};

// kConfigs[r - 1]: tiles 0-5 with r rows, tiles 6-7 with 16.
constexpr TileConfig config(int r) {
  const auto n = static_cast<uint8_t>(r);
  return {1, 0, {}, {64, 64, 64, 64, 64, 64, 64, 64}, {n, n, n, n, n, n, 16, 16}};
}
constexpr TileConfig kConfigs[16] = {config(1),  config(2),  config(3),  config(4),  config(5),  config(6),
                                     config(7),  config(8),  config(9),  config(10), config(11), config(12),
                                     config(13), config(14), config(15), config(16)};

}  // namespace

void amx_use_tiles(int rows) {
  const TileConfig& want = kConfigs[std::clamp(rows, 1, 16) - 1];
  // Another library on this thread (oneDNN, for one) may have released the tiles or configured them
  // otherwise since our last call; a tile instruction on unconfigured tiles raises #UD (SIGILL). Reading
  // the configuration back is much cheaper than loading it, so check every time.
  alignas(64) TileConfig now;
  _tile_storeconfig(&now);
  if (std::memcmp(&now, &want, sizeof now) != 0) _tile_loadconfig(&want);
}

void amx_release_tiles() { _tile_release(); }

}  // namespace wisp::backend::cpu
