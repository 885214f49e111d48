// Native float32 kernels for the wasm backend's tensors (optional; built by node-gyp, loaded by
// lib/accelerate/native/addon.ts): a matrix product, and 2-D convolution forward and backward on top of it.
//
// gemm(a, b, c, batch, m, n, k, transA, transB, strideA, strideB, threads) computes, for each
// batch index t, C_t = op(A_t) · op(B_t) with op = transpose where asked, all row-major:
//   op(A_t) is m × k, op(B_t) is k × n, C_t is m × n (written, not accumulated).
// a, b, c are Float32Arrays (views of the wasm heap: no copy); strideA/strideB are the batch
// strides of A and B in floats (0 broadcasts one matrix over the batch).
//
// Method (BLIS's loop order): blocks of kc × nc of op(B) are packed into panels NR columns wide,
// blocks of mc × kc of op(A) into panels MR rows high (packing absorbs the transposes), and an
// MR × NR register-tile micro-kernel multiplies a pair of panels. Vectors are GCC vector
// extensions, so the compiler picks AVX-512, AVX2 or SSE for the machine it is built on.
// With threads > 1 the columns of C (or, when C has few columns, its rows) are split between
// the threads of a persistent pool, each packing its own operands.
//
// conv2d(mode, x, w, y, …) works on NHWC images and [fh, fw, inC, outC] filters (tfjs's layouts)
// by im2col: the patches of a chunk of images become the rows of a matrix `cols`
// [rows = images·oh·ow, K = fh·fw·inC], and then
//   mode 0, forward:         y  = cols · W                    (W as K × outC)
//   mode 1, input gradient:  dx = col2im(dy · Wᵀ)             (scatter-add of the patches)
//   mode 2, filter gradient: dW = Σ_chunks colsᵀ · dy
// Chunks of whole images keep `cols` near 1 MB (in L2); threads take chunks in turn. With
// algorithm 1 ("direct", stride 1 and few channels) the three modes skip im2col instead: see
// directConv2d below.
//
// adam(w, m, v, g, …) is one step of Adam on a weight tensor and its two moments, in place.
// unary (LeakyRelu, Step, Relu), greater, select, sumRows, addRows and upsample are the
// element-wise kernels that training spends its time in between the products (activation
// masks, bias adds and bias gradients, UpSampling2D); maxPoolGrad is max pooling's input
// gradient.
#include <node_api.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cmath>
#include <cstring>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <numeric>
#include <thread>
#include <type_traits>
#include <vector>

