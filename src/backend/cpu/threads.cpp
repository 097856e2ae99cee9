#include "backend/cpu/threads.h"

#include <immintrin.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "backend/cpu/isa.h"

namespace wisp::backend::cpu {
namespace {

struct Job {
  void (*fn)(void*, int, int) = nullptr;
  void* ctx = nullptr;
  int n_tasks = 0;
  int max_helpers = 0;
  std::atomic<int> next{0};     // next task to hand out
  std::atomic<int> done{0};     // tasks finished
  std::atomic<int> helpers{0};  // workers that joined (slots 1..max_helpers)
  std::atomic<int> users{0};    // workers still holding this job
};

// Guards the list of posted jobs: held for a push, a scan or an erase of a few pointers, so a waiter spins
// (a std::mutex here cost two futex calls per parallel loop whenever a worker woke to a job while its
// poster still held the lock, tens per decoder step).
class SpinLock {
 public:
  void lock() {
    while (flag_.exchange(true, std::memory_order_acquire))
      while (flag_.load(std::memory_order_relaxed)) _mm_pause();
  }
  void unlock() { flag_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> flag_{false};
};

// Runs tasks of `job` until none are left.
void work(Job& job, int slot) {
  for (int i = job.next.fetch_add(1, std::memory_order_relaxed); i < job.n_tasks;
       i = job.next.fetch_add(1, std::memory_order_relaxed)) {
    job.fn(job.ctx, i, slot);
    job.done.fetch_add(1, std::memory_order_release);
  }
}

class Pool {
 public:
  static Pool& instance() {
    static Pool* pool = new Pool();  // never destroyed: workers may outlive static destruction
    return *pool;
  }

  void run(int threads, int n_tasks, void (*fn)(void*, int, int), void* ctx) {
    Job job;
    job.fn = fn;
    job.ctx = ctx;
    job.n_tasks = n_tasks;
    job.max_helpers = std::min(threads - 1, static_cast<int>(workers_.size()));
    if (job.max_helpers > 0) {
      {
        std::lock_guard<SpinLock> lock(jobs_lock_);
        jobs_.push_back(&job);
        pending_.fetch_add(1, std::memory_order_seq_cst);
      }
      if (sleepers_.load(std::memory_order_seq_cst) > 0) {
        { std::lock_guard<std::mutex> lock(sleep_mutex_); }  // a worker between its check and its wait
        wake_.notify_all();
      }
    }
    work(job, 0);
    // Wait for the tasks that helpers took (not for helpers that never came).
    wait_until([&] { return job.done.load(std::memory_order_acquire) == n_tasks; });
    if (job.max_helpers > 0) {
      {
        std::lock_guard<SpinLock> lock(jobs_lock_);
        for (size_t i = 0; i < jobs_.size(); ++i)
          if (jobs_[i] == &job) {
            jobs_.erase(jobs_.begin() + static_cast<std::ptrdiff_t>(i));
            pending_.fetch_sub(1, std::memory_order_release);
            break;
          }
      }
      wait_until([&] { return job.users.load(std::memory_order_acquire) == 0; });
    }
  }

 private:
  Pool() {
    const int n = std::max(0, thread_budget() - 1);
    for (int i = 0; i < n; ++i) workers_.emplace_back([this] { loop(); });
    for (auto& w : workers_) w.detach();
  }

  template <typename Pred>
  static void wait_until(Pred done) {
    for (int spin = 0; !done(); ++spin) {
      if (spin < 4096)
        _mm_pause();
      else
        std::this_thread::yield();
    }
  }

  // A job that still wants helpers, with this worker counted in (under jobs_lock_); or null.
  Job* take_job(int* slot) {
    for (Job* j : jobs_) {
      if (j->next.load(std::memory_order_relaxed) >= j->n_tasks) continue;
      const int joined = j->helpers.load(std::memory_order_relaxed);
      if (joined >= j->max_helpers) continue;
      j->helpers.store(joined + 1, std::memory_order_relaxed);
      j->users.fetch_add(1, std::memory_order_acq_rel);
      *slot = joined + 1;
      return j;
    }
    return nullptr;
  }

  void loop() {
    for (;;) {
      // Spin a little first: decoder steps post a job every few tens of microseconds, and a sleeping worker
      // takes longer than that to wake.
      const auto spin_until = std::chrono::steady_clock::now() + std::chrono::microseconds(200);
      while (pending_.load(std::memory_order_acquire) == 0 && std::chrono::steady_clock::now() < spin_until)
        for (int i = 0; i < 64; ++i) _mm_pause();
      if (pending_.load(std::memory_order_seq_cst) == 0) {
        sleepers_.fetch_add(1, std::memory_order_seq_cst);
        std::unique_lock<std::mutex> lock(sleep_mutex_);
        wake_.wait(lock, [&] { return pending_.load(std::memory_order_seq_cst) > 0; });
        sleepers_.fetch_sub(1, std::memory_order_seq_cst);
      }
      Job* job = nullptr;
      int slot = 0;
      {
        std::lock_guard<SpinLock> lock(jobs_lock_);
        job = take_job(&slot);
      }
      if (!job) {  // every posted job has its helpers or its last tasks taken: wait for it to be erased
        for (int i = 0; i < 256 && pending_.load(std::memory_order_relaxed) > 0; ++i) _mm_pause();
        if (pending_.load(std::memory_order_relaxed) > 0) std::this_thread::yield();
        continue;
      }
      work(*job, slot);
      job->users.fetch_sub(1, std::memory_order_acq_rel);
    }
  }

  SpinLock jobs_lock_;
  std::vector<Job*> jobs_;       // posted jobs (guarded by jobs_lock_)
  std::atomic<int> pending_{0};  // jobs_.size(), readable without the lock
  // Idle workers sleep on wake_ (after spinning); a poster notifies only when one is asleep.
  std::mutex sleep_mutex_;
  std::condition_variable wake_;
  std::atomic<int> sleepers_{0};
  std::vector<std::thread> workers_;
};

}  // namespace

int thread_budget() { return cpu_info().logical_cores; }

void run_parallel(int threads, int n_tasks, void (*fn)(void*, int, int), void* ctx) {
  Pool::instance().run(threads, n_tasks, fn, ctx);
}

}  // namespace wisp::backend::cpu
