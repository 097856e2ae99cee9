#include "backend/cpu/threads.h"

#include <atomic>

#include "backend/cpu/isa.h"

namespace wisp::backend::cpu {
namespace {

// Threads currently working in parallel regions, over all contexts.
std::atomic<int> g_busy{0};

}  // namespace

int thread_budget() { return cpu_info().logical_cores; }

int acquire_threads(int want) {
  const int budget = thread_budget();
  int busy = g_busy.load(std::memory_order_relaxed);
  for (;;) {
    const int grant = std::clamp(budget - busy, 1, std::max(1, want));
    if (g_busy.compare_exchange_weak(busy, busy + grant, std::memory_order_acq_rel)) return grant;
  }
}

void release_threads(int n) { g_busy.fetch_sub(n, std::memory_order_acq_rel); }

}  // namespace wisp::backend::cpu