namespace {

#if defined(__AVX512F__)
constexpr int kVec = 16;  // floats per vector register
constexpr int kMR = 8;    // rows of the register tile
#elif defined(__AVX2__) || defined(__AVX__)
constexpr int kVec = 8;
constexpr int kMR = 6;
#else
constexpr int kVec = 4;
constexpr int kMR = 4;
#endif
constexpr int kNR = 2 * kVec;  // columns of the register tile: two vectors
constexpr int kKC = 256;       // depth of a packed block
constexpr int kMC = 128;       // rows of a packed block of A (a multiple of kMR below)
constexpr int kNC = 1024;      // columns of a packed block of B

typedef float vfloat __attribute__((vector_size(kVec * sizeof(float))));

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

/** Scratch that grows and is kept, one per thread (no allocation per call). */
float* scratch(std::vector<float>& buffer, size_t size) {
  if (buffer.size() < size) buffer.resize(size);
  return buffer.data();
}

/** Pack op(A)[i0 : i0+mc, p0 : p0+kc] into panels of kMR rows: panel r holds, for each p, kMR values (zero-padded). Reads run along memory. */
void packA(const float* a, bool transA, int64_t m, int64_t k, int64_t i0, int mc, int64_t p0, int kc, float* out) {
  for (int r = 0; r < mc; r += kMR, out += static_cast<size_t>(kc) * kMR) {
    const int rows = std::min(kMR, mc - r);
    if (rows < kMR) std::fill(out, out + static_cast<size_t>(kc) * kMR, 0.0f);
    if (transA) {  // op(A)[i, p] = a[p·m + i]: a row of a holds kMR consecutive values of one p
      for (int p = 0; p < kc; p++) {
        const float* src = a + (p0 + p) * m + i0 + r;
        for (int ii = 0; ii < rows; ii++) out[p * kMR + ii] = src[ii];
      }
    } else {  // op(A)[i, p] = a[i·k + p]: read each row along p
      for (int ii = 0; ii < rows; ii++) {
        const float* src = a + (i0 + r + ii) * k + p0;
        for (int p = 0; p < kc; p++) out[p * kMR + ii] = src[p];
      }
    }
  }
}

/** Pack op(B)[p0 : p0+kc, j0 : j0+nc] into panels of kNR columns: panel s holds, for each p, kNR values (zero-padded). Reads run along memory. */
void packB(const float* b, bool transB, int64_t k, int64_t n, int64_t p0, int kc, int64_t j0, int nc, float* out) {
  for (int s = 0; s < nc; s += kNR, out += static_cast<size_t>(kc) * kNR) {
    const int cols = std::min(kNR, nc - s);
    if (cols < kNR) std::fill(out, out + static_cast<size_t>(kc) * kNR, 0.0f);
    if (transB) {  // op(B)[p, j] = b[j·k + p]: read each row of b along p
      for (int jj = 0; jj < cols; jj++) {
        const float* src = b + (j0 + s + jj) * k + p0;
        for (int p = 0; p < kc; p++) out[p * kNR + jj] = src[p];
      }
    } else {  // op(B)[p, j] = b[p·n + j]: kNR consecutive values per p
      for (int p = 0; p < kc; p++) std::memcpy(out + p * kNR, b + (p0 + p) * n + j0 + s, cols * sizeof(float));
    }
  }
}

/** The register tile: acc[kMR × kNR] = Σ_p Apanel[p, :]ᵀ Bpanel[p, :]; then C tile (rows × cols) = acc (+ C when accumulate). */
void microKernel(int kc, const float* ap, const float* bp, float* c, int64_t ldc, int rows, int cols, bool accumulate) {
  vfloat acc0[kMR], acc1[kMR];
  for (int i = 0; i < kMR; i++) {
    acc0[i] = vfloat{} ;
    acc1[i] = vfloat{};
  }
  for (int p = 0; p < kc; p++) {
    vfloat b0, b1;
    std::memcpy(&b0, bp, sizeof(vfloat));
    std::memcpy(&b1, bp + kVec, sizeof(vfloat));
    for (int i = 0; i < kMR; i++) {
      const vfloat ai = vfloat{} + ap[i];
      acc0[i] += ai * b0;
      acc1[i] += ai * b1;
    }
    ap += kMR;
    bp += kNR;
  }
  if (rows == kMR && cols == kNR) {
    for (int i = 0; i < kMR; i++) {
      float* ci = c + i * ldc;
      if (accumulate) {
        vfloat c0, c1;
        std::memcpy(&c0, ci, sizeof(vfloat));
        std::memcpy(&c1, ci + kVec, sizeof(vfloat));
        acc0[i] += c0;
        acc1[i] += c1;
      }
      std::memcpy(ci, &acc0[i], sizeof(vfloat));
      std::memcpy(ci + kVec, &acc1[i], sizeof(vfloat));
    }
    return;
  }
  float tile[kMR * kNR];
  for (int i = 0; i < kMR; i++) {
    std::memcpy(tile + i * kNR, &acc0[i], sizeof(vfloat));
    std::memcpy(tile + i * kNR + kVec, &acc1[i], sizeof(vfloat));
  }
  for (int i = 0; i < rows; i++) {
    for (int j = 0; j < cols; j++) {
      const float v = tile[i * kNR + j];
      c[i * ldc + j] = accumulate ? c[i * ldc + j] + v : v;
    }
  }
}

/** C[i0 : i1, j0 : j1] = (C +) op(A)[i0 : i1, :] · op(B)[:, j0 : j1] for one matrix of the batch. */
void gemmBlock(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k, bool transA, bool transB,
               int64_t i0, int64_t i1, int64_t j0, int64_t j1, bool accumulate) {
  if (j1 <= j0 || i1 <= i0) return;
  if (k == 0) {
    if (!accumulate) for (int64_t i = i0; i < i1; i++) std::fill(c + i * n + j0, c + i * n + j1, 0.0f);
    return;
  }
  // Packing scratch per thread, kept between calls (allocating and zeroing ~1 MB per call cost ~0.1 ms).
  thread_local std::vector<float> bPackBuffer, aPackBuffer;
  float* bPack = scratch(bPackBuffer, static_cast<size_t>(kKC) * (kNC + kNR));
  float* aPack = scratch(aPackBuffer, static_cast<size_t>(kKC) * (kMC + kMR));
  for (int64_t jc = j0; jc < j1; jc += kNC) {
    const int nc = static_cast<int>(std::min<int64_t>(kNC, j1 - jc));
    for (int64_t pc = 0; pc < k; pc += kKC) {
      const int kc = static_cast<int>(std::min<int64_t>(kKC, k - pc));
      packB(b, transB, k, n, pc, kc, jc, nc, bPack);
      for (int64_t ic = i0; ic < i1; ic += kMC) {
        const int mc = static_cast<int>(std::min<int64_t>(kMC, i1 - ic));
        packA(a, transA, m, k, ic, mc, pc, kc, aPack);
        for (int jr = 0; jr < nc; jr += kNR) {
          const float* bp = bPack + static_cast<size_t>(jr / kNR) * kc * kNR;
          for (int ir = 0; ir < mc; ir += kMR) {
            const float* ap = aPack + static_cast<size_t>(ir / kMR) * kc * kMR;
            microKernel(kc, ap, bp, c + (ic + ir) * n + jc + jr, n, std::min(kMR, mc - ir), std::min(kNR, nc - jr), accumulate || pc > 0);
          }
        }
      }
    }
  }
}

struct Job {
  const float* a;
  const float* b;
  float* c;
  int64_t batch, m, n, k, strideA, strideB;
  bool transA, transB;
  bool accumulate;
};

/** Work item w: matrix w / parts, and its part (w % parts) of the columns (splitRows false) or rows, panel-aligned. */
void runPart(const Job& job, int64_t w, int64_t parts, bool splitRows) {
  const int64_t t = w / parts;
  const int64_t part = w % parts;
  const int64_t size = splitRows ? job.m : job.n;
  const int64_t unit = splitRows ? kMR : kNR;
  const int64_t units = (size + unit - 1) / unit;
  const int64_t from = std::min(size, (units * part / parts) * unit);
  const int64_t to = std::min(size, (units * (part + 1) / parts) * unit);
  const float* a = job.a + t * job.strideA;
  const float* b = job.b + t * job.strideB;
  float* c = job.c + t * job.m * job.n;
  if (splitRows) gemmBlock(a, b, c, job.m, job.n, job.k, job.transA, job.transB, from, to, 0, job.n, job.accumulate);
  else gemmBlock(a, b, c, job.m, job.n, job.k, job.transA, job.transB, 0, job.m, from, to, job.accumulate);
}

void runJob(const Job& job, int threads) {
  const double flops = 2.0 * job.batch * job.m * job.n * job.k;
  // Threads only where a product is big enough to pay for waking one (≈ 10–20 µs).
  if (threads <= 1 || flops < 1e6) {
    for (int64_t t = 0; t < job.batch; t++) runPart(job, t, 1, false);
    return;
  }
  // Whole matrices per thread when the batch is large enough; else split each matrix, along its
  // columns when it has enough of them, else along its rows.
  const int64_t colUnits = (job.n + kNR - 1) / kNR;
  const int64_t rowUnits = (job.m + kMR - 1) / kMR;
  const bool splitRows = colUnits < threads && rowUnits > colUnits;
  const int64_t parts = job.batch >= threads ? 1 : std::max<int64_t>(1, std::min<int64_t>(threads, splitRows ? rowUnits : colUnits));
  const int64_t items = job.batch * parts;
  const int workers = static_cast<int>(std::min<int64_t>(threads, items));
  pool().run(workers, [&job, workers, items, parts, splitRows](int id) {
    for (int64_t w = id; w < items; w += workers) runPart(job, w, parts, splitRows);
  });
}

/**
 * out[e] = (out[e] if accumulate, else 0) + Σ_t partials[t·size + e] for e < size: the per-thread
 * partial sums of a reduction split between `parts` threads, added in thread order.
 */
template <typename Partial>
void addPartials(const Partial* partials, int parts, int64_t size, float* out, bool accumulate) {
  for (int64_t e = 0; e < size; e++) {
    Partial total = accumulate ? static_cast<Partial>(out[e]) : Partial{0};
    for (int t = 0; t < parts; t++) total += partials[t * size + e];
    out[e] = static_cast<float>(total);
  }
}

/** Largest m·n that smallOutputProduct handles (its accumulators live on the stack). */
constexpr int64_t kSmallOutput = 512;

/**
 * C (m × n, tiny) = (C +) Aᵀ·B for A stored k × m and B stored k × n with k long: a sum of k
 * outer products of contiguous rows (a filter gradient with few channels: m = fh·fw·inC taps,
 * n = outC, k = every output position). Register tiles would be mostly padding here. With
 * threads, each sums a share of k into its own accumulators.
 */
void smallOutputProduct(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k, bool accumulate, int threads) {
  const auto partial = [=](int64_t from, int64_t to, float* acc) {
    std::fill(acc, acc + m * n, 0.0f);
    for (int64_t p = from; p < to; p++) {
      const float* ap = a + p * m;
      const float* bp = b + p * n;
      for (int64_t i = 0; i < m; i++) {
        const float ai = ap[i];
        float* row = acc + i * n;
        for (int64_t j = 0; j < n; j++) row[j] += ai * bp[j];
      }
    }
  };
  const int parts = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, k / 4096)));
  std::vector<float> sums(static_cast<size_t>(parts * m * n));
  pool().run(parts, [&](int t) { partial(k * t / parts, k * (t + 1) / parts, sums.data() + t * m * n); });
  addPartials(sums.data(), parts, m * n, c, accumulate);
}

/**
 * One product C = (C +) op(A)·op(B) on `threads` threads. When C has fewer columns than a register
 * tile is wide but many rows (a convolution with few output channels), most of each tile would
 * be padding: then Cᵀ = op(B)ᵀ·op(A)ᵀ is computed instead (the small side on the tile's rows)
 * and transposed into C.
 */
void product(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k, bool transA, bool transB, bool accumulate, int threads) {
  if (transA && !transB && m * n <= kSmallOutput && k >= 64 * m) {
    smallOutputProduct(a, b, c, m, n, k, accumulate, threads);
    return;
  }
  if (n < kNR && m >= 4 * kNR && n * 2 <= kNR) {
    std::vector<float> ct(static_cast<size_t>(m * n));
    // op(B)ᵀ is B read with the opposite transpose flag, and likewise op(A)ᵀ.
    Job job{b, a, ct.data(), 1, n, m, k, 0, 0, !transB, !transA, false};
    runJob(job, threads);
    for (int64_t i = 0; i < m; i++) {
      float* row = c + i * n;
      for (int64_t j = 0; j < n; j++) row[j] = accumulate ? row[j] + ct[j * m + i] : ct[j * m + i];
    }
    return;
  }
  Job job{a, b, c, 1, m, n, k, 0, 0, transA, transB, accumulate};
  runJob(job, threads);
}

struct ConvShape {
  int64_t batch, inH, inW, inC, outH, outW, outC, fH, fW, strideH, strideW, dilH, dilW, padTop, padLeft;
  int64_t K() const { return fH * fW * inC; }
};

/** cols[(b, oy, ox), (i, j, c)] = x[b0 + b, oy·sh + i·dh − padTop, ox·sw + j·dw − padLeft, c], or 0 outside the image. */
void im2col(const float* x, const ConvShape& s, int64_t b0, int64_t images, float* cols) {
  const int64_t K = s.K();
  for (int64_t b = 0; b < images; b++) {
    const float* image = x + (b0 + b) * s.inH * s.inW * s.inC;
    for (int64_t oy = 0; oy < s.outH; oy++) {
      for (int64_t ox = 0; ox < s.outW; ox++) {
        float* row = cols + ((b * s.outH + oy) * s.outW + ox) * K;
        for (int64_t i = 0; i < s.fH; i++) {
          const int64_t y = oy * s.strideH + i * s.dilH - s.padTop;
          for (int64_t j = 0; j < s.fW; j++, row += s.inC) {
            const int64_t xx = ox * s.strideW + j * s.dilW - s.padLeft;
            if (y < 0 || y >= s.inH || xx < 0 || xx >= s.inW) {
              for (int64_t c = 0; c < s.inC; c++) row[c] = 0.0f;
            } else {
              const float* src = image + (y * s.inW + xx) * s.inC;
              for (int64_t c = 0; c < s.inC; c++) row[c] = src[c];
            }
          }
        }
      }
    }
  }
}

