// Element-wise kernels that training spends its time in between the products: one Adam step, one momentum step,
// activation masks (LeakyRelu, Step, Relu), comparisons (Greater, LessEqual) and Select, bias gradients (sumRows),
// means over leading axes as wasm's own (meanRows), and the binary functions (binary: one shape or one value;
// binaryRows: one row of the last axis), with bias adds (addRows) and same-shape adds (addArrays: gradients of a
// tensor used twice) as their Add. Vectorised and branch-free where a branch would follow the data's signs.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numeric>

#include "kernels.h"

namespace ae {
namespace {

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

}  // namespace

/**
 * Weights below which an optimiser step runs on one thread. Measured on a 2-core AMD EPYC (the machine of the sessions before 2026-12-08), one
 * call on cache-warm arrays (1 thread → 2 threads): Adam 16k 4.3 → 5.2 µs, 40k 9.3 → 7.5,
 * 64k 19 → 12, 318k 93 → 49; momentum (no division or root) 64k 6.8 → 6.4, 128k 18.7 → 10.8.
 * Each weight's update is the same arithmetic on whichever thread runs it (Adam splits at a
 * multiple of 16, so the vector loop's tail stays where it was): the same bits as one thread.
 */
constexpr int64_t kMinParallelAdam = int64_t{1} << 15;
constexpr int64_t kMinParallelMomentum = int64_t{1} << 16;

void adam(float* w, float* m, float* v, const float* g, int64_t n, float lr, float beta1, float beta2, float epsilon,
          float biasCorrection1, float biasCorrection2, int threads) {
  const auto part = [&](int64_t from, int64_t to) { adamRange(w, m, v, g, from, to, lr, beta1, beta2, epsilon, biasCorrection1, biasCorrection2); };
  if (threads <= 1 || n < kMinParallelAdam) {
    part(0, n);
  } else {
    const int64_t half = (n / 2 + 15) / 16 * 16;
    runOnPool(2, [&](int id) { if (id == 0) part(0, half); else part(half, n); });
  }
}

/**
 * g + w·factor into out, the product rounded to float32 before the sum, as the two kernels it stands for round
 * (Multiply, then the gradient tape's Add): a fused multiply-add here would change the last bit of some sums. The build
 * asks for contraction (-ffp-contract=fast), which clang applies even against a pragma, so the products go to memory
 * first and a compiler barrier keeps the sums from reading them back as unrounded values.
 */
static void addDecay(const float* __restrict__ g, const float* __restrict__ w, float factor, float* __restrict__ out, int64_t n) {
  for (int64_t i = 0; i < n; i++) out[i] = w[i] * factor;
#if defined(__GNUC__)
  asm volatile("" ::: "memory");
#endif
  for (int64_t i = 0; i < n; i++) out[i] = g[i] + out[i];
}

void momentum(float* w, float* accumulation, const float* g, int64_t n, float lr, float momentum, bool nesterov, const float* decayFactor, int threads) {
  const float negLr = -lr;
  const auto update = [=](float* ws, float* as, const float* gs, int64_t count) {
    for (int64_t i = 0; i < count; i++) {
      const float a = as[i] * momentum + gs[i];                          // a ← m·a + g
      as[i] = a;
      ws[i] = (nesterov ? (gs[i] + a * momentum) * negLr : a * negLr) + ws[i];  // w ← w − lr·a (Nesterov: w − lr·(g + m·a))
    }
  };
  const auto part = [=](int64_t from, int64_t to) {
    if (decayFactor == nullptr) return update(w + from, accumulation + from, g + from, to - from);
    // g + factor·w a chunk at a time (on the stack, in L1), then the same update as without.
    constexpr int64_t kChunk = 2048;
    float decayed[kChunk];
    for (int64_t c = from; c < to; c += kChunk) {
      const int64_t count = std::min(kChunk, to - c);
      addDecay(g + c, w + c, *decayFactor, decayed, count);
      update(w + c, accumulation + c, decayed, count);
    }
  };
  if (threads <= 1 || n < kMinParallelMomentum) {
    part(0, n);
  } else {
    parallelFor(n, threads, part);
  }
}

void unary(UnaryOp op, const float* x, float* y, int64_t n, float a, int threads) {
  if (op == UnaryOp::Tanh || op == UnaryOp::Sigmoid || op == UnaryOp::Softplus) return smoothUnary(op, x, y, n, threads);
  // Whole vectors with vector selects: a scalar loop compiles to a branch on the sign, which
  // mispredicts half the time on real activations (≈ 5× slower than on sorted signs).
  const vfloat alphas = vfloat{} + a;
  const vfloat ones = vfloat{} + 1.0f;
  const bool leaky = op == UnaryOp::LeakyRelu, step = op == UnaryOp::Step;
  parallelFor(n, threads, [=](int64_t from, int64_t to) {
    int64_t i = from;
    for (; i + kVec <= to; i += kVec) {
      vfloat v;
      std::memcpy(&v, x + i, sizeof(vfloat));
      const vfloat r = leaky ? (v < 0.0f ? alphas * v : v) : step ? (v > 0.0f ? ones : (v != v ? v : alphas)) : (v < 0.0f ? vfloat{} : v);
      std::memcpy(y + i, &r, sizeof(vfloat));
    }
    for (; i < to; i++) y[i] = leaky ? (x[i] < 0.0f ? a * x[i] : x[i]) : step ? (x[i] > 0.0f ? 1.0f : (x[i] != x[i] ? x[i] : a)) : (x[i] < 0.0f ? 0.0f : x[i]);
  });
}

namespace {

/** out[i] = test(a[i], b[i]) (b[0] for every i when scalarB) as bytes 0/1. */
template <typename Test>
void compareLoop(const float* a, const float* b, bool scalarB, uint8_t* out, int64_t n, int threads, Test test) {
  parallelFor(n, threads, [=](int64_t from, int64_t to) {
    if (scalarB) {
      const float bv = b[0];
      for (int64_t i = from; i < to; i++) out[i] = test(a[i], bv) ? 1 : 0;
    } else {
      for (int64_t i = from; i < to; i++) out[i] = test(a[i], b[i]) ? 1 : 0;
    }
  });
}

}  // namespace

void compare(ComparisonOp op, const float* a, const float* b, bool scalarB, uint8_t* out, int64_t n, int threads) {
  // IEEE comparisons: false whenever a or b is NaN, as tfjs's Greater and LessEqual (a ≤ b is not !(a > b)).
  if (op == ComparisonOp::Greater) compareLoop(a, b, scalarB, out, n, threads, [](float x, float y) { return x > y; });
  else compareLoop(a, b, scalarB, out, n, threads, [](float x, float y) { return x <= y; });
}

namespace {

/** out[i] = x[i] as float32 (IEEE round to nearest, as JavaScript's conversion of an int32 into a Float32Array). */
template <typename T>
void toFloat32Loop(const T* x, float* out, int64_t n, int threads) {
  parallelFor(n, threads, [=](int64_t from, int64_t to) {
    for (int64_t i = from; i < to; i++) out[i] = static_cast<float>(x[i]);
  });
}

}  // namespace

void toFloat32(const uint8_t* x, float* out, int64_t n, int threads) { toFloat32Loop(x, out, n, threads); }
void toFloat32(const int32_t* x, float* out, int64_t n, int threads) { toFloat32Loop(x, out, n, threads); }

void select(const uint8_t* c, const float* t, const float* e, float* out, int64_t n, int threads) {
  parallelFor(n, threads, [=](int64_t from, int64_t to) {
    // Branch-free (the condition is as unpredictable as the signs it came from): blend the bits.
    const uint32_t* tBits = reinterpret_cast<const uint32_t*>(t);
    const uint32_t* eBits = reinterpret_cast<const uint32_t*>(e);
    uint32_t* outBits = reinterpret_cast<uint32_t*>(out);
    for (int64_t i = from; i < to; i++) {
      const uint32_t mask = 0u - static_cast<uint32_t>(c[i] != 0);
      outBits[i] = (tBits[i] & mask) | (eBits[i] & ~mask);
    }
  });
}

void sumRows(const float* x, int64_t rows, int64_t cols, float* out, int threads) {
  const int workers = rows * cols < (int64_t{1} << 16) ? 1 : static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, rows / 256)));
  std::vector<double> partial(static_cast<size_t>(workers * cols), 0.0);
  const int64_t period = std::lcm<int64_t>(cols, kVec);  // floats after which the column pattern repeats on vector lanes
  runOnPool(workers, [&](int id) {
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
}

namespace {

/** acc[l] += p[l][0], p[l][1], … p[l][steps − 1] for eight sequences side by side, each in float32 in order (its additions overlap the others'). */
inline void addEightInOrder(const float* const (&p)[8], int64_t steps, float (&acc)[8]) {
  float a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3], a4 = acc[4], a5 = acc[5], a6 = acc[6], a7 = acc[7];
  const float *p0 = p[0], *p1 = p[1], *p2 = p[2], *p3 = p[3], *p4 = p[4], *p5 = p[5], *p6 = p[6], *p7 = p[7];
  for (int64_t t = 0; t < steps; t++) {
    a0 += p0[t]; a1 += p1[t]; a2 += p2[t]; a3 += p3[t]; a4 += p4[t]; a5 += p5[t]; a6 += p6[t]; a7 += p7[t];
  }
  acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3; acc[4] = a4; acc[5] = a5; acc[6] = a6; acc[7] = a7;
}

/** out[s] = Σ_i sequences[s][i] (lengths[s] terms) for s < count, each in float32 one term after another from 0, as wasm's own Sum; eight at once. */
void sequentialSums(const float* const* sequences, const int64_t* lengths, int64_t count, float* out) {
  // Up to eight sequences at a time, one term of each per round; a finished lane takes the next sequence, longest first
  // (so that the long ones run side by side, not one alone at the end). Each sum is its own, so the order taken leaves its bits.
  constexpr int kLanes = 8;
  std::vector<int64_t> order(static_cast<size_t>(count));
  std::iota(order.begin(), order.end(), int64_t{0});
  std::stable_sort(order.begin(), order.end(), [&](int64_t p, int64_t q) { return lengths[p] > lengths[q]; });
  const float* at[kLanes];
  int64_t left[kLanes], owner[kLanes];
  float acc[kLanes];
  int lanes = 0;
  int64_t next = 0;
  for (;;) {
    for (; lanes < kLanes && next < count; next++) {
      const int64_t s = order[next];
      if (lengths[s] <= 0) {
        out[s] = 0.0f;
        continue;
      }
      at[lanes] = sequences[s];
      left[lanes] = lengths[s];
      owner[lanes] = s;
      acc[lanes] = 0.0f;
      lanes++;
    }
    if (lanes == 0) return;
    int64_t steps = left[0];
    for (int l = 1; l < lanes; l++) steps = std::min(steps, left[l]);
    if (lanes == kLanes) {
      addEightInOrder(at, steps, acc);
    } else {
      for (int64_t t = 0; t < steps; t++)
        for (int l = 0; l < lanes; l++) acc[l] += at[l][t];
    }
    int kept = 0;
    for (int l = 0; l < lanes; l++) {
      if (left[l] == steps) {
        out[owner[l]] = acc[l];
        continue;
      }
      at[kept] = at[l] + steps;
      left[kept] = left[l] - steps;
      owner[kept] = owner[l];
      acc[kept] = acc[l];
      kept++;
    }
    lanes = kept;
  }
}

}  // namespace

