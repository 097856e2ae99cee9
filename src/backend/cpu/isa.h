// What this CPU can run, probed once at start-up (cpuid, the OS's register support in XCR0, and Linux's
// permission for AMX tile data), and the instruction-set level the kernels use.
//
// Levels are ordered: each includes everything below it on every CPU that has it (Ice Lake: avx512_vnni;
// Cooper Lake, Zen 4: avx512_bf16; Sapphire Rapids and later: amx). One binary runs on all of them: the
// library is built for x86-64-v3 (AVX2, FMA, F16C) and the higher levels live in their own translation units,
// compiled with their own flags and called only when the probe allows it. WISP_ISA=avx2|avx512|... forces a
// lower level (never a higher one than the CPU has).
#pragma once

#include <string>

namespace wisp::backend::cpu {

enum class Isa : int {
  Avx2 = 0,        // AVX2 + FMA + F16C: the baseline
  Avx512 = 1,      // + AVX-512 F/BW/DQ/VL
  Avx512Vnni = 2,  // + AVX-512 VNNI: int8 dot products (vpdpbusd)
  Avx512Bf16 = 3,  // + AVX-512 BF16: bf16 dot products (vdpbf16ps)
  Amx = 4,         // + AMX tiles with BF16 and INT8 (tdpbf16ps, tdpbssd)
};
constexpr int kIsaCount = 5;

struct CpuInfo {
  std::string model_name;  // "model name" from /proc/cpuinfo
  int logical_cores = 1;   // hardware threads this process may use
  bool avx2 = false, fma = false, f16c = false;
  bool avx512 = false;  // F, BW, DQ, VL and the OS saves ZMM state
  bool avx512_vnni = false, avx512_bf16 = false;
  bool amx = false;  // AMX-TILE, -INT8 and -BF16, the OS saves tile state and granted this process its use
  Isa best = Isa::Avx2;  // the highest level every instruction of which this machine runs
};

// Probed on first use (thread-safe), including the one-time AMX permission request.
const CpuInfo& cpu_info();

// The level kernels use by default: the best the CPU runs, or WISP_ISA when set (clamped to the best; an
// unknown WISP_ISA value is reported by default_isa_error()).
Isa default_isa();
// "" or the message for a WISP_ISA value that names no level.
std::string default_isa_error();

const char* isa_name(Isa isa);  // "avx2", "avx512", "avx512_vnni", "avx512_bf16", "amx"
bool parse_isa(const std::string& name, Isa* out);
// True when the machine can run kernels of this level.
bool isa_supported(Isa isa);
// The level `name` names, if this machine runs it; throws Error(InvalidArgument) saying why not.
Isa usable_isa(const std::string& name);

}  // namespace wisp::backend::cpu
