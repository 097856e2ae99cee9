// Internal to the CPU kernels: the table of register-tile functions of a GEMM kernel, one per (rows, column
// vectors) size up to the kernel's maximum, and the loop that covers a block of the output with them (the
// full tile inside, smaller ones on the edges). Each kernel file defines its own Tile<MR, NV>::run.
// Everything here has internal linkage (the unnamed namespace): every ISA translation unit gets its own
// copy, so the linker can never hand one built with AVX-512 flags to another (an ODR trap otherwise).
#pragma once

#include <algorithm>
#include <array>
#include <utility>

namespace wisp::backend::cpu {
namespace {  // NOLINT(build/namespaces): deliberate, see above

template <typename Block>
using TileFn = void (*)(const Block&, int m, int n);

template <typename Block, template <int, int> class Tile, int MaxVecs, int R, int... V>
constexpr std::array<TileFn<Block>, MaxVecs> tile_row(std::integer_sequence<int, V...>) {
  return {&Tile<R + 1, V + 1>::run...};
}
template <typename Block, template <int, int> class Tile, int MaxRows, int MaxVecs, int... R>
constexpr std::array<std::array<TileFn<Block>, MaxVecs>, MaxRows> tile_rows(
    std::integer_sequence<int, R...>) {
  return {tile_row<Block, Tile, MaxVecs, R>(std::make_integer_sequence<int, MaxVecs>{})...};
}

// table[r][v] = Tile<r + 1, v + 1>::run
template <typename Block, template <int, int> class Tile, int MaxRows, int MaxVecs>
constexpr auto make_tile_table() {
  return tile_rows<Block, Tile, MaxRows, MaxVecs>(std::make_integer_sequence<int, MaxRows>{});
}

// Rows [m0, m1) × columns [n0, n1) (multiples of 16) in tiles of up to MaxRows rows × MaxVecs · 16 columns.
template <typename Block, int MaxRows, int MaxVecs, typename Table>
void run_tiles(const Table& table, const Block& b, int m0, int m1, int n0, int n1) {
  for (int n = n0; n < n1; n += 16 * MaxVecs) {
    const int nv = std::min(MaxVecs, (n1 - n) / 16);
    for (int m = m0; m < m1; m += MaxRows) table[std::min(MaxRows, m1 - m) - 1][nv - 1](b, m, n);
  }
}

}  // namespace
}  // namespace wisp::backend::cpu