void sumLastAxis(const float* x, int64_t rows, int64_t cols, float* out, int threads) {
  // Rows split among the workers in whole blocks; eight rows at a time, each row's sum in float32 in order from 0 (the
  // same bits on any thread and in any grouping).
  parallelForChunks(rows, cols, threads, [=](int64_t from, int64_t to) {
    int64_t r = from;
    for (; r + 8 <= to; r += 8) {
      const float* const p[8] = {x + r * cols, x + (r + 1) * cols, x + (r + 2) * cols, x + (r + 3) * cols,
                                 x + (r + 4) * cols, x + (r + 5) * cols, x + (r + 6) * cols, x + (r + 7) * cols};
      float acc[8] = {};
      addEightInOrder(p, cols, acc);
      std::copy(acc, acc + 8, out + r);
    }
    for (; r < to; r++) {
      float sum = 0.0f;
      for (int64_t t = 0; t < cols; t++) sum += x[r * cols + t];
      out[r] = sum;
    }
  });
}

/**
 * Squares into a buffer, then their sums, as separate loops, so that no multiply-add joins a square to a running sum
 * (tfjs rounds each square first): the short arrays' sums (float32, term by term) side by side by sequentialSums, the
 * long ones' by sumRows; then the sums added in array order from 0.
 */
