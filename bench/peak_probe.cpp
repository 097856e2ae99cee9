// The machine's peak multiply-add rate per data type at every ISA level it runs (the denominators of the
// "% of peak" figures in wisp bench and wisp_gemm_bench), on 1 thread and on all of them.
//   build/bench/wisp_peak_probe
#include <cstdio>

#include "backend/compute_type.h"
#include "backend/cpu/isa.h"
#include "backend/cpu/peak.h"
#include "backend/cpu/threads.h"

int main() {
  namespace cpu = wisp::backend::cpu;
  using wisp::backend::ComputeType;
  const cpu::CpuInfo& info = cpu::cpu_info();
  std::printf("machine: %s, %d logical cores, best ISA level %s\n\n", info.model_name.c_str(),
              info.logical_cores, cpu::isa_name(info.best));
  std::printf(
      "| ISA level   | type     | instruction                  | GOP/s 1 thread | GOP/s %d threads |\n",
      cpu::thread_budget());
  std::printf(
      "|-------------|----------|------------------------------|----------------|-----------------|\n");
  for (int i = 0; i < cpu::kIsaCount; ++i) {
    const auto isa = static_cast<cpu::Isa>(i);
    if (!cpu::isa_supported(isa)) continue;
    for (ComputeType t : {ComputeType::Float32, ComputeType::Bfloat16, ComputeType::Int8}) {
      const cpu::PeakProbe one = cpu::measure_peak(t, isa, 1, 0.3);
      const cpu::PeakProbe all = cpu::measure_peak(t, isa, cpu::thread_budget(), 0.3);
      std::printf("| %-11s | %-8s | %-28s | %14.1f | %15.1f |\n", cpu::isa_name(isa),
                  wisp::backend::compute_type_name(t), one.instruction, one.gops, all.gops);
    }
  }
  return 0;
}
