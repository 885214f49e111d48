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
 * A persistent pool of worker threads: run(workers, fn) calls fn(0) … fn(workers − 1) once each,
 * on the caller and the pool's threads, and returns when all are done. Starting a std::thread per
 * call cost ≈ 50–100 µs, as much as a small product. Threads start on first need and are never
 * joined (the pool lives until the process ends); one run at a time (a second caller, e.g.
 * another worker_thread with the addon loaded, waits).
 * Parts are claimed, not assigned: the caller and each woken thread take the next unclaimed part
 * until none is left, so when other processes keep the cores busy and a pool thread is not
 * scheduled in time, the caller runs its part too instead of waiting for it (≈ 0.2 ms per call
 * when it waited). A part never runs twice: its claim is one compare-and-swap on a word that also
 * holds the run's generation, so a thread that wakes late cannot claim a part of a later run by mistake.
 * A training step calls the pool dozens of times with a few hundred µs of JavaScript between
 * calls, and waking a thread blocked on a condition variable takes 50–90 µs (measured on the AMD EPYC VM of the sessions before 2026-12-08); so a
 * worker that finishes spins for up to kSpinYielding (2 ms, yielding after the first 100 µs) before
 * it blocks, and the caller spins likewise while it waits for parts in progress (a blocked wait is
 * the fallback, never a busy loop without end). PyTorch's OpenMP workers spin likewise (GOMP_SPINCOUNT).
 * A 64×794·794×400 product after 500 µs of JavaScript (same VM, idle host, medians of 300): 207–222 µs with 100 µs
 * of spinning, 160–171 µs with 1 or 3 ms; after 50 µs, 157–164 µs with any of them.
 */
class Pool {
 public:
  void run(int workers, const std::function<void(int)>& fn) {
    if (workers <= 1) {
      fn(0);
      return;
    }
    std::lock_guard<std::mutex> exclusive(runLock_);
    uint64_t generation;
    {
      std::unique_lock<std::mutex> lock(mu_);
      while (static_cast<int>(threads_.size()) < workers - 1) {
        threads_.emplace_back([this]() { loop(); });
        threads_.back().detach();
      }
      job_ = &fn;
      unfinished_.store(workers, std::memory_order_relaxed);
      generation = generation_.load(std::memory_order_relaxed) + 1;
      claims_.store(generation << kGenerationShift | static_cast<uint64_t>(workers) << kCountShift, std::memory_order_release);
      generation_.store(generation, std::memory_order_release);
    }
    wake_.notify_all();
    work(generation);
    if (!spinUntil([this]() { return unfinished_.load(std::memory_order_acquire) == 0; })) {
      std::unique_lock<std::mutex> lock(mu_);
      done_.wait(lock, [this]() { return unfinished_.load(std::memory_order_acquire) == 0; });
    }
    job_ = nullptr;
  }

 private:
  static constexpr auto kSpin = std::chrono::microseconds(100);
  static constexpr auto kSpinYielding = std::chrono::microseconds(2000);
  // claims_: generation (bits 16–63) · parts of the run (bits 8–15, ≤ 64) · next unclaimed part (bits 0–7).
  static constexpr int kGenerationShift = 16;
  static constexpr int kCountShift = 8;

  /**
   * Busy-wait until ready() or kSpinYielding has passed; whether ready() became true. For the first
   * kSpin the loop only pauses; after that it also yields its core to any other thread that wants
   * it (V8's garbage collector and compiler threads), so a long wait delays nobody.
   */
  template <typename Ready>
  static bool spinUntil(const Ready& ready) {
    const auto start = std::chrono::steady_clock::now();
    const auto pauseUntil = start + kSpin;
    const auto deadline = start + kSpinYielding;
    for (int i = 0;; i++) {
      if (ready()) return true;
      if ((i & 63) != 63) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
        continue;
      }
      const auto now = std::chrono::steady_clock::now();
      if (now > deadline) return ready();
      if (now > pauseUntil) std::this_thread::yield();
    }
  }

  /** Claim and run parts of run `generation` until none is left unclaimed (or a later run began). */
  void work(uint64_t generation) {
    for (;;) {
      uint64_t claims = claims_.load(std::memory_order_acquire);
      for (;;) {
        const uint64_t next = claims & 0xff, count = (claims >> kCountShift) & 0xff;
        if (claims >> kGenerationShift != generation || next >= count) return;
        if (claims_.compare_exchange_weak(claims, claims + 1, std::memory_order_acq_rel, std::memory_order_acquire)) break;
      }
      // This part is unfinished, so run() has not returned and job_ is still its function.
      (*job_)(static_cast<int>(claims & 0xff));
      if (unfinished_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lock(mu_);
        done_.notify_one();
      }
    }
  }

  void loop() {
    uint64_t seen = 0;
    for (;;) {
      if (!spinUntil([&]() { return generation_.load(std::memory_order_acquire) != seen; })) {
        std::unique_lock<std::mutex> lock(mu_);
        wake_.wait(lock, [&]() { return generation_.load(std::memory_order_acquire) != seen; });
      }
      seen = generation_.load(std::memory_order_acquire);
      work(seen);
    }
  }

  std::mutex runLock_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::vector<std::thread> threads_;
  const std::function<void(int)>* job_ = nullptr;
  std::atomic<int> unfinished_{0};
  std::atomic<uint64_t> claims_{0};
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

namespace {

/** Workers for n elements: one below 64k (waking one costs more), then one per 32k up to `threads`. */
int workersFor(int64_t n, int threads) {
  return n < (int64_t{1} << 16) ? 1 : static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, n >> 15)));
}

}  // namespace

void parallelForChunks(int64_t chunks, int64_t chunkSize, int threads, const std::function<void(int64_t, int64_t)>& body) {
  const int workers = static_cast<int>(std::min<int64_t>(workersFor(chunks * chunkSize, threads), std::max<int64_t>(1, chunks)));
  pool().run(workers, [&](int id) { body(chunks * id / workers, chunks * (id + 1) / workers); });
}

void parallelFor(int64_t n, int threads, const std::function<void(int64_t, int64_t)>& body) {
  parallelForChunks(n, 1, threads, body);  // elements are chunks of one: workersFor(n) never exceeds n
}

}  // namespace ae
