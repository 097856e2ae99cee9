// The CPU backend's thread pool: every task runs exactly once, slots stay within the job's thread count,
// several callers (contexts) can run jobs at the same time, and a task may itself run a parallel loop.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "backend/cpu/threads.h"

namespace wisp::backend::cpu {
namespace {

TEST(ThreadPool, EveryTaskOnceWithSlotsInRange) {
  for (int threads : {1, 2, 3, 8})
    for (int n : {0, 1, 2, 7, 100, 1000}) {
      std::vector<std::atomic<int>> runs(n);
      std::atomic<int> bad_slot{0};
      parallel_for_slots(threads, n, [&](int task, int slot) {
        runs[task].fetch_add(1);
        if (slot < 0 || slot >= std::max(1, std::min(threads, n))) bad_slot.fetch_add(1);
      });
      for (int i = 0; i < n; ++i) ASSERT_EQ(runs[i].load(), 1) << "threads " << threads << " n " << n;
      EXPECT_EQ(bad_slot.load(), 0);
    }
}

// A body that throws: every task still runs once, and the caller gets the exception after the loop.
TEST(ThreadPool, RethrowingLoopRunsEveryTaskThenThrows) {
  for (int threads : {1, 2, 8}) {
    std::vector<std::atomic<int>> runs(50);
    EXPECT_THROW(parallel_for_rethrowing(threads, 50,
                                         [&](int task) {
                                           runs[task].fetch_add(1);
                                           if (task % 7 == 3) throw std::runtime_error("task failed");
                                         }),
                 std::runtime_error);
    for (int i = 0; i < 50; ++i) ASSERT_EQ(runs[i].load(), 1) << "threads " << threads;
    EXPECT_NO_THROW(parallel_for_rethrowing(threads, 50, [](int) {}));
  }
}

TEST(ThreadPool, ConcurrentCallersAndNestedLoops) {
  std::vector<std::thread> callers;
  std::atomic<long> total{0};
  for (int c = 0; c < 4; ++c)
    callers.emplace_back([&] {
      for (int rep = 0; rep < 200; ++rep)
        parallel_for(2, 16, [&](int) { parallel_for(2, 4, [&](int) { total.fetch_add(1); }); });
    });
  for (auto& t : callers) t.join();
  EXPECT_EQ(total.load(), 4L * 200 * 16 * 4);
}

}  // namespace
}  // namespace wisp::backend::cpu
