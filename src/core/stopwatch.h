// Milliseconds since a moment, for the stage timings.
#pragma once

#include <chrono>

namespace wisp {

using Clock = std::chrono::steady_clock;

inline double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

}  // namespace wisp
