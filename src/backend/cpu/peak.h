// The machine's measured peak arithmetic rate per data type: the best multiply-add instruction an ISA level
// has for that type, run back to back on independent accumulators (no memory traffic). Kernels are quoted
// as a share of it. A probe, run when asked (wisp bench, bench/peak_probe); never on the transcription path.
#pragma once

#include "backend/compute_type.h"
#include "backend/cpu/isa.h"

namespace wisp::backend::cpu {

struct PeakProbe {
  double gops = 0;               // operations per second (a multiply-add is 2), ×1e9, all threads together
  const char* instruction = "";  // what was measured, e.g. "tdpbssd (AMX int8)"
};

// Peak of `type` (Float32, Bfloat16 or Int8) at ISA level `isa` on `threads` threads, measured for about
// `seconds`. `isa` must be one the machine supports.
PeakProbe measure_peak(ComputeType type, Isa isa, int threads, double seconds = 0.2);

// Per-ISA loops: `iters` rounds of independent multiply-adds; return operations done (for 1 thread).
double peak_loop_fma256(long iters);
double peak_loop_maddubs256(long iters);
double peak_loop_fma512(long iters);
double peak_loop_vnni512(long iters);
double peak_loop_bf16_512(long iters);
double peak_loop_amx_int8(long iters);
double peak_loop_amx_bf16(long iters);

}  // namespace wisp::backend::cpu
