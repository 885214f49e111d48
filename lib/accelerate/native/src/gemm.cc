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
// With threads > 1 the columns of C are split between the threads of a persistent pool, each
// packing its own operands; its rows instead when C has few columns, or is tall (m ≥ 2n) with k ≥ 64.
#include <chrono>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "kernels.h"

namespace ae {
namespace {

#if defined(__AVX512F__)
/** _mm512_permutex2var_ps's lane indices for interleave(a, b, 2^s): [lo[s]] a's and b's lanes 0–7, [hi[s]] lanes 8–15, in blocks of 2^s lanes taken in turn from a and b. */
struct InterleaveIndices {
  __m512i lo[4], hi[4];
};

const InterleaveIndices& interleaveIndices() {
  static const InterleaveIndices indices = [] {
    InterleaveIndices t;
    for (int s = 0; s < 4; s++) {
      alignas(64) int32_t lo[16], hi[16];
      const int w = 1 << s;
      for (int lane = 0; lane < 16; lane++) {
        const int block = lane / w;  // even blocks from a, odd from b (index + 16)
        lo[lane] = (block % 2) * 16 + (block / 2) * w + lane % w;
        hi[lane] = lo[lane] + 8;
      }
      t.lo[s] = _mm512_load_si512(lo);
      t.hi[s] = _mm512_load_si512(hi);
    }
    return t;
  }();
  return indices;
}

/** (lo, hi) = a and b's low (high) halves in blocks of 2^s lanes, a's first. */
inline void interleave(__m512 a, __m512 b, const InterleaveIndices& t, int s, __m512& lo, __m512& hi) {
  lo = _mm512_permutex2var_ps(a, t.lo[s], b);
  hi = _mm512_permutex2var_ps(a, t.hi[s], b);
}

/** out[p·8 + r] = src[r·ld + p] for r < 8, p < 16 (packA's rows read along p, into its 8-row panel): three rounds of interleaves. */
inline void transpose8x16(const float* src, int64_t ld, float* out, const InterleaveIndices& t) {
  __m512 r[8], x[8], y[8];
  for (int i = 0; i < 8; i++) r[i] = _mm512_loadu_ps(src + i * ld);
  for (int q = 0; q < 4; q++) interleave(r[2 * q], r[2 * q + 1], t, 0, x[2 * q], x[2 * q + 1]);  // rows 2q, 2q+1: p 0–7, 8–15
  for (int q = 0; q < 2; q++) {  // rows 4q … 4q+3: y[4q + k] at p 4k … 4k+3
    interleave(x[4 * q], x[4 * q + 2], t, 1, y[4 * q], y[4 * q + 1]);
    interleave(x[4 * q + 1], x[4 * q + 3], t, 1, y[4 * q + 2], y[4 * q + 3]);
  }
  for (int k = 0; k < 4; k++) {  // all 8 rows at p 4k, 4k+1 (lo) and 4k+2, 4k+3 (hi)
    __m512 lo, hi;
    interleave(y[k], y[4 + k], t, 2, lo, hi);
    _mm512_storeu_ps(out + 4 * k * 8, lo);
    _mm512_storeu_ps(out + (4 * k + 2) * 8, hi);
  }
}

/** out[p·ldo + r] = src[r·ld + p] for r, p < 16 (packB's transposed rows into its panel): four rounds of interleaves. */
inline void transpose16x16(const float* src, int64_t ld, float* out, int64_t ldo, const InterleaveIndices& t) {
  __m512 a[16], b[16];
  for (int i = 0; i < 16; i++) a[i] = _mm512_loadu_ps(src + i * ld);
  for (int q = 0; q < 8; q++) interleave(a[2 * q], a[2 * q + 1], t, 0, b[2 * q], b[2 * q + 1]);  // rows 2q, 2q+1: p 0–7, 8–15
  for (int q = 0; q < 4; q++) {  // rows 4q … 4q+3: a[4q + k] at p 4k … 4k+3
    interleave(b[4 * q], b[4 * q + 2], t, 1, a[4 * q], a[4 * q + 1]);
    interleave(b[4 * q + 1], b[4 * q + 3], t, 1, a[4 * q + 2], a[4 * q + 3]);
  }
  for (int h = 0; h < 2; h++)  // rows 8h … 8h+7: b[8h + j] at p 2j, 2j+1
    for (int k = 0; k < 4; k++) interleave(a[8 * h + k], a[8 * h + 4 + k], t, 2, b[8 * h + 2 * k], b[8 * h + 2 * k + 1]);
  for (int j = 0; j < 8; j++) {  // all 16 rows at p 2j (lo) and 2j+1 (hi)
    __m512 lo, hi;
    interleave(b[j], b[8 + j], t, 3, lo, hi);
    _mm512_storeu_ps(out + 2 * j * ldo, lo);
    _mm512_storeu_ps(out + (2 * j + 1) * ldo, hi);
  }
}
#endif

/** Pack op(A)[i0 : i0+mc, p0 : p0+kc] into panels of kMR rows: panel r holds, for each p, kMR values (zero-padded). Reads run along memory. */
void packA(const float* a, bool transA, int64_t m, int64_t k, int64_t i0, int mc, int64_t p0, int kc, float* out) {
  for (int r = 0; r < mc; r += kMR, out += static_cast<size_t>(kc) * kMR) {
    const int rows = std::min(kMR, mc - r);
    if (rows < kMR) std::fill(out, out + static_cast<size_t>(kc) * kMR, 0.0f);
    if (transA) {  // op(A)[i, p] = a[p·m + i]: a row of a holds kMR consecutive values of one p
      for (int p = 0; p < kc; p++) {
        const float* src = a + (p0 + p) * m + i0 + r;
        if (rows == kMR) std::memcpy(out + p * kMR, src, kMR * sizeof(float));  // a constant size: one vector move
        else for (int ii = 0; ii < rows; ii++) out[p * kMR + ii] = src[ii];
      }
    } else {  // op(A)[i, p] = a[i·k + p]: read each row along p
      int from = 0;
#if defined(__AVX512F__)
      if (rows == kMR) {  // blocks of 16 p transposed in registers (one value per store otherwise: ≈ 15% of a 128 × 400 × 794 product)
        const InterleaveIndices& t = interleaveIndices();
        for (; from + 16 <= kc; from += 16) transpose8x16(a + (i0 + r) * k + p0 + from, k, out + from * kMR, t);
      }
#endif
      for (int ii = 0; ii < rows; ii++) {
        const float* src = a + (i0 + r + ii) * k + p0;
        for (int p = from; p < kc; p++) out[p * kMR + ii] = src[p];
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
      int from = 0;
#if defined(__AVX512F__)
      if (cols == kNR) {  // blocks of 16 p × 16 columns transposed in registers
        const InterleaveIndices& t = interleaveIndices();
        for (; from + 16 <= kc; from += 16)
          for (int half = 0; half < kNR; half += 16) transpose16x16(b + (j0 + s + half) * k + p0 + from, k, out + from * kNR + half, kNR, t);
      }
#endif
      for (int jj = 0; jj < cols; jj++) {
        const float* src = b + (j0 + s + jj) * k + p0;
        for (int p = from; p < kc; p++) out[p * kNR + jj] = src[p];
      }
    } else if (cols == kNR) {  // op(B)[p, j] = b[p·n + j]: kNR consecutive values per p (a constant size: vector moves,
      // where GCC made the run-time size below a loop of 8-byte moves, ≈ 10% of a 128 × 400 × 794 product)
      for (int p = 0; p < kc; p++) std::memcpy(out + p * kNR, b + (p0 + p) * n + j0 + s, kNR * sizeof(float));
    } else {
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
      const vfloat ai = splat(ap[i]);
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

/** Largest m·n that smallOutputProduct handles (its accumulators live on the stack). */
constexpr int64_t kSmallOutput = 512;

/**
 * C (m × n, tiny) = (C +) Aᵀ·B for A stored k × m and B stored k × n with k long: a sum of k
 * outer products of contiguous rows (a filter gradient with few channels: m = fh·fw·inC taps,
 * n = outC, k = every output position). Register tiles would be mostly padding here. With
 * threads, each sums a share of k into its own accumulators.
 */
void smallOutputProduct(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k, bool accumulate, int threads) {
  const auto partial = [=](int64_t from, int64_t to, float* __restrict__ acc) {
    std::fill(acc, acc + m * n, 0.0f);
    if (n == 1) {  // one column (a 1×1 convolution to one channel): vectorise along m
      for (int64_t p = from; p < to; p++) {
        const float* __restrict__ ap = a + p * m;
        const float bp = b[p];
        for (int64_t i = 0; i < m; i++) acc[i] += ap[i] * bp;
      }
      return;
    }
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
  runOnPool(parts, [&](int t) { partial(k * t / parts, k * (t + 1) / parts, sums.data() + t * m * n); });
  addPartials(sums.data(), parts, m * n, c, accumulate);
}

/** c[i] = (c[i] +) Σ_p a[i·k + p]·b[p] for k a multiple of the vector width (a 1×1 convolution to one channel), rows split over threads. */
void matrixVector(const float* a, const float* b, float* c, int64_t m, int64_t k, bool accumulate, int threads) {
  const int workers = m * k < (int64_t{1} << 16) ? 1 : static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, m / 1024)));
  runOnPool(workers, [&](int id) {
    const int64_t from = m * id / workers, to = m * (id + 1) / workers;
    for (int64_t i = from; i < to; i++) {
      vfloat acc = vfloat{};
      for (int64_t p = 0; p < k; p += kVec) {
        vfloat av, bv;
        std::memcpy(&av, a + i * k + p, sizeof(vfloat));
        std::memcpy(&bv, b + p, sizeof(vfloat));
        acc += av * bv;
      }
      float sum = 0.0f;
      for (int l = 0; l < kVec; l++) sum += acc[l];
      c[i] = accumulate ? c[i] + sum : sum;
    }
  });
}

/** Rows of narrowProduct's register tile. */
constexpr int kNarrowRows = 8;

/**
 * C (m × NV·kVec) = (C +) A·B for row-major A (m × k) and a small B (k × n) without packing: each
 * tile of kNarrowRows rows of C keeps NV vectors per row in registers, and for each p adds A's
 * values (broadcast, read along its rows) times B's row p (in L1). For a convolution's
 * im2col(x)·W with 16 or 32 output channels, where a packed product's copies of A cost more than
 * its arithmetic.
 */
template <int NV>
void narrowProductRows(const float* a, const float* b, float* c, int64_t i0, int64_t i1, int64_t k, bool accumulate) {
  constexpr int64_t n = NV * kVec;
  int64_t i = i0;
  for (; i + kNarrowRows <= i1; i += kNarrowRows) {
    vfloat acc[kNarrowRows][NV];
    AE_UNROLL for (int r = 0; r < kNarrowRows; r++)
      AE_UNROLL for (int v = 0; v < NV; v++) acc[r][v] = vfloat{};
    const float* ar = a + i * k;
    for (int64_t p = 0; p < k; p++) {
      vfloat bv[NV];
      AE_UNROLL for (int v = 0; v < NV; v++) std::memcpy(&bv[v], b + p * n + v * kVec, sizeof(vfloat));
      AE_UNROLL for (int r = 0; r < kNarrowRows; r++) {
        const vfloat av = splat(ar[r * k + p]);
        AE_UNROLL for (int v = 0; v < NV; v++) acc[r][v] += av * bv[v];
      }
    }
    AE_UNROLL for (int r = 0; r < kNarrowRows; r++) {
      float* cr = c + (i + r) * n;
      AE_UNROLL for (int v = 0; v < NV; v++) {
        if (accumulate) {
          vfloat old;
          std::memcpy(&old, cr + v * kVec, sizeof(vfloat));
          acc[r][v] += old;
        }
        std::memcpy(cr + v * kVec, &acc[r][v], sizeof(vfloat));
      }
    }
  }
  for (; i < i1; i++) {
    vfloat acc[NV];
    AE_UNROLL for (int v = 0; v < NV; v++) acc[v] = vfloat{};
    for (int64_t p = 0; p < k; p++) {
      const vfloat av = splat(a[i * k + p]);
      AE_UNROLL for (int v = 0; v < NV; v++) {
        vfloat bv;
        std::memcpy(&bv, b + p * n + v * kVec, sizeof(vfloat));
        acc[v] += av * bv;
      }
    }
    float* cr = c + i * n;
    AE_UNROLL for (int v = 0; v < NV; v++) {
      if (accumulate) {
        vfloat old;
        std::memcpy(&old, cr + v * kVec, sizeof(vfloat));
        acc[v] += old;
      }
      std::memcpy(cr + v * kVec, &acc[v], sizeof(vfloat));
    }
  }
}

/** Whether narrowProduct takes C = A·op(B): A untransposed, n one or two vectors wide, B small enough for L1, enough rows. */
bool narrowApplies(int64_t m, int64_t n, int64_t k, bool transA) {
  return !transA && n == kVec && k * n <= 8192 && m >= 4 * kNarrowRows;
}

/** C = (C +) A·op(B) by narrowProductRows on up to `threads` threads (op(B) = Bᵀ is first copied out, k × n, small). */
void narrowProduct(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k, bool transB, bool accumulate, int threads) {
  std::vector<float> bt;
  if (transB) {  // b is n × k
    bt.resize(static_cast<size_t>(k * n));
    for (int64_t j = 0; j < n; j++)
      for (int64_t p = 0; p < k; p++) bt[p * n + j] = b[j * k + p];
    b = bt.data();
  }
  const int workers = 2.0 * m * n * k < 1e6 ? 1 : static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, m / (4 * kNarrowRows))));
  runOnPool(workers, [&](int id) {
    const int64_t tiles = (m + kNarrowRows - 1) / kNarrowRows;
    const int64_t from = std::min(m, tiles * id / workers * kNarrowRows), to = std::min(m, tiles * (id + 1) / workers * kNarrowRows);
    if (n == kVec) narrowProductRows<1>(a, b, c, from, to, k, accumulate);
    else narrowProductRows<2>(a, b, c, from, to, k, accumulate);
  });
}

/** `iterations` rounds of twelve independent chains of vector multiply-adds, in registers (no call inside the loop to spill them). */
__attribute__((noinline)) void fmaChains(vfloat* chains, int64_t iterations) {
  vfloat a0 = chains[0], a1 = chains[1], a2 = chains[2], a3 = chains[3], a4 = chains[4], a5 = chains[5];
  vfloat a6 = chains[6], a7 = chains[7], a8 = chains[8], a9 = chains[9], a10 = chains[10], a11 = chains[11];
  const vfloat x = vfloat{} + 0.999999f, y = vfloat{} + 1e-7f;
  for (int64_t i = 0; i < iterations; i++) {
    a0 = a0 * x + y; a1 = a1 * x + y; a2 = a2 * x + y; a3 = a3 * x + y; a4 = a4 * x + y; a5 = a5 * x + y;
    a6 = a6 * x + y; a7 = a7 * x + y; a8 = a8 * x + y; a9 = a9 * x + y; a10 = a10 * x + y; a11 = a11 * x + y;
  }
  chains[0] = a0; chains[1] = a1; chains[2] = a2; chains[3] = a3; chains[4] = a4; chains[5] = a5;
  chains[6] = a6; chains[7] = a7; chains[8] = a8; chains[9] = a9; chains[10] = a10; chains[11] = a11;
}

}  // namespace