float sumOfSquares(const float* const* arrays, const int64_t* lengths, int64_t count, int64_t longTerms, int threads) {
  std::vector<int64_t> offsets(static_cast<size_t>(count) + 1, 0), shortLengths(static_cast<size_t>(count), 0);
  for (int64_t a = 0; a < count; a++) {
    offsets[a + 1] = offsets[a] + lengths[a];
    shortLengths[a] = lengths[a] < longTerms ? lengths[a] : 0;  // a long array is summed by sumRows below instead
  }
  thread_local std::vector<float> squaresBuffer;  // kept between calls (a fresh megabyte per call costs its page faults)
  float* squares = scratch(squaresBuffer, static_cast<size_t>(offsets[count]));
  std::vector<const float*> starts(static_cast<size_t>(count));
  for (int64_t a = 0; a < count; a++) {
    starts[a] = squares + offsets[a];
    for (int64_t i = 0; i < lengths[a]; i++) squares[offsets[a] + i] = arrays[a][i] * arrays[a][i];
  }
  std::vector<float> sums(static_cast<size_t>(count), 0.0f);
  sequentialSums(starts.data(), shortLengths.data(), count, sums.data());
  for (int64_t a = 0; a < count; a++) {
    if (lengths[a] >= longTerms) sumRows(starts[a], lengths[a], 1, &sums[a], threads);
  }
  float total = 0.0f;
  for (int64_t a = 0; a < count; a++) total += sums[a];
  return total;
}