/** The adjoint of im2col: dx[b0 + b, y, x, c] += cols[(b, oy, ox), (i, j, c)] for every patch position inside the image. */
void col2im(const float* cols, const ConvShape& s, int64_t b0, int64_t images, float* dx) {
  const int64_t K = s.K();
  for (int64_t b = 0; b < images; b++) {
    float* image = dx + (b0 + b) * s.inH * s.inW * s.inC;
    for (int64_t oy = 0; oy < s.outH; oy++) {
      for (int64_t ox = 0; ox < s.outW; ox++) {
        const float* row = cols + ((b * s.outH + oy) * s.outW + ox) * K;
        for (int64_t i = 0; i < s.fH; i++) {
          const int64_t y = oy * s.strideH + i * s.dilH - s.padTop;
          for (int64_t j = 0; j < s.fW; j++, row += s.inC) {
            const int64_t xx = ox * s.strideW + j * s.dilW - s.padLeft;
            if (y < 0 || y >= s.inH || xx < 0 || xx >= s.inW) continue;
            float* dst = image + (y * s.inW + xx) * s.inC;
            for (int64_t c = 0; c < s.inC; c++) dst[c] += row[c];
          }
        }
      }
    }
  }
}

/**
 * Forward (mode 0), input gradient (1) or filter gradient (2) of a 2-D convolution; see the
 * header. Images go in chunks whose `cols` fits in L2 (about 1 MB, at least one image), and the
 * threads take chunks in turn, each with its own `cols` and single-threaded products (for the
 * filter gradient, its own partial sum). Chunks are whole images, so no two threads write the
 * same output.
 */
void conv2d(int mode, const ConvShape& s, float* x, float* w, float* y, int threads) {
  const int64_t K = s.K();
  const int64_t rowsPerImage = s.outH * s.outW;
  const int64_t targetCols = int64_t{1} << 18;
  const int64_t chunk = std::max<int64_t>(1, std::min<int64_t>(s.batch, targetCols / std::max<int64_t>(1, rowsPerImage * K)));
  const int64_t chunks = (s.batch + chunk - 1) / chunk;
  const int workers = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, chunks)));
  if (mode == 1) std::fill(x, x + s.batch * s.inH * s.inW * s.inC, 0.0f);
  std::vector<float> partials(mode == 2 ? static_cast<size_t>(workers * K * s.outC) : 0);
  const auto work = [&](int id) {
    std::vector<float> cols(static_cast<size_t>(chunk * rowsPerImage * K));
    float* dw = mode == 2 ? partials.data() + id * K * s.outC : nullptr;
    bool first = true;
    for (int64_t c = id; c < chunks; c += workers) {
      const int64_t b0 = c * chunk;
      const int64_t images = std::min(chunk, s.batch - b0);
      const int64_t rows = images * rowsPerImage;
      float* yChunk = y + b0 * rowsPerImage * s.outC;
      if (mode == 0) {
        im2col(x, s, b0, images, cols.data());
        product(cols.data(), w, yChunk, rows, s.outC, K, false, false, false, 1);
      } else if (mode == 1) {
        product(yChunk, w, cols.data(), rows, K, s.outC, false, true, false, 1);
        col2im(cols.data(), s, b0, images, x);
      } else {
        im2col(x, s, b0, images, cols.data());
        product(cols.data(), yChunk, dw, K, s.outC, rows, true, false, !first, 1);
      }
      first = false;
    }
    if (mode == 2 && first) std::fill(dw, dw + K * s.outC, 0.0f);  // a thread with no chunk
  };
  pool().run(workers, work);
  if (mode == 2) addPartials(partials.data(), workers, K * s.outC, w, false);
}


// ---- Direct convolution for few channels (stride 1, dilation 1) ----
// im2col copies each input value fh·fw times and then multiplies matrices with a handful of
// columns, so for the conv autoencoders' 1 → 16 → 8 → 1 channels it costs more than the
// arithmetic. Here each image is instead copied once into a zero-padded channel-major buffer
// P[c][row][col] (row = y + padTop, col = x + padLeft), and an output row is a sum of shifted
// rows of P times filter taps, vectorised along the row (up to kMaxRowVectors vectors wide):
//   forward   y[oy, ox, o] = Σ_{ky,kx,c} P[c][oy + ky][ox + kx] · W[ky, kx, c, o]
//   input grad dx = forward(dy, W') with W'[ky, kx, o, c] = W[fh−1−ky, fw−1−kx, c, o] and
//             padding fh−1−padTop, fw−1−padLeft (the adjoint of a stride-1 convolution)
//   filter grad dW[ky, kx, c, o] = Σ_{images, oy, ox} P[c][oy + ky][ox + kx] · dy[oy, ox, o]

constexpr int kMaxRowVectors = 4;
constexpr int kMaxDirectFilterWidth = 7;

/** Whether the direct kernels take this shape (and, for the input gradient, its adjoint's). */
bool directApplies(const ConvShape& s) {
  const auto rowVectors = [](int64_t width) { return (width + kVec - 1) / kVec; };
  return s.strideH == 1 && s.strideW == 1 && s.dilH == 1 && s.dilW == 1 && s.padTop >= 0 && s.padTop < s.fH &&
         s.padLeft >= 0 && s.padLeft < s.fW && s.fW <= kMaxDirectFilterWidth && rowVectors(s.outW) <= kMaxRowVectors &&
         rowVectors(s.inW) <= kMaxRowVectors;
}

/** P[c][y + padTop][x + padLeft] = image[y, x, c] (image H × W × C), zero elsewhere in rows × cols. */
void padChannelMajor(const float* image, int64_t H, int64_t W, int64_t C, int64_t padTop, int64_t padLeft, int64_t rows, int64_t cols, float* P) {
  std::fill(P, P + C * rows * cols, 0.0f);
  const int64_t plane = rows * cols;
  for (int64_t y = 0; y < H; y++) {
    const int64_t py = y + padTop;
    if (py < 0 || py >= rows) continue;
    for (int64_t x = 0; x < W; x++) {
      const int64_t px = x + padLeft;
      if (px < 0 || px >= cols) continue;
      const float* src = image + (y * W + x) * C;
      float* dst = P + py * cols + px;
      for (int64_t c = 0; c < C; c++) dst[c * plane] = src[c];
    }
  }
}

/** One image's rows: outT[o][oy][0 : NV·kVec] = Σ_{c,ky,kx} P[c][oy+ky][kx : …] · wPacked (blocks of OB output channels). */
template <int NV, int OB>
void directRows(const float* P, int64_t rows, int64_t cols, int64_t C, int64_t fH, int64_t fW, int64_t outH, int64_t outC, const float* wPacked, float* outT) {
  constexpr int64_t OW = NV * kVec;
  const int64_t taps = C * fH * fW;
  for (int64_t ob = 0; ob < outC; ob += OB) {
    const float* wBlock = wPacked + (ob / OB) * taps * OB;
    for (int64_t oy = 0; oy < outH; oy++) {
      vfloat acc[OB][NV];
      for (int o = 0; o < OB; o++)
        for (int v = 0; v < NV; v++) acc[o][v] = vfloat{};
      const float* wp = wBlock;
      for (int64_t c = 0; c < C; c++) {
        for (int64_t ky = 0; ky < fH; ky++) {
          const float* row = P + (c * rows + oy + ky) * cols;
          for (int64_t kx = 0; kx < fW; kx++, wp += OB) {
            vfloat pv[NV];
            for (int v = 0; v < NV; v++) std::memcpy(&pv[v], row + kx + v * kVec, sizeof(vfloat));
            for (int o = 0; o < OB; o++) {
              const vfloat wv = vfloat{} + wp[o];
              for (int v = 0; v < NV; v++) acc[o][v] += wv * pv[v];
            }
          }
        }
      }
      for (int o = 0; o < OB; o++)
        for (int v = 0; v < NV; v++) std::memcpy(outT + ((ob + o) * outH + oy) * OW + v * kVec, &acc[o][v], sizeof(vfloat));
    }
  }
}