/**
 * The cores' arithmetic limit, against which the products are measured: each of `threads` threads runs fmaChains
 * (distinct starting values keep the compiler from merging the chains; their results are stored, so they are not
 * dropped) for about `seconds` from when it starts, and the result is the sum of the threads' multiply-adds × 2 per
 * second of their own running time, in GFLOP/s (a thread woken late is not charged for the wait).
 */
double fmaThroughput(int threads, double seconds) {
  constexpr int64_t kIterations = 1 << 14;
  std::vector<double> rates(static_cast<size_t>(std::max(1, threads)), 0.0);
  runOnPool(threads, [&](int id) {
    vfloat chains[12];
    for (int i = 0; i < 12; i++) chains[i] = vfloat{} + static_cast<float>(i + 1);
    const auto start = std::chrono::steady_clock::now();
    int64_t rounds = 0;
    double elapsed = 0;
    do {
      fmaChains(chains, kIterations);
      rounds++;
      elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    } while (elapsed < seconds);
    rates[id] = static_cast<double>(rounds) * kIterations * 12 * kVec * 2 / elapsed;
  });
  double total = 0;
  for (double rate : rates) total += rate;
  return total / 1e9;
}

void runJob(const Job& job, int threads) {
  const double flops = 2.0 * job.batch * job.m * job.n * job.k;
  // Threads only where a product is big enough to pay for waking one: ≈ 10–20 µs on an idle core,
  // but ≈ 0.2 ms (median) when other processes keep both cores busy, while a second thread saves
  // at best ≈ 20 µs on a 13 MFLOP product (128×400×128) and ≈ 140 µs on 80 MFLOP (128×400×784).
  if (threads <= 1 || flops < 2e7) {
    for (int64_t t = 0; t < job.batch; t++) runPart(job, t, 1, false);
    return;
  }
  // Whole matrices per thread when the batch is large enough; else split each matrix, along its
  // columns when it has enough of them, else along its rows. Each part packs all of op(A) for a
  // column split and all of op(B) for a row split, so a tall C (m ≥ 2n: a convolution's im2col
  // product, a filter gradient, a wide dense layer's weight gradient) splits its rows once its
  // depth (k ≥ 64) makes that packing worth sharing: 0.66–0.88× the time of the column split on
  // C [576, 64] with k 448 (Aᵀ), [448, 576]·[576, 64], [896, 64]·[64, 288] (Bᵀ) and [64, 30976]ᵀ·[64, 128] (2 threads).
  // Either split gives every element of C the same sums in the same order.
  const int64_t colUnits = (job.n + kNR - 1) / kNR;
  const int64_t rowUnits = (job.m + kMR - 1) / kMR;
  const bool splitRows = (colUnits < threads && rowUnits > colUnits) || (job.m >= 2 * job.n && job.k >= 64 && rowUnits >= 2 * threads);
  const int64_t parts = job.batch >= threads ? 1 : std::max<int64_t>(1, std::min<int64_t>(threads, splitRows ? rowUnits : colUnits));
  const int64_t items = job.batch * parts;
  const int workers = static_cast<int>(std::min<int64_t>(threads, items));
  runOnPool(workers, [&job, workers, items, parts, splitRows](int id) {
    for (int64_t w = id; w < items; w += workers) runPart(job, w, parts, splitRows);
  });
}

/**
 * One product C = (C +) op(A)·op(B) on `threads` threads. When C has fewer columns than a register
 * tile is wide but many rows (a convolution with few output channels), most of each tile would
 * be padding: then Cᵀ = op(B)ᵀ·op(A)ᵀ is computed instead (the small side on the tile's rows)
 * and transposed into C.
 */
void product(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k, bool transA, bool transB, bool accumulate, int threads) {
  if (n == 1 && !transA && k % kVec == 0 && m >= 4 * kVec) {
    matrixVector(a, b, c, m, k, accumulate, threads);
    return;
  }
  if (narrowApplies(m, n, k, transA)) {
    narrowProduct(a, b, c, m, n, k, transB, accumulate, threads);
    return;
  }
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

}  // namespace ae
