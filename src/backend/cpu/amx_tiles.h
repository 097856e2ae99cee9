// AMX tile state for the kernels that use it (GEMM, attention scores, the peak probe). They all use one
// configuration: eight tiles of 16 rows × 64 bytes. Loading a tile configuration costs about as much as a
// small block of the GEMM, so a thread configures its tiles on first use and keeps them (the state goes
// with the thread; Linux saves it on a context switch like any other register state); each call reads the
// configuration back and loads it again only if something else on the thread changed or released it.
#pragma once

namespace wisp::backend::cpu {

// Makes this thread's tiles the common 16 × 64-byte configuration if they are not already. Only on a CPU
// with AMX, after the probe has obtained the permission for tile data (isa.h).
void amx_use_tiles();
// Returns this thread's tiles to the unconfigured state, as other libraries do when they are done (tests).
void amx_release_tiles();

}  // namespace wisp::backend::cpu