/**
 * out[b] = conv(in[b], filter) for every image, stride 1: in is H × W × C, out outH × outW × outC,
 * the filter given by tap(ky, kx, c, o) (so the input gradient can pass the flipped, transposed one).
 */
template <typename Tap>
void directForward(const float* in, int64_t batch, int64_t H, int64_t W, int64_t C, float* out, int64_t outH, int64_t outW, int64_t outC,
                   int64_t fH, int64_t fW, int64_t padTop, int64_t padLeft, const Tap& tap, int threads) {
  const int ob = outC >= 4 ? 4 : 1;
  const int64_t blocks = (outC + ob - 1) / ob;
  const int64_t taps = C * fH * fW;
  std::vector<float> wPacked(static_cast<size_t>(blocks * taps * ob), 0.0f);
  for (int64_t o = 0; o < outC; o++)
    for (int64_t c = 0; c < C; c++)
      for (int64_t ky = 0; ky < fH; ky++)
        for (int64_t kx = 0; kx < fW; kx++) wPacked[((o / ob) * taps + (c * fH + ky) * fW + kx) * ob + o % ob] = tap(ky, kx, c, o);
  const int nv = static_cast<int>((outW + kVec - 1) / kVec);
  const int64_t OW = nv * kVec;
  const int64_t rows = outH + fH - 1;
  const int64_t cols = OW + fW - 1;
  const int workers = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, batch)));
  pool().run(workers, [&](int id) {
    thread_local std::vector<float> padBuffer, outBuffer;
    float* P = scratch(padBuffer, static_cast<size_t>(C * rows * cols));
    float* outT = scratch(outBuffer, static_cast<size_t>(blocks * ob * outH * OW));
    for (int64_t b = batch * id / workers; b < batch * (id + 1) / workers; b++) {
      padChannelMajor(in + b * H * W * C, H, W, C, padTop, padLeft, rows, cols, P);
      const auto rowsOf = [&](auto nvTag, auto obTag) {
        directRows<decltype(nvTag)::value, decltype(obTag)::value>(P, rows, cols, C, fH, fW, outH, outC, wPacked.data(), outT);
      };
      const auto withNv = [&](auto obTag) {
        switch (nv) {
          case 1: rowsOf(std::integral_constant<int, 1>{}, obTag); break;
          case 2: rowsOf(std::integral_constant<int, 2>{}, obTag); break;
          case 3: rowsOf(std::integral_constant<int, 3>{}, obTag); break;
          default: rowsOf(std::integral_constant<int, 4>{}, obTag); break;
        }
      };
      if (ob == 4) withNv(std::integral_constant<int, 4>{});
      else withNv(std::integral_constant<int, 1>{});
      float* image = out + b * outH * outW * outC;
      for (int64_t oy = 0; oy < outH; oy++)
        for (int64_t ox = 0; ox < outW; ox++)
          for (int64_t o = 0; o < outC; o++) image[(oy * outW + ox) * outC + o] = outT[(o * outH + oy) * OW + ox];
    }
  });
}

/** dW[ky, kx, c, o] = Σ_{b, oy, ox} P_b[c][oy + ky][ox + kx] · dy[b, oy, ox, o] (see above), summed per thread in vectors. */
template <int NV>
void directFilterGrad(const ConvShape& s, const float* x, const float* dy, float* dw, int threads) {
  constexpr int64_t OW = NV * kVec;
  const int64_t rows = s.outH + s.fH - 1;
  const int64_t cols = OW + s.fW - 1;
  const int64_t weights = s.fH * s.fW * s.inC * s.outC;
  const int workers = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, s.batch)));
  std::vector<vfloat> partial(static_cast<size_t>(workers * weights));
  pool().run(workers, [&](int id) {
    thread_local std::vector<float> padBuffer, dyBuffer;
    float* P = scratch(padBuffer, static_cast<size_t>(s.inC * rows * cols));
    float* dyT = scratch(dyBuffer, static_cast<size_t>(s.outC * s.outH * OW));
    vfloat* acc = partial.data() + id * weights;
    for (int64_t e = 0; e < weights; e++) acc[e] = vfloat{};
    for (int64_t b = s.batch * id / workers; b < s.batch * (id + 1) / workers; b++) {
      padChannelMajor(x + b * s.inH * s.inW * s.inC, s.inH, s.inW, s.inC, s.padTop, s.padLeft, rows, cols, P);
      std::fill(dyT, dyT + s.outC * s.outH * OW, 0.0f);  // lanes past outW stay zero
      const float* g = dy + b * s.outH * s.outW * s.outC;
      for (int64_t oy = 0; oy < s.outH; oy++)
        for (int64_t ox = 0; ox < s.outW; ox++)
          for (int64_t o = 0; o < s.outC; o++) dyT[(o * s.outH + oy) * OW + ox] = g[(oy * s.outW + ox) * s.outC + o];
      for (int64_t c = 0; c < s.inC; c++) {
        for (int64_t o = 0; o < s.outC; o++) {
          for (int64_t ky = 0; ky < s.fH; ky++) {
            vfloat sums[kMaxDirectFilterWidth][NV];
            for (int kx = 0; kx < s.fW; kx++)
              for (int v = 0; v < NV; v++) sums[kx][v] = vfloat{};
            for (int64_t oy = 0; oy < s.outH; oy++) {
              const float* row = P + (c * rows + oy + ky) * cols;
              vfloat d[NV];
              for (int v = 0; v < NV; v++) std::memcpy(&d[v], dyT + (o * s.outH + oy) * OW + v * kVec, sizeof(vfloat));
              for (int kx = 0; kx < s.fW; kx++) {
                for (int v = 0; v < NV; v++) {
                  vfloat p;
                  std::memcpy(&p, row + kx + v * kVec, sizeof(vfloat));
                  sums[kx][v] += p * d[v];
                }
              }
            }
            for (int kx = 0; kx < s.fW; kx++) {
              vfloat& target = acc[((ky * s.fW + kx) * s.inC + c) * s.outC + o];
              for (int v = 0; v < NV; v++) target += sums[kx][v];
            }
          }
        }
      }
    }
  });
  for (int64_t e = 0; e < weights; e++) {
    float total = 0.0f;
    for (int t = 0; t < workers; t++)
      for (int l = 0; l < kVec; l++) total += partial[t * weights + e][l];
    dw[e] = total;
  }
}

/** The direct kernels for conv2d's three modes (directApplies(s) holds). */
void directConv2d(int mode, const ConvShape& s, float* x, float* w, float* y, int threads) {
  if (mode == 0) {
    const auto tap = [&](int64_t ky, int64_t kx, int64_t c, int64_t o) { return w[((ky * s.fW + kx) * s.inC + c) * s.outC + o]; };
    directForward(x, s.batch, s.inH, s.inW, s.inC, y, s.outH, s.outW, s.outC, s.fH, s.fW, s.padTop, s.padLeft, tap, threads);
  } else if (mode == 1) {
    // The adjoint: channels swap roles (c runs over the forward's outC, o over its inC) and the taps flip.
    const auto tap = [&](int64_t ky, int64_t kx, int64_t c, int64_t o) { return w[(((s.fH - 1 - ky) * s.fW + (s.fW - 1 - kx)) * s.inC + o) * s.outC + c]; };
    directForward(y, s.batch, s.outH, s.outW, s.outC, x, s.inH, s.inW, s.inC, s.fH, s.fW, s.fH - 1 - s.padTop, s.fW - 1 - s.padLeft, tap, threads);
  } else {
    switch ((s.outW + kVec - 1) / kVec) {
      case 1: directFilterGrad<1>(s, x, y, w, threads); break;
      case 2: directFilterGrad<2>(s, x, y, w, threads); break;
      case 3: directFilterGrad<3>(s, x, y, w, threads); break;
      default: directFilterGrad<4>(s, x, y, w, threads); break;
    }
  }
}