namespace {

/** out[i] = f(a[i], b[i]) over [from, to), either operand one value when its flag says so (three loops the compiler vectorises). */
template <typename F>
void binaryRange(const float* __restrict__ a, bool aScalar, const float* __restrict__ b, bool bScalar, float* __restrict__ out, int64_t from, int64_t to, F f) {
  if (aScalar && bScalar) {
    const float av = a[0], bv = b[0];
    for (int64_t i = from; i < to; i++) out[i] = f(av, bv);
  } else if (aScalar) {
    const float av = a[0];
    for (int64_t i = from; i < to; i++) out[i] = f(av, b[i]);
  } else if (bScalar) {
    const float bv = b[0];
    for (int64_t i = from; i < to; i++) out[i] = f(a[i], bv);
  } else {
    for (int64_t i = from; i < to; i++) out[i] = f(a[i], b[i]);
  }
}

/** Math.min (kMin) or Math.max of two float32 values, NaN and signed zeros included. */
template <bool kMin>
inline float minMax(float x, float y) {
  if (x != x || y != y) return x + y;
  if (x == y) {
    // Equal values differ at most in the sign of a zero: min keeps a −0 (or of the sign bits), max a +0 (and).
    uint32_t xb, yb;
    std::memcpy(&xb, &x, 4);
    std::memcpy(&yb, &y, 4);
    const uint32_t r = kMin ? (xb | yb) : (xb & yb);
    float v;
    std::memcpy(&v, &r, 4);
    return v;
  }
  return kMin ? (x < y ? x : y) : (x > y ? x : y);
}

template <typename F>
void binaryLoop(const float* a, bool aScalar, const float* b, bool bScalar, float* out, int64_t n, int threads, F f) {
  parallelFor(n, threads, [=](int64_t from, int64_t to) { binaryRange(a, aScalar, b, bScalar, out, from, to, f); });
}

/**
 * out[i·cols + j] = f(a[i·cols + j], row[j]), or f(row[j], b[i·cols + j]) when the row is the first operand. Narrow rows
 * are tiled to a whole number of vectors so that the inner loop runs over full vectors.
 */
template <typename F>
void rowsLoop(const float* a, const float* b, bool rowFirst, float* out, int64_t rows, int64_t cols, int threads, F f) {
  const float* full = rowFirst ? b : a;
  const float* row = rowFirst ? a : b;
  const int64_t period = std::lcm<int64_t>(cols, kVec);
  const int64_t n = rows * cols;
  // x and o may be one array (a bias added in place: addBiasAndActivate), so neither is __restrict__; each value is read
  // and written at the same index.
  auto apply = [=](const float* x, const float* __restrict__ r, float* o, int64_t len) {
    if (rowFirst) {
      for (int64_t e = 0; e < len; e++) o[e] = f(r[e], x[e]);
    } else {
      for (int64_t e = 0; e < len; e++) o[e] = f(x[e], r[e]);
    }
  };
  if (period <= kSumVectors * kVec) {
    float tiled[kSumVectors * kVec];
    for (int64_t e = 0; e < period; e++) tiled[e] = row[e % cols];
    const int64_t blocks = n / period;
    parallelForChunks(blocks, period, threads, [&](int64_t from, int64_t to) {
      for (int64_t blk = from; blk < to; blk++) apply(full + blk * period, tiled, out + blk * period, period);
    });
    for (int64_t e = blocks * period; e < n; e++) out[e] = rowFirst ? f(row[e % cols], full[e]) : f(full[e], row[e % cols]);
  } else {
    parallelForChunks(rows, cols, threads, [&](int64_t from, int64_t to) {
      for (int64_t i = from; i < to; i++) apply(full + i * cols, row, out + i * cols, cols);
    });
  }
}

/**
 * Calls g with the element function of `op`: float32 arithmetic rounded after each operation, which is tfjs-cpu's result
 * for +, −, ×, ÷, min and max and wasm's own for (a − b)² (cpu squares in float64 and rounds once). A NaN result of
 * Minimum or Maximum is an operand's NaN (its payload kept).
 */
template <typename G>
void withBinaryOp(BinaryOp op, G g) {
  switch (op) {
    case BinaryOp::Add: g([](float x, float y) { return x + y; }); break;
    case BinaryOp::Sub: g([](float x, float y) { return x - y; }); break;
    case BinaryOp::Mul: g([](float x, float y) { return x * y; }); break;
    case BinaryOp::Div: g([](float x, float y) { return x / y; }); break;
    case BinaryOp::SquaredDifference: g([](float x, float y) { const float d = x - y; return d * d; }); break;
    // tfjs's step: 1 above 0, NaN for NaN, else 0; then dy times it (as tfjs's ReLU gradient, mul(dy, step(y))).
    case BinaryOp::ReluGrad: g([](float dy, float y) { return dy * (y > 0.0f ? 1.0f : (y != y ? y : 0.0f)); }); break;
    // tfjs's sigmoid gradient, mul(dy, mul(y, sub(1, y))), in its order.
    case BinaryOp::SigmoidGrad: g([](float dy, float y) { return dy * (y * (1.0f - y)); }); break;
    // Math.min and Math.max: NaN when either is NaN (x + y carries it), −0 below +0 (for equal values, the bitwise
    // or / and of the two keeps a −0 for min and a +0 for max); branch-free selects the compiler vectorises.
    case BinaryOp::Minimum: g([](float x, float y) { return minMax<true>(x, y); }); break;
    case BinaryOp::Maximum: g([](float x, float y) { return minMax<false>(x, y); }); break;
  }
}

}  // namespace

