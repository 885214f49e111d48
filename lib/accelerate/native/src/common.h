// Shared by the native addon's sources: the vector width and register tile of the build, its
// vector type, the thread pool (thread_pool.cc), per-thread scratch, and the reduction of
// per-thread partial sums.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <vector>

namespace ae {

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
 * Put before each loop over a register tile (for r < R, v < NV: compile-time bounds) so that GCC unrolls it before its
 * scalar replacement of aggregates: only then does a tile array such as vfloat acc[R][NV] live in vector registers. Without
 * it GCC 12 kept the narrow convolutions' tiles on the stack, every multiply-add reading and writing memory: cheap on AMD
 * Zen (whose memory renaming forwards such stack traffic), 3–4× slower on Intel (the 64-channel forward pass at ≈ 80
 * instead of ≈ 300 GFLOP/s on 2 cores). The same operations in the same order, so the same bits.
 */
#define AE_UNROLL _Pragma("GCC unroll 64")

/**
 * x in every lane, as one broadcast load in the products' inner loops. (vfloat{} + x compiles to a scalar add of +0 and a
 * register shuffle per broadcast, which held a register tile with a broadcast per two multiply-adds to ≈ 180 GFLOP/s and
 * one with a broadcast per multiply-add to ≈ 120, against ≈ 200 and ≈ 160 this way, per core.) x − 0 is x for every x, −0
 * included, so the subtraction folds away; where the +0 turned a −0 into +0 before, the products it feeds are added to
 * accumulators that start at +0 and so never hold −0, which makes the sums the same bits either way.
 */
inline vfloat splat(float x) {
  return x - vfloat{};
}

/**
 * Call fn(0) … fn(workers − 1) once each, on the caller and the persistent pool's threads (any
 * part on any of them: whichever claims it first), and return when all are done (thread_pool.cc).
 * workers ≤ 1 calls fn(0) alone; at most 64 (addon.cc's Workers).
 */
void runOnPool(int workers, const std::function<void(int)>& fn);

/** Split [0, n) among up to `threads` pool threads (one below 64k elements, where waking one costs more). */
void parallelFor(int64_t n, int threads, const std::function<void(int64_t, int64_t)>& body);

/** parallelFor over `chunks` pieces of `chunkSize` elements each (tiles, rows): as many workers as parallelFor gives chunks × chunkSize elements. */
void parallelForChunks(int64_t chunks, int64_t chunkSize, int threads, const std::function<void(int64_t, int64_t)>& body);

/** Scratch that grows and is kept, one per thread (no allocation per call). */
inline float* scratch(std::vector<float>& buffer, size_t size) {
  if (buffer.size() < size) buffer.resize(size);
  return buffer.data();
}

/**
 * out[e] = (out[e] if accumulate, else 0) + Σ_t partials[t·size + e] for e < size: the per-thread
 * partial sums of a reduction split between `parts` threads, added in thread order.
 */
template <typename Partial>
inline void addPartials(const Partial* partials, int parts, int64_t size, float* out, bool accumulate) {
  for (int64_t e = 0; e < size; e++) {
    Partial total = accumulate ? static_cast<Partial>(out[e]) : Partial{0};
    for (int t = 0; t < parts; t++) total += partials[t * size + e];
    out[e] = static_cast<float>(total);
  }
}

}  // namespace ae