/**
 * One 2×2 window's gradient for channels [c, C) in lanes of L (while L of them remain): the first
 * of the four candidates p0…p3 (row-major) that is greater than all before it (NaN never is)
 * gets dy, the others 0. Returns the first channel not done.
 */
template <int L>
int64_t maxPool2x2Lanes(const float* p0, const float* p1, const float* p2, const float* p3, const float* g, float* d0, float* d1, float* d2, float* d3, int64_t c, int64_t C) {
  typedef float lanes __attribute__((vector_size(L * sizeof(float))));
  typedef int32_t indices __attribute__((vector_size(L * sizeof(float))));
  const float* sources[4] = {p0, p1, p2, p3};
  float* targets[4] = {d0, d1, d2, d3};
  for (; c + L <= C; c += L) {
    lanes best = lanes{} - INFINITY;
    indices where = indices{} - 1;
    for (int t = 0; t < 4; t++) {
      lanes v;
      std::memcpy(&v, sources[t] + c, sizeof(lanes));
      const indices better = v > best;
      best = better ? v : best;
      where = better ? indices{} + t : where;
    }
    lanes gv;
    std::memcpy(&gv, g + c, sizeof(lanes));
    for (int t = 0; t < 4; t++) {
      const lanes out = where == t ? gv : lanes{};
      std::memcpy(targets[t] + c, &out, sizeof(lanes));
    }
  }
  return c;
}

/**
 * dx of max pooling (NHWC): each window's first maximum (row-major window order; NaN never
 * wins) receives the window's dy, as in tfjs-cpu and TensorFlow; windows clipped by padding.
 * Threads take whole images.
 */
void maxPoolGrad(const float* dy, const float* x, float* dx, int64_t batch, int64_t inH, int64_t inW, int64_t C, int64_t outH, int64_t outW,
                 int64_t fH, int64_t fW, int64_t strideH, int64_t strideW, int64_t padTop, int64_t padLeft, int threads) {
  const int workers = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, batch)));
  if (fH == 2 && fW == 2 && strideH == 2 && strideW == 2 && padTop == 0 && padLeft == 0 && 2 * outH <= inH && 2 * outW <= inW) {
    // MaxPooling2D's default: four candidates per window, windows disjoint, so each input value
    // is written once (its window's dy or 0) instead of zero-filling and scattering.
    pool().run(workers, [&](int id) {
      for (int64_t b = batch * id / workers; b < batch * (id + 1) / workers; b++) {
        const float* image = x + b * inH * inW * C;
        float* grad = dx + b * inH * inW * C;
        if (2 * outH < inH || 2 * outW < inW) std::fill(grad, grad + inH * inW * C, 0.0f);  // a last odd row or column gets nothing
        for (int64_t oy = 0; oy < outH; oy++) {
          for (int64_t ox = 0; ox < outW; ox++) {
            const int64_t offsets[4] = {(2 * oy * inW + 2 * ox) * C, (2 * oy * inW + 2 * ox + 1) * C, ((2 * oy + 1) * inW + 2 * ox) * C, ((2 * oy + 1) * inW + 2 * ox + 1) * C};
            const float* g = dy + ((b * outH + oy) * outW + ox) * C;
            const float* p0 = image + offsets[0];
            const float* p1 = image + offsets[1];
            const float* p2 = image + offsets[2];
            const float* p3 = image + offsets[3];
            float* d0 = grad + offsets[0];
            float* d1 = grad + offsets[1];
            float* d2 = grad + offsets[2];
            float* d3 = grad + offsets[3];
            int64_t c = 0;
            // Vector selects: scalar code compiles to branches on which candidate wins, and they
            // mispredict on real activations (≈ 5× slower). Lanes of 16, 8 or 4 channels, then one by one.
            c = maxPool2x2Lanes<16>(p0, p1, p2, p3, g, d0, d1, d2, d3, c, C);
            c = maxPool2x2Lanes<8>(p0, p1, p2, p3, g, d0, d1, d2, d3, c, C);
            c = maxPool2x2Lanes<4>(p0, p1, p2, p3, g, d0, d1, d2, d3, c, C);
            for (; c < C; c++) {
              float best = -INFINITY;
              int where = -1;
              const float v[4] = {p0[c], p1[c], p2[c], p3[c]};
              for (int t = 0; t < 4; t++) {
                if (v[t] > best) {
                  best = v[t];
                  where = t;
                }
              }
              d0[c] = where == 0 ? g[c] : 0.0f;
              d1[c] = where == 1 ? g[c] : 0.0f;
              d2[c] = where == 2 ? g[c] : 0.0f;
              d3[c] = where == 3 ? g[c] : 0.0f;
            }
          }
        }
      }
    });
    return;
  }
  pool().run(workers, [&](int id) {
    std::vector<float> best(static_cast<size_t>(C));
    std::vector<int64_t> where(static_cast<size_t>(C));
    for (int64_t b = batch * id / workers; b < batch * (id + 1) / workers; b++) {
      const float* image = x + b * inH * inW * C;
      float* grad = dx + b * inH * inW * C;
      std::fill(grad, grad + inH * inW * C, 0.0f);
      for (int64_t oy = 0; oy < outH; oy++) {
        const int64_t y0 = std::max<int64_t>(0, oy * strideH - padTop), y1 = std::min(inH, oy * strideH - padTop + fH);
        for (int64_t ox = 0; ox < outW; ox++) {
          const int64_t x0 = std::max<int64_t>(0, ox * strideW - padLeft), x1 = std::min(inW, ox * strideW - padLeft + fW);
          std::fill(best.begin(), best.end(), -INFINITY);
          std::fill(where.begin(), where.end(), int64_t{-1});
          for (int64_t yy = y0; yy < y1; yy++) {
            for (int64_t xx = x0; xx < x1; xx++) {
              const float* px = image + (yy * inW + xx) * C;
              for (int64_t c = 0; c < C; c++) {
                if (px[c] > best[c]) {
                  best[c] = px[c];
                  where[c] = (yy * inW + xx) * C + c;
                }
              }
            }
          }
          const float* g = dy + ((b * outH + oy) * outW + ox) * C;
          for (int64_t c = 0; c < C; c++)
            if (where[c] >= 0) grad[where[c]] += g[c];
        }
      }
    }
  });
}

napi_value Throw(napi_env env, const char* message) {
  napi_throw_error(env, nullptr, message);
  return nullptr;
}

/** The data of a typed-array argument of element type `want` (no copy), or false. */
template <typename T>
bool View(napi_env env, napi_value value, napi_typedarray_type want, T** data, size_t* length) {
  bool isTyped = false;
  if (napi_is_typedarray(env, value, &isTyped) != napi_ok || !isTyped) return false;
  napi_typedarray_type type;
  void* raw = nullptr;
  napi_value arrayBuffer;
  size_t offset = 0;
  if (napi_get_typedarray_info(env, value, &type, length, &raw, &arrayBuffer, &offset) != napi_ok || type != want) return false;
  *data = static_cast<T*>(raw);
  return true;
}

bool Float32View(napi_env env, napi_value value, float** data, size_t* length) {
  return View(env, value, napi_float32_array, data, length);
}

bool Int(napi_env env, napi_value value, int64_t* out) {
  return napi_get_value_int64(env, value, out) == napi_ok;
}

/** Reads the call's arguments into argv; whether there were exactly N of them. */
template <size_t N>
bool Arguments(napi_env env, napi_callback_info info, napi_value (&argv)[N]) {
  size_t argc = N;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  return argc == N;
}

/** A thread-count argument as a worker count: 1 to 64. */
int Workers(int64_t threads) {
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, 64)));
}

