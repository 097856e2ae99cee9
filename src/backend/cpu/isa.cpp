#include "backend/cpu/isa.h"

#include <cpuid.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "core/error.h"

namespace wisp::backend::cpu {
namespace {

struct Regs {
  unsigned a = 0, b = 0, c = 0, d = 0;
};

Regs cpuid(unsigned leaf, unsigned sub) {
  Regs r;
  if (!__get_cpuid_count(leaf, sub, &r.a, &r.b, &r.c, &r.d)) r = Regs{};
  return r;
}

uint64_t xgetbv0() {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

bool bit(unsigned reg, int b) { return (reg >> b) & 1u; }

// Linux keeps AMX tile data off until a process asks (arch_prctl ARCH_REQ_XCOMP_PERM, kernel 5.16+).
bool request_amx_permission() {
  constexpr int kArchReqXcompPerm = 0x1023;
  constexpr int kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
}

std::string read_model_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(colon + 2);
    }
  return "unknown CPU";
}

int usable_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

CpuInfo probe() {
  CpuInfo info;
  info.model_name = read_model_name();
  info.logical_cores = usable_cores();
  const unsigned max_leaf = cpuid(0, 0).a;
  const Regs l1 = cpuid(1, 0);
  const bool osxsave = bit(l1.c, 27);
  const uint64_t xcr0 = osxsave ? xgetbv0() : 0;
  const bool os_avx = (xcr0 & 0x6) == 0x6;          // SSE and AVX state
  const bool os_avx512 = (xcr0 & 0xe0) == 0xe0;     // opmask, ZMM_Hi256, Hi16_ZMM
  const bool os_amx = (xcr0 & 0x60000) == 0x60000;  // XTILECFG, XTILEDATA
  const Regs l7 = max_leaf >= 7 ? cpuid(7, 0) : Regs{};
  const Regs l71 = max_leaf >= 7 ? cpuid(7, 1) : Regs{};

  info.fma = os_avx && bit(l1.c, 12);
  info.f16c = os_avx && bit(l1.c, 29);
  info.avx2 = os_avx && bit(l7.b, 5);
  info.avx512 = os_avx512 && bit(l7.b, 16) && bit(l7.b, 17) && bit(l7.b, 30) && bit(l7.b, 31);
  info.avx512_vnni = info.avx512 && bit(l7.c, 11);
  info.avx512_bf16 = info.avx512 && bit(l71.a, 5);
  const bool amx_cpu = bit(l7.d, 22) && bit(l7.d, 24) && bit(l7.d, 25);
  info.amx = info.avx512_bf16 && info.avx512_vnni && amx_cpu && os_amx && request_amx_permission();

  info.best = Isa::Avx2;
  if (info.avx512) info.best = Isa::Avx512;
  if (info.avx512_vnni) info.best = Isa::Avx512Vnni;
  if (info.avx512_vnni && info.avx512_bf16) info.best = Isa::Avx512Bf16;
  if (info.amx) info.best = Isa::Amx;
  return info;
}

}  // namespace

const CpuInfo& cpu_info() {
  static const CpuInfo info = probe();
  return info;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Avx2:
      return "avx2";
    case Isa::Avx512:
      return "avx512";
    case Isa::Avx512Vnni:
      return "avx512_vnni";
    case Isa::Avx512Bf16:
      return "avx512_bf16";
    case Isa::Amx:
      return "amx";
  }
  return "unknown";
}

bool parse_isa(const std::string& name, Isa* out) {
  for (int i = 0; i < kIsaCount; ++i)
    if (name == isa_name(static_cast<Isa>(i))) {
      *out = static_cast<Isa>(i);
      return true;
    }
  return false;
}

bool isa_supported(Isa isa) { return static_cast<int>(isa) <= static_cast<int>(cpu_info().best); }

Isa default_isa() {
  const Isa best = cpu_info().best;
  const char* env = std::getenv("WISP_ISA");
  Isa forced;
  if (env && *env && parse_isa(env, &forced) && static_cast<int>(forced) < static_cast<int>(best))
    return forced;
  return best;
}

std::string default_isa_error() {
  const char* env = std::getenv("WISP_ISA");
  Isa forced;
  if (!env || !*env || parse_isa(env, &forced)) return "";
  return std::string("WISP_ISA='") + env + "' names no instruction-set level (avx2, avx512, avx512_vnni, " +
         "avx512_bf16, amx)";
}

Isa usable_isa(const std::string& name) {
  Isa isa;
  if (!parse_isa(name, &isa))
    throw Error(ErrorKind::InvalidArgument,
                "unknown ISA '" + name + "' (avx2, avx512, avx512_vnni, avx512_bf16, amx)");
  if (!isa_supported(isa))
    throw Error(ErrorKind::InvalidArgument, "this CPU cannot run " + name + " kernels (it has up to " +
                                                std::string(isa_name(cpu_info().best)) + ")");
  return isa;
}

}  // namespace wisp::backend::cpu
