// Threads for the CPU kernels: OpenMP teams sized per call from a process-wide budget.
//
// Every context asks for its own thread count (set per context, honoured on whichever thread runs it). A
// team is taken from the budget — the cores this process may use — for one parallel region and given back
// at its end, so contexts that compute at the same time share the cores instead of oversubscribing them;
// a caller always gets at least its own thread.
#pragma once

#include <algorithm>

namespace wisp::backend::cpu {

// Takes up to `want` threads from the budget (at least 1: the caller's own) and returns how many.
int acquire_threads(int want);
void release_threads(int n);
// The budget: cores usable by this process (sched_getaffinity).
int thread_budget();

// Runs body(task) for every task in [0, n_tasks), on up to `threads` threads. Tasks are handed out
// dynamically (one at a time), so uneven tasks still balance. `body` must not throw.
template <typename F>
void parallel_for(int threads, int n_tasks, F&& body) {
  if (n_tasks <= 0) return;
  const int want = std::min(threads, n_tasks);
  const int team = want > 1 ? acquire_threads(want) : 1;
  if (team <= 1) {
    for (int i = 0; i < n_tasks; ++i) body(i);
  } else {
#pragma omp parallel for num_threads(team) schedule(dynamic, 1)
    for (int i = 0; i < n_tasks; ++i) body(i);
  }
  if (want > 1) release_threads(team);
}

}  // namespace wisp::backend::cpu