napi_value Gemm(napi_env env, napi_callback_info info) {
  napi_value argv[12];
  if (!Arguments(env, info, argv)) return Throw(env, "gemm: expected 12 arguments (a, b, c, batch, m, n, k, transA, transB, strideA, strideB, threads)");
  Job job{};
  float *a, *b, *c;
  size_t lengthA, lengthB, lengthC;
  if (!Float32View(env, argv[0], &a, &lengthA) || !Float32View(env, argv[1], &b, &lengthB) || !Float32View(env, argv[2], &c, &lengthC)) {
    return Throw(env, "gemm: a, b and c must be Float32Arrays");
  }
  int64_t threads;
  if (!Int(env, argv[3], &job.batch) || !Int(env, argv[4], &job.m) || !Int(env, argv[5], &job.n) || !Int(env, argv[6], &job.k) ||
      !Int(env, argv[9], &job.strideA) || !Int(env, argv[10], &job.strideB) || !Int(env, argv[11], &threads)) {
    return Throw(env, "gemm: batch, m, n, k, strideA, strideB and threads must be integers");
  }
  if (napi_get_value_bool(env, argv[7], &job.transA) != napi_ok || napi_get_value_bool(env, argv[8], &job.transB) != napi_ok) {
    return Throw(env, "gemm: transA and transB must be booleans");
  }
  if (job.batch < 1 || job.m < 0 || job.n < 0 || job.k < 0 || job.strideA < 0 || job.strideB < 0) return Throw(env, "gemm: sizes must be non-negative (batch ≥ 1)");
  const auto needs = [](int64_t batch, int64_t stride, int64_t size) { return (batch - 1) * stride + size; };
  if (static_cast<int64_t>(lengthA) < needs(job.batch, job.strideA, job.m * job.k) ||
      static_cast<int64_t>(lengthB) < needs(job.batch, job.strideB, job.k * job.n) ||
      static_cast<int64_t>(lengthC) < job.batch * job.m * job.n) {
    return Throw(env, "gemm: an array is shorter than its matrix (or batch of matrices)");
  }
  job.a = a;
  job.b = b;
  job.c = c;
  job.accumulate = false;
  runJob(job, Workers(threads));
  return nullptr;
}

napi_value Conv2d(napi_env env, napi_callback_info info) {
  napi_value argv[21];
  if (!Arguments(env, info, argv)) return Throw(env, "conv2d: expected 21 arguments (mode, x, w, y, batch, inH, inW, inC, outH, outW, outC, fH, fW, strideH, strideW, dilH, dilW, padTop, padLeft, threads, algorithm)");
  int64_t mode, threads, algorithm;
  ConvShape s{};
  int64_t* fields[] = {&s.batch, &s.inH, &s.inW, &s.inC, &s.outH, &s.outW, &s.outC, &s.fH, &s.fW, &s.strideH, &s.strideW, &s.dilH, &s.dilW, &s.padTop, &s.padLeft};
  if (!Int(env, argv[0], &mode) || !Int(env, argv[19], &threads) || !Int(env, argv[20], &algorithm)) return Throw(env, "conv2d: mode, threads and algorithm must be integers");
  for (int f = 0; f < 15; f++) {
    if (!Int(env, argv[4 + f], fields[f])) return Throw(env, "conv2d: every size must be an integer");
  }
  if (mode < 0 || mode > 2) return Throw(env, "conv2d: mode must be 0 (forward), 1 (input gradient) or 2 (filter gradient)");
  for (int f = 0; f < 13; f++) {
    if (*fields[f] < 1) return Throw(env, "conv2d: batch, sizes, channels, filter sizes, strides and dilations must be ≥ 1");
  }
  float *x, *w, *y;
  size_t lengthX, lengthW, lengthY;
  if (!Float32View(env, argv[1], &x, &lengthX) || !Float32View(env, argv[2], &w, &lengthW) || !Float32View(env, argv[3], &y, &lengthY)) {
    return Throw(env, "conv2d: x, w and y must be Float32Arrays");
  }
  if (static_cast<int64_t>(lengthX) < s.batch * s.inH * s.inW * s.inC || static_cast<int64_t>(lengthW) < s.K() * s.outC ||
      static_cast<int64_t>(lengthY) < s.batch * s.outH * s.outW * s.outC) {
    return Throw(env, "conv2d: an array is shorter than its tensor");
  }
  if (algorithm < 0 || algorithm > 1) return Throw(env, "conv2d: algorithm must be 0 (im2col) or 1 (direct)");
  if (algorithm == 1 && !directApplies(s)) return Throw(env, "conv2d: the direct algorithm needs stride 1, dilation 1, 0 ≤ padding < filter size, filter width ≤ 7 and rows of ≤ 4 vectors");
  const int workers = Workers(threads);
  if (algorithm == 1) directConv2d(static_cast<int>(mode), s, x, w, y, workers);
  else conv2d(static_cast<int>(mode), s, x, w, y, workers);
  return nullptr;
}

/** One Adam step on n weights in place, in tfjs's AdamOptimizer order (float32 at every step). */
void adamRange(float* __restrict__ w, float* __restrict__ m, float* __restrict__ v, const float* __restrict__ g, int64_t from, int64_t to, float lr, float beta1, float beta2, float epsilon,
               float biasCorrection1, float biasCorrection2) {
  const float oneMinusBeta1 = 1.0f - beta1;
  const float oneMinusBeta2 = 1.0f - beta2;
  for (int64_t i = from; i < to; i++) {
    const float gi = g[i];
    const float mi = m[i] * beta1 + gi * oneMinusBeta1;            // m ← β1·m + (1 − β1)·g
    const float vi = v[i] * beta2 + (gi * gi) * oneMinusBeta2;     // v ← β2·v + (1 − β2)·g²
    m[i] = mi;
    v[i] = vi;
    const float mHat = mi / biasCorrection1;                        // m̂ = m / (1 − β1^t)
    const float vHat = vi / biasCorrection2;                        // v̂ = v / (1 − β2^t)
    w[i] = (mHat / (std::sqrt(vHat) + epsilon)) * -lr + w[i];       // w ← w − lr·m̂ / (√v̂ + ε)
  }
}

napi_value Adam(napi_env env, napi_callback_info info) {
  napi_value argv[11];
  if (!Arguments(env, info, argv)) return Throw(env, "adam: expected 11 arguments (w, m, v, g, lr, beta1, beta2, epsilon, biasCorrection1, biasCorrection2, threads)");
  float* arrays[4];
  size_t lengths[4];
  for (int i = 0; i < 4; i++) {
    if (!Float32View(env, argv[i], &arrays[i], &lengths[i])) return Throw(env, "adam: w, m, v and g must be Float32Arrays");
  }
  if (lengths[1] != lengths[0] || lengths[2] != lengths[0] || lengths[3] != lengths[0]) return Throw(env, "adam: w, m, v and g must have the same length");
  double numbers[6];
  for (int i = 0; i < 6; i++) {
    if (napi_get_value_double(env, argv[4 + i], &numbers[i]) != napi_ok) return Throw(env, "adam: lr, beta1, beta2, epsilon and the bias corrections must be numbers");
  }
  int64_t threads;
  if (!Int(env, argv[10], &threads)) return Throw(env, "adam: threads must be an integer");
  const int64_t n = static_cast<int64_t>(lengths[0]);
  const auto part = [&](int64_t from, int64_t to) {
    adamRange(arrays[0], arrays[1], arrays[2], arrays[3], from, to, static_cast<float>(numbers[0]), static_cast<float>(numbers[1]),
              static_cast<float>(numbers[2]), static_cast<float>(numbers[3]), static_cast<float>(numbers[4]), static_cast<float>(numbers[5]));
  };
  if (threads <= 1 || n < (int64_t{1} << 20)) {  // below ~1M weights a second thread costs more than it saves
    part(0, n);
  } else {
    const int64_t half = (n / 2 + 15) / 16 * 16;
    pool().run(2, [&](int id) { if (id == 0) part(0, half); else part(half, n); });
  }
  return nullptr;
}

/** Split [0, n) among up to `threads` pool threads (one below 64k elements, where waking one costs more). */
void parallelFor(int64_t n, int threads, const std::function<void(int64_t, int64_t)>& body) {
  const int workers = n < (int64_t{1} << 16) ? 1 : static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, n >> 15)));
  pool().run(workers, [&](int id) { body(n * id / workers, n * (id + 1) / workers); });
}

/**
 * unary(op, x, y, alpha, threads), tfjs-cpu's semantics: op 0 LeakyRelu y = x < 0 ? αx : x;
 * op 1 Step y = x > 0 ? 1 : α (NaN stays NaN); op 2 Relu y = x < 0 ? 0 : x. x and y may be
 * the same array (in place).
 */
