// Threads for the CPU kernels: one process-wide pool, shared by every context.
//
// A parallel_for hands out tasks one at a time from an atomic counter. The calling thread always works on
// its own job; idle pool workers join it, up to the job's thread count. The caller waits only for tasks that
// were taken, never for a worker to arrive: a worker that the OS has not scheduled (the machine is busy with
// something else) simply misses the job. With OpenMP's barriers, every parallel region waited for every
// team thread, and a decoder step — dozens of short regions — ran 20x slower whenever another process held
// one of the cores.
//
// The pool has one worker fewer than the cores this process may use, so contexts computing at the same time
// share the cores instead of oversubscribing them; each caller adds its own thread.
#pragma once

#include <algorithm>
#include <atomic>
#include <exception>

namespace wisp::backend::cpu {

// Cores this process may use (sched_getaffinity).
int thread_budget();

// Runs fn(ctx, task, slot) for every task in [0, n_tasks) on up to `threads` threads; `slot` in
// [0, threads) names the thread within this job (0: the caller), for per-thread scratch. `fn` must not throw.
void run_parallel(int threads, int n_tasks, void (*fn)(void* ctx, int task, int slot), void* ctx);

template <typename F>
void parallel_for_slots(int threads, int n_tasks, F&& body) {  // body(task, slot)
  if (n_tasks <= 0) return;
  if (threads <= 1 || n_tasks == 1) {
    for (int i = 0; i < n_tasks; ++i) body(i, 0);
    return;
  }
  run_parallel(
      std::min(threads, n_tasks), n_tasks,
      [](void* ctx, int task, int slot) { (*static_cast<F*>(ctx))(task, slot); }, &body);
}

template <typename F>
void parallel_for(int threads, int n_tasks, F&& body) {  // body(task)
  parallel_for_slots(threads, n_tasks, [&](int task, int) { body(task); });
}

// parallel_for for a body that may throw (the pool's bodies must not): every task runs, and the first
// exception thrown is rethrown on the caller once all are done.
template <typename F>
void parallel_for_rethrowing(int threads, int n_tasks, F&& body) {
  std::exception_ptr error;
  std::atomic<bool> failed{false};
  parallel_for(threads, n_tasks, [&](int task) {
    try {
      body(task);
    } catch (...) {
      if (!failed.exchange(true)) error = std::current_exception();
    }
  });
  if (error) std::rethrow_exception(error);
}

}  // namespace wisp::backend::cpu