void binary(BinaryOp op, const float* a, bool aScalar, const float* b, bool bScalar, float* out, int64_t n, int threads) {
  withBinaryOp(op, [&](auto f) { binaryLoop(a, aScalar, b, bScalar, out, n, threads, f); });
}

void binaryRows(BinaryOp op, const float* a, const float* b, bool rowFirst, float* out, int64_t rows, int64_t cols, int threads) {
  withBinaryOp(op, [&](auto f) { rowsLoop(a, b, rowFirst, out, rows, cols, threads, f); });
}

void meanRows(const float* x, int64_t rows, int64_t cols, float* out, int threads) {
  // Columns in blocks of kColumns, split among the workers; within a block each column's sum runs over the rows in
  // order, one float32 add at a time (the vector lanes are columns), so every sum is wasm's own sequential one.
  constexpr int64_t kColumns = 4 * kVec;
  const int64_t blocks = (cols + kColumns - 1) / kColumns;
  const float divisor = static_cast<float>(rows);
  parallelForChunks(blocks, rows * kColumns, threads, [&](int64_t from, int64_t to) {
    for (int64_t blk = from; blk < to; blk++) {
      const int64_t c0 = blk * kColumns, width = std::min<int64_t>(kColumns, cols - c0);
      float acc[kColumns] = {};
      for (int64_t r = 0; r < rows; r++) {
        const float* __restrict__ row = x + r * cols + c0;
        for (int64_t j = 0; j < width; j++) acc[j] += row[j];
      }
      for (int64_t j = 0; j < width; j++) out[c0 + j] = acc[j] / divisor;
    }
  });
}

void addArrays(const float* a, const float* b, float* out, int64_t n, int threads) {
  binary(BinaryOp::Add, a, false, b, false, out, n, threads);
}

void addRows(const float* x, const float* bias, float* out, int64_t rows, int64_t cols, int threads) {
  binaryRows(BinaryOp::Add, x, bias, false, out, rows, cols, threads);
}

}  // namespace ae