napi_value Unary(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  float *x, *y;
  size_t nx, ny;
  int64_t op, threads;
  double alpha;
  if (!Arguments(env, info, argv) || !Int(env, argv[0], &op) || !View(env, argv[1], napi_float32_array, &x, &nx) || !View(env, argv[2], napi_float32_array, &y, &ny) ||
      napi_get_value_double(env, argv[3], &alpha) != napi_ok || !Int(env, argv[4], &threads)) {
    return Throw(env, "unary: expected (op, x: Float32Array, y: Float32Array, alpha: number, threads)");
  }
  if (nx != ny || op < 0 || op > 2) return Throw(env, "unary: x and y must have the same length, op must be 0 (LeakyRelu), 1 (Step) or 2 (Relu)");
  const float a = static_cast<float>(alpha);
  // Whole vectors with vector selects: a scalar loop compiles to a branch on the sign, which
  // mispredicts half the time on real activations (≈ 5× slower than on sorted signs).
  const vfloat alphas = vfloat{} + a;
  const vfloat ones = vfloat{} + 1.0f;
  parallelFor(static_cast<int64_t>(nx), Workers(threads), [=](int64_t from, int64_t to) {
    int64_t i = from;
    for (; i + kVec <= to; i += kVec) {
      vfloat v;
      std::memcpy(&v, x + i, sizeof(vfloat));
      const vfloat r = op == 0 ? (v < 0.0f ? alphas * v : v) : op == 1 ? (v > 0.0f ? ones : (v != v ? v : alphas)) : (v < 0.0f ? vfloat{} : v);
      std::memcpy(y + i, &r, sizeof(vfloat));
    }
    for (; i < to; i++) y[i] = op == 0 ? (x[i] < 0.0f ? a * x[i] : x[i]) : op == 1 ? (x[i] > 0.0f ? 1.0f : (x[i] != x[i] ? x[i] : a)) : (x[i] < 0.0f ? 0.0f : x[i]);
  });
  return nullptr;
}

/** greater(a, b, out, threads): out[i] = a[i] > b[i] (b of length 1: a scalar), as bytes 0/1. */
napi_value Greater(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  float *a, *b;
  uint8_t* out;
  size_t na, nb, nout;
  int64_t threads;
  if (!Arguments(env, info, argv) || !View(env, argv[0], napi_float32_array, &a, &na) || !View(env, argv[1], napi_float32_array, &b, &nb) ||
      !View(env, argv[2], napi_uint8_array, &out, &nout) || !Int(env, argv[3], &threads)) {
    return Throw(env, "greater: expected (a: Float32Array, b: Float32Array, out: Uint8Array, threads)");
  }
  if (nout != na || (nb != na && nb != 1)) return Throw(env, "greater: out must match a, and b must match a or have one element");
  parallelFor(static_cast<int64_t>(na), Workers(threads), [=](int64_t from, int64_t to) {
    if (nb == 1) {
      const float bv = b[0];
      for (int64_t i = from; i < to; i++) out[i] = a[i] > bv ? 1 : 0;
    } else {
      for (int64_t i = from; i < to; i++) out[i] = a[i] > b[i] ? 1 : 0;
    }
  });
  return nullptr;
}

/** select(condition, t, e, out, threads): out[i] = condition[i] ? t[i] : e[i]. */
napi_value Select(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  uint8_t* c;
  float *t, *e, *out;
  size_t nc, nt, ne, nout;
  int64_t threads;
  if (!Arguments(env, info, argv) || !View(env, argv[0], napi_uint8_array, &c, &nc) || !View(env, argv[1], napi_float32_array, &t, &nt) ||
      !View(env, argv[2], napi_float32_array, &e, &ne) || !View(env, argv[3], napi_float32_array, &out, &nout) || !Int(env, argv[4], &threads)) {
    return Throw(env, "select: expected (condition: Uint8Array, t: Float32Array, e: Float32Array, out: Float32Array, threads)");
  }
  if (nt != nc || ne != nc || nout != nc) return Throw(env, "select: condition, t, e and out must have the same length");
  parallelFor(static_cast<int64_t>(nc), Workers(threads), [=](int64_t from, int64_t to) {
    // Branch-free (the condition is as unpredictable as the signs it came from): blend the bits.
    const uint32_t* tBits = reinterpret_cast<const uint32_t*>(t);
    const uint32_t* eBits = reinterpret_cast<const uint32_t*>(e);
    uint32_t* outBits = reinterpret_cast<uint32_t*>(out);
    for (int64_t i = from; i < to; i++) {
      const uint32_t mask = 0u - static_cast<uint32_t>(c[i] != 0);
      outBits[i] = (tBits[i] & mask) | (eBits[i] & ~mask);
    }
  });
  return nullptr;
}

/** Vector registers of sumNarrowRows' accumulators. */
constexpr int kSumVectors = 8;

/**
 * acc[j] += Σ over the rows of x (n floats, whole rows of `cols`) of column j, for narrow rows
 * (a bias gradient with few channels), where adding one row at a time would wait on each
 * addition: x is read as consecutive blocks of `period` = lcm(cols, kVec) floats, summed lane by
 * lane in float vectors over 64 blocks at a time and then into float64, each lane belonging to
 * column lane % cols.
 */
void sumNarrowRows(const float* x, int64_t n, int64_t cols, int64_t period, double* acc) {
  const int vectors = static_cast<int>(period / kVec);
  const int64_t blocks = n / period;
  double lanes[kSumVectors * kVec] = {};
  for (int64_t b0 = 0; b0 < blocks; b0 += 64) {
    vfloat sums[kSumVectors];
    for (int v = 0; v < vectors; v++) sums[v] = vfloat{};
    const int64_t b1 = std::min(blocks, b0 + 64);
    for (int64_t b = b0; b < b1; b++) {
      const float* block = x + b * period;
      for (int v = 0; v < vectors; v++) {
        vfloat value;
        std::memcpy(&value, block + v * kVec, sizeof(vfloat));
        sums[v] += value;
      }
    }
    for (int v = 0; v < vectors; v++)
      for (int l = 0; l < kVec; l++) lanes[v * kVec + l] += sums[v][l];
  }
  for (int64_t e = 0; e < period; e++) acc[e % cols] += lanes[e];
  for (int64_t e = blocks * period; e < n; e++) acc[e % cols] += x[e];
}

/** sumRows(x, rows, cols, out, threads): out[j] = Σ_i x[i·cols + j], accumulated in float64 (as tfjs-cpu; narrow rows: float over 64 rows at a time first, see sumNarrowRows). */
napi_value SumRows(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  float *x, *out;
  size_t nx, nout;
  int64_t rows, cols, threads;
  if (!Arguments(env, info, argv) || !View(env, argv[0], napi_float32_array, &x, &nx) || !Int(env, argv[1], &rows) || !Int(env, argv[2], &cols) ||
      !View(env, argv[3], napi_float32_array, &out, &nout) || !Int(env, argv[4], &threads)) {
    return Throw(env, "sumRows: expected (x: Float32Array, rows, cols, out: Float32Array, threads)");
  }
  if (rows < 1 || cols < 1 || static_cast<int64_t>(nx) < rows * cols || static_cast<int64_t>(nout) < cols) return Throw(env, "sumRows: x must hold rows × cols values and out cols");
  const int workers = rows * cols < (int64_t{1} << 16) ? 1 : static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, rows / 256)));
  std::vector<double> partial(static_cast<size_t>(workers * cols), 0.0);
  const int64_t period = std::lcm<int64_t>(cols, kVec);  // floats after which the column pattern repeats on vector lanes
  pool().run(workers, [&](int id) {
    double* acc = partial.data() + id * cols;
    const int64_t from = rows * id / workers, to = rows * (id + 1) / workers;
    if (period <= kSumVectors * kVec) {
      sumNarrowRows(x + from * cols, (to - from) * cols, cols, period, acc);
      return;
    }
    for (int64_t i = from; i < to; i++) {
      const float* row = x + i * cols;
      for (int64_t j = 0; j < cols; j++) acc[j] += row[j];
    }
  });
  addPartials(partial.data(), workers, cols, out, false);
  return nullptr;
}

/**
 * addRows(x, bias, out, rows, cols, threads): out[i·cols + j] = x[i·cols + j] + bias[j] (a layer's
 * bias on every row). Narrow rows go by blocks of lcm(cols, kVec) floats against the bias tiled
 * to that length, as sumNarrowRows reads them.
 */
