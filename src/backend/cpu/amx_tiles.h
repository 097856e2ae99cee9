// AMX tile state for the kernels that use it (GEMM, attention scores, the peak probe). They all use one
// layout of the eight tiles (below). Loading a tile configuration costs about as much as a
// small block of the GEMM, so a thread configures its tiles on first use and keeps them (the state goes
// with the thread; Linux saves it on a context switch like any other register state); each call reads the
// configuration back and loads it again only if something else on the thread changed or released it.
#pragma once

namespace wisp::backend::cpu {

// Makes this thread's tiles the common configuration if they are not already: 64-byte rows; tiles 0-5
// (every kernel's accumulators and row operand) with `rows` rows, 1-16; tiles 6-7 (the column operand,
// one 1 KB block of a packed panel) with 16. A product over fewer than 16 rows (a decoder step) then loads,
// multiplies and stores only those rows: no zero rows to write, read and multiply. Only on a CPU with
// AMX, after the probe has obtained the permission for tile data (isa.h).
void amx_use_tiles(int rows = 16);
// Returns this thread's tiles to the unconfigured state, as other libraries do when they are done (tests).
void amx_release_tiles();

}  // namespace wisp::backend::cpu
