// The addon's persistent thread pool (see common.h for its interface).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "common.h"

namespace ae {
namespace {

/**
 * A persistent pool of worker threads: run(workers, fn) calls fn(0) on the caller and fn(1) …
 * fn(workers − 1) on pool threads, and returns when all are done. Starting a std::thread per
 * call cost ≈ 50–100 µs, as much as a small product. Threads start on first need and are never
 * joined (the pool lives until the process ends); one run at a time (a second caller, e.g.
 * another worker_thread with the addon loaded, waits).
 * A training step calls the pool dozens of times with a few hundred µs of JavaScript between
 * calls, and waking a thread blocked on a condition variable takes tens of µs each time; so a
 * worker that finishes spins for up to kSpin before it blocks, and the caller spins likewise
 * while it waits for the workers (a blocked wait is the fallback, never a busy loop without end).
 */
class Pool {
 public:
  void run(int workers, const std::function<void(int)>& fn) {
    if (workers <= 1) {
      fn(0);
      return;
    }
    std::lock_guard<std::mutex> exclusive(runLock_);
    {
      std::unique_lock<std::mutex> lock(mu_);
      while (static_cast<int>(threads_.size()) < workers - 1) {
        const int id = static_cast<int>(threads_.size()) + 1;
        threads_.emplace_back([this, id]() { loop(id); });
        threads_.back().detach();
      }
      job_ = &fn;
      active_ = workers;
      pending_.store(workers - 1, std::memory_order_relaxed);
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    fn(0);
    if (!spinUntil([this]() { return pending_.load(std::memory_order_acquire) == 0; })) {
      std::unique_lock<std::mutex> lock(mu_);
      done_.wait(lock, [this]() { return pending_.load(std::memory_order_acquire) == 0; });
    }
    job_ = nullptr;
  }

 private:
  static constexpr auto kSpin = std::chrono::microseconds(100);

  /** Busy-wait (with pause) until ready() or kSpin has passed; whether ready() became true. */
  template <typename Ready>
  static bool spinUntil(const Ready& ready) {
    const auto deadline = std::chrono::steady_clock::now() + kSpin;
    for (int i = 0;; i++) {
      if (ready()) return true;
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
      if ((i & 63) == 63 && std::chrono::steady_clock::now() > deadline) return ready();
    }
  }

  void loop(int id) {
    uint64_t seen = 0;
    for (;;) {
      if (!spinUntil([&]() { return generation_.load(std::memory_order_acquire) != seen; })) {
        std::unique_lock<std::mutex> lock(mu_);
        wake_.wait(lock, [&]() { return generation_.load(std::memory_order_acquire) != seen; });
      }
      seen = generation_.load(std::memory_order_acquire);
      if (id >= active_) continue;
      (*job_)(id);
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lock(mu_);
        done_.notify_one();
      }
    }
  }

  std::mutex runLock_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::vector<std::thread> threads_;
  const std::function<void(int)>* job_ = nullptr;
  int active_ = 0;
  std::atomic<int> pending_{0};
  std::atomic<uint64_t> generation_{0};
};

/** The process's pool (never destroyed: its threads are detached and end with the process). */
Pool& pool() {
  static Pool* instance = new Pool();
  return *instance;
}

}  // namespace

void runOnPool(int workers, const std::function<void(int)>& fn) {
  pool().run(workers, fn);
}

void parallelFor(int64_t n, int threads, const std::function<void(int64_t, int64_t)>& body) {
  const int workers = n < (int64_t{1} << 16) ? 1 : static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, n >> 15)));
  pool().run(workers, [&](int id) { body(n * id / workers, n * (id + 1) / workers); });
}

}  // namespace ae