napi_value AddRows(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  float *x, *bias, *out;
  size_t nx, nb, nout;
  int64_t rows, cols, threads;
  if (!Arguments(env, info, argv) || !View(env, argv[0], napi_float32_array, &x, &nx) || !View(env, argv[1], napi_float32_array, &bias, &nb) ||
      !View(env, argv[2], napi_float32_array, &out, &nout) || !Int(env, argv[3], &rows) || !Int(env, argv[4], &cols) || !Int(env, argv[5], &threads)) {
    return Throw(env, "addRows: expected (x: Float32Array, bias: Float32Array, out: Float32Array, rows, cols, threads)");
  }
  if (rows < 1 || cols < 1 || static_cast<int64_t>(nx) < rows * cols || static_cast<int64_t>(nout) < rows * cols || static_cast<int64_t>(nb) < cols) {
    return Throw(env, "addRows: x and out must hold rows × cols values and bias cols");
  }
  const int64_t period = std::lcm<int64_t>(cols, kVec);
  const int64_t n = rows * cols;
  if (period <= kSumVectors * kVec) {
    float tiled[kSumVectors * kVec];
    for (int64_t e = 0; e < period; e++) tiled[e] = bias[e % cols];
    const int64_t blocks = n / period;
    const int vectors = static_cast<int>(period / kVec);
    parallelFor(blocks, Workers(threads), [&](int64_t from, int64_t to) {
      for (int64_t b = from; b < to; b++) {
        for (int v = 0; v < vectors; v++) {
          vfloat value, add;
          std::memcpy(&value, x + b * period + v * kVec, sizeof(vfloat));
          std::memcpy(&add, tiled + v * kVec, sizeof(vfloat));
          value += add;
          std::memcpy(out + b * period + v * kVec, &value, sizeof(vfloat));
        }
      }
    });
    for (int64_t e = blocks * period; e < n; e++) out[e] = x[e] + bias[e % cols];
  } else {
    parallelFor(rows, Workers(threads), [&](int64_t from, int64_t to) {
      for (int64_t i = from; i < to; i++) {
        const float* __restrict__ row = x + i * cols;
        float* __restrict__ target = out + i * cols;
        for (int64_t j = 0; j < cols; j++) target[j] = row[j] + bias[j];
      }
    });
  }
  return nullptr;
}

/**
 * upsample(mode, small, large, batch, inH, inW, channels, sh, sw, threads): nearest-neighbour
 * upscaling by integer factors (UpSampling2D; NHWC). Mode 0: large[b, y, x, c] =
 * small[b, ⌊y/sh⌋, ⌊x/sw⌋, c]; mode 1 (its gradient): small[b, y, x, c] = Σ of large's sh × sw
 * block above (y, x).
 */
napi_value Upsample(napi_env env, napi_callback_info info) {
  napi_value argv[10];
  float *small, *large;
  size_t nSmall, nLarge;
  int64_t mode, batch, inH, inW, C, sh, sw, threads;
  if (!Arguments(env, info, argv) || !Int(env, argv[0], &mode) || !View(env, argv[1], napi_float32_array, &small, &nSmall) || !View(env, argv[2], napi_float32_array, &large, &nLarge) ||
      !Int(env, argv[3], &batch) || !Int(env, argv[4], &inH) || !Int(env, argv[5], &inW) || !Int(env, argv[6], &C) || !Int(env, argv[7], &sh) ||
      !Int(env, argv[8], &sw) || !Int(env, argv[9], &threads)) {
    return Throw(env, "upsample: expected (mode, small: Float32Array, large: Float32Array, batch, inH, inW, channels, sh, sw, threads)");
  }
  if (mode < 0 || mode > 1) return Throw(env, "upsample: mode must be 0 (forward) or 1 (gradient)");
  if (batch < 1 || inH < 1 || inW < 1 || C < 1 || sh < 1 || sw < 1) return Throw(env, "upsample: sizes and factors must be ≥ 1");
  if (static_cast<int64_t>(nSmall) < batch * inH * inW * C || static_cast<int64_t>(nLarge) < batch * inH * sh * inW * sw * C) {
    return Throw(env, "upsample: an array is shorter than its tensor");
  }
  const int64_t outW = inW * sw;
  parallelFor(batch * inH, Workers(threads), [&](int64_t from, int64_t to) {
    for (int64_t row = from; row < to; row++) {  // row = b·inH + y of the small image
      float* smallRow = small + row * inW * C;
      float* largeRow = large + row * sh * outW * C;  // its first of sh rows in the large image
      if (mode == 0) {
        for (int64_t x = 0; x < inW; x++)
          for (int64_t j = 0; j < sw; j++) std::memcpy(largeRow + (x * sw + j) * C, smallRow + x * C, C * sizeof(float));
        for (int64_t i = 1; i < sh; i++) std::memcpy(largeRow + i * outW * C, largeRow, outW * C * sizeof(float));
      } else {
        std::fill(smallRow, smallRow + inW * C, 0.0f);
        for (int64_t i = 0; i < sh; i++) {
          const float* source = largeRow + i * outW * C;
          for (int64_t x = 0; x < inW; x++)
            for (int64_t j = 0; j < sw; j++) {
              const float* block = source + (x * sw + j) * C;
              for (int64_t c = 0; c < C; c++) smallRow[x * C + c] += block[c];
            }
        }
      }
    }
  });
  return nullptr;
}

napi_value MaxPoolGrad(napi_env env, napi_callback_info info) {
  napi_value argv[16];
  if (!Arguments(env, info, argv)) return Throw(env, "maxPoolGrad: expected 16 arguments (dy, x, dx, batch, inH, inW, channels, outH, outW, fH, fW, strideH, strideW, padTop, padLeft, threads)");
  float *dy, *x, *dx;
  size_t lengthDy, lengthX, lengthDx;
  if (!Float32View(env, argv[0], &dy, &lengthDy) || !Float32View(env, argv[1], &x, &lengthX) || !Float32View(env, argv[2], &dx, &lengthDx)) {
    return Throw(env, "maxPoolGrad: dy, x and dx must be Float32Arrays");
  }
  int64_t v[13];
  for (int f = 0; f < 13; f++) {
    if (!Int(env, argv[3 + f], &v[f])) return Throw(env, "maxPoolGrad: every size must be an integer");
  }
  const int64_t batch = v[0], inH = v[1], inW = v[2], C = v[3], outH = v[4], outW = v[5];
  for (int f = 0; f < 10; f++) {
    if (v[f] < 1) return Throw(env, "maxPoolGrad: batch, sizes, channels, window and strides must be ≥ 1");
  }
  if (static_cast<int64_t>(lengthX) < batch * inH * inW * C || static_cast<int64_t>(lengthDx) < batch * inH * inW * C ||
      static_cast<int64_t>(lengthDy) < batch * outH * outW * C) {
    return Throw(env, "maxPoolGrad: an array is shorter than its tensor");
  }
  maxPoolGrad(dy, x, dx, batch, inH, inW, C, outH, outW, v[6], v[7], v[8], v[9], v[10], v[11], Workers(v[12]));
  return nullptr;
}

napi_value VectorFloats(napi_env env, napi_callback_info) {
  napi_value out;
  napi_create_int32(env, kVec, &out);
  return out;
}

napi_value Describe(napi_env env, napi_callback_info) {
  const char* isa =
#if defined(__AVX512F__)
      "AVX-512";
#elif defined(__AVX2__)
      "AVX2";
#elif defined(__AVX__)
      "AVX";
#elif defined(__SSE2__)
      "SSE2";
#else
      "portable";
#endif
  char text[128];
  snprintf(text, sizeof text, "%s, %d×%d register tile", isa, kMR, kNR);
  napi_value out;
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &out);
  return out;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"gemm", nullptr, Gemm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2d", nullptr, Conv2d, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"adam", nullptr, Adam, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"unary", nullptr, Unary, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"greater", nullptr, Greater, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"select", nullptr, Select, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sumRows", nullptr, SumRows, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"addRows", nullptr, AddRows, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"upsample", nullptr, Upsample, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"maxPoolGrad", nullptr, MaxPoolGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"vectorFloats", nullptr, VectorFloats, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"describe", nullptr, Describe, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
