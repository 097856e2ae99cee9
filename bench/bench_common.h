// What the benchmark programs share: their thread count and their random inputs.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <random>
#include <vector>

#include "backend/cpu/threads.h"

namespace wisp::bench {

// WISP_BENCH_THREADS, or all cores this process may use.
inline int bench_threads() {
  const char* env = std::getenv("WISP_BENCH_THREADS");
  return env && std::atoi(env) > 0 ? std::atoi(env) : backend::cpu::thread_budget();
}

// n normal values of standard deviation `scale`, the same for the same seed.
inline std::vector<float> random(size_t n, float scale, unsigned seed = 1) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

}  // namespace wisp::bench
