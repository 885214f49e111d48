// Batch normalisation in training over the channel (last) axis of x viewed as [rows, C] (NHWC
// feature maps, or [n, C]), optionally followed by ReLU, forward and backward in two passes over
// the data each (one reduction, one element-wise), where tfjs's ops take about twenty kernels.
//   forward:  μ, σ² (biased) per channel; y = (x − μ)·s + β with s = γ/√(σ² + ε); ReLU
//   backward: g = dy (masked by (x − μ)·s + β > 0 under ReLU); dβ = Σg; dγ = Σg·x̂ with x̂ = (x − μ)/√(σ² + ε);
//             dx = s·(g − dβ/N − x̂·dγ/N) = s·(g + a·(x − μ) + b) with a = −dγ/(N·√(σ² + ε)), b = −dβ/N
// (x − μ) is formed first, not x·s + (β − μ·s): with a small σ and a large μ that would cancel.
// Sums over rows run in float over blocks of kBlockRows rows, then in float64, split over threads.
// With one, two or four vectors of channels the loops over a row run on vector registers (withVectors).
#include <cmath>
#include <type_traits>

#include "kernels.h"

namespace ae {
namespace {

constexpr int64_t kBlockRows = 64;

/** Workers for a pass over rows × C values: one below 64k values, else up to `threads` with ≥ 256 rows each. */
int workersFor(int64_t rows, int64_t C, int threads) {
  if (rows * C < (int64_t{1} << 16)) return 1;
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, rows / 256)));
}

/**
 * Per-channel sums over rows [from, to) of x (C wide) into acc[0..C) += Σ(x − shift) and
 * acc[C..2C) += Σ(x − shift)² (float64), for the moments around a shift near the mean.
 */
void momentSums(const float* __restrict__ x, const float* __restrict__ shift, int64_t from, int64_t to, int64_t C, double* __restrict__ acc, float* __restrict__ s1, float* __restrict__ s2) {
  for (int64_t r0 = from; r0 < to; r0 += kBlockRows) {
    const int64_t r1 = std::min(to, r0 + kBlockRows);
    std::fill(s1, s1 + C, 0.0f);
    std::fill(s2, s2 + C, 0.0f);
    for (int64_t r = r0; r < r1; r++) {
      const float* __restrict__ row = x + r * C;
      for (int64_t c = 0; c < C; c++) {
        const float d = row[c] - shift[c];
        s1[c] += d;
        s2[c] += d * d;
      }
    }
    for (int64_t c = 0; c < C; c++) {
      acc[c] += s1[c];
      acc[C + c] += s2[c];
    }
  }
}

/**
 * momentSums for C = NV vectors of channels, in vector registers: per block of kBlockRows rows the same float sums, row by row
 * (s1 += d, s2 += d·d as one multiply-add, as the compiler makes of the scalar loop), then added to acc in float64.
 */
template <int NV>
void momentSumsVectors(const float* __restrict__ x, const float* __restrict__ shift, int64_t from, int64_t to, double* __restrict__ acc) {
  constexpr int64_t C = NV * kVec;
  vfloat sh[NV];
  AE_UNROLL for (int v = 0; v < NV; v++) std::memcpy(&sh[v], shift + v * kVec, sizeof(vfloat));
  for (int64_t r0 = from; r0 < to; r0 += kBlockRows) {
    const int64_t r1 = std::min(to, r0 + kBlockRows);
    vfloat s1[NV], s2[NV];
    AE_UNROLL for (int v = 0; v < NV; v++) s1[v] = s2[v] = vfloat{};
    for (int64_t r = r0; r < r1; r++) {
      AE_UNROLL for (int v = 0; v < NV; v++) {
        vfloat xv;
        std::memcpy(&xv, x + r * C + v * kVec, sizeof(vfloat));
        const vfloat d = xv - sh[v];
        s1[v] += d;
        s2[v] += d * d;
      }
    }
    AE_UNROLL for (int v = 0; v < NV; v++) {
      // Through a copy: reading the lanes of s1[v] in place would keep s1 and s2 in memory over the whole row loop.
      float l1[kVec], l2[kVec];
      std::memcpy(l1, &s1[v], sizeof(vfloat));
      std::memcpy(l2, &s2[v], sizeof(vfloat));
      for (int l = 0; l < kVec; l++) {
        acc[v * kVec + l] += l1[l];
        acc[C + v * kVec + l] += l2[l];
      }
    }
  }
}

/** affineRows for C = NV vectors of channels: (x − m)·a + b as one multiply-add per value (as the scalar loop's), then max(0, ·) under ReLU. */
template <int NV, bool Relu>
void affineRowsVectors(const float* __restrict__ x, const float* __restrict__ m, const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ out,
                       int64_t from, int64_t to) {
  constexpr int64_t C = NV * kVec;
  vfloat mv[NV], av[NV], bv[NV];
  AE_UNROLL for (int v = 0; v < NV; v++) {
    std::memcpy(&mv[v], m + v * kVec, sizeof(vfloat));
    std::memcpy(&av[v], a + v * kVec, sizeof(vfloat));
    std::memcpy(&bv[v], b + v * kVec, sizeof(vfloat));
  }
  for (int64_t r = from; r < to; r++) {
    AE_UNROLL for (int v = 0; v < NV; v++) {
      vfloat xv;
      std::memcpy(&xv, x + r * C + v * kVec, sizeof(vfloat));
      vfloat y = (xv - mv[v]) * av[v] + bv[v];
      if (Relu) y = y > 0.0f ? y : vfloat{};  // std::max(0.0f, y): 0 for NaN and for −0
      std::memcpy(out + r * C + v * kVec, &y, sizeof(vfloat));
    }
  }
}

/**
 * Per-channel sums over rows [from, to) of the gradient g (dy, zeroed where (x − μ)·s + β ≤ 0
 * under ReLU): acc[0..C) += Σg, acc[C..2C) += Σg·(x − μ) (float64). The mask multiplies (0 or 1)
 * rather than selects, so that the loop vectorises (a select compiled to a branch: 5× slower).
 */
template <bool Relu, int Channels>
void gradientSums(const float* __restrict__ dy, const float* __restrict__ x, const float* __restrict__ mean, const float* __restrict__ s,
                  const float* __restrict__ beta, int64_t from, int64_t to, int64_t channels, double* __restrict__ acc, float* __restrict__ s1, float* __restrict__ s2) {
  const int64_t C = Channels > 0 ? Channels : channels;
  for (int64_t r0 = from; r0 < to; r0 += kBlockRows) {
    const int64_t r1 = std::min(to, r0 + kBlockRows);
    std::fill(s1, s1 + C, 0.0f);
    std::fill(s2, s2 + C, 0.0f);
    for (int64_t r = r0; r < r1; r++) {
      const float* __restrict__ xr = x + r * C;
      const float* __restrict__ gr = dy + r * C;
      for (int64_t c = 0; c < C; c++) {
        const float d = xr[c] - mean[c];
        const float g = Relu ? gr[c] * static_cast<float>(d * s[c] + beta[c] > 0.0f) : gr[c];
        s1[c] += g;
        s2[c] += g * d;
      }
    }
    for (int64_t c = 0; c < C; c++) {
      acc[c] += s1[c];
      acc[C + c] += s2[c];
    }
  }
}

/** dx rows [from, to) = s·(g + a·(x − μ) + b), g as in gradientSums. */
template <bool Relu, int Channels>
void gradientRows(const float* __restrict__ dy, const float* __restrict__ x, const float* __restrict__ mean, const float* __restrict__ s,
                  const float* __restrict__ beta, const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ dx, int64_t from, int64_t to, int64_t channels) {
  const int64_t C = Channels > 0 ? Channels : channels;
  for (int64_t r = from; r < to; r++) {
    const float* __restrict__ xr = x + r * C;
    const float* __restrict__ gr = dy + r * C;
    float* __restrict__ o = dx + r * C;
    for (int64_t c = 0; c < C; c++) {
      const float d = xr[c] - mean[c];
      const float g = Relu ? gr[c] * static_cast<float>(d * s[c] + beta[c] > 0.0f) : gr[c];
      o[c] = s[c] * (g + a[c] * d + b[c]);
    }
  }
}

/**
 * f(std::integral_constant<int, V>) when C is V = 1, 2 or (MaxVectors 4) 4 vectors of channels (16, 32, 64 with AVX-512): the
 * loops over a row's channels then have a fixed length and keep their values in registers, where GCC compiles the loops over a
 * run-time C to scalar code (with one or two vectors ≈ 0.45× the time of the backward pass on [131072, 16] and of the forward
 * on [65536, 16]); else f(std::integral_constant<int, 0>) (any C). The same arithmetic in the same order either way.
 */
template <int MaxVectors, typename F>
void withVectors(int64_t C, const F& f) {
  if (C == kVec) f(std::integral_constant<int, 1>{});
  else if (C == 2 * kVec) f(std::integral_constant<int, 2>{});
  else if (MaxVectors >= 4 && C == 4 * kVec) f(std::integral_constant<int, 4>{});
  else f(std::integral_constant<int, 0>{});
}

/** Run `sums(from, to, acc, s1, s2)` over rows split between workers; total[0..2C) gets the float64 totals in thread order. */
template <typename Sums>
void reduceRows(int64_t rows, int64_t C, int threads, std::vector<double>& total, const Sums& sums) {
  const int workers = workersFor(rows, C, threads);
  std::vector<double> partial(static_cast<size_t>(workers * 2 * C), 0.0);
  std::vector<float> blocks(static_cast<size_t>(workers * 2 * C));
  runOnPool(workers, [&](int id) {
    sums(rows * id / workers, rows * (id + 1) / workers, partial.data() + id * 2 * C, blocks.data() + id * 2 * C, blocks.data() + id * 2 * C + C);
  });
  total.assign(static_cast<size_t>(2 * C), 0.0);
  for (int w = 0; w < workers; w++)
    for (int64_t e = 0; e < 2 * C; e++) total[e] += partial[w * 2 * C + e];
}

/** out[r·C + c] = (x[r·C + c] − m[c])·a[c] + b[c] for rows [from, to), clamped at 0 when relu. */
void affineRows(const float* __restrict__ x, const float* __restrict__ m, const float* __restrict__ a, const float* __restrict__ b, bool relu, float* __restrict__ out,
                int64_t from, int64_t to, int64_t C) {
  for (int64_t r = from; r < to; r++) {
    const float* __restrict__ xr = x + r * C;
    float* __restrict__ o = out + r * C;
    if (relu) {
      for (int64_t c = 0; c < C; c++) o[c] = std::max(0.0f, (xr[c] - m[c]) * a[c] + b[c]);
    } else {
      for (int64_t c = 0; c < C; c++) o[c] = (xr[c] - m[c]) * a[c] + b[c];
    }
  }
}

/**
 * s = γ/√(σ² + ε) per channel from the float32 statistics, the same expression in both passes (so
 * the backward ReLU mask is the forward's); invStd = 1/√(σ² + ε) in float64.
 */
void scales(const float* gamma, const float* variance, int64_t C, float epsilon, std::vector<float>& s, std::vector<double>& invStd) {
  s.resize(static_cast<size_t>(C));
  invStd.resize(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; c++) {
    invStd[c] = 1.0 / std::sqrt(static_cast<double>(variance[c]) + static_cast<double>(epsilon));
    s[c] = static_cast<float>(gamma[c] * invStd[c]);
  }
}

}  // namespace

void batchNormForward(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* variance, int64_t rows, int64_t C,
                      float epsilon, bool relu, int threads) {
  // Moments around the first row (a shift near the mean keeps Σ(x − shift)² from cancelling).
  std::vector<float> shift(x, x + C);
  std::vector<double> total;
  withVectors<4>(C, [&](auto vectors) {
    reduceRows(rows, C, threads, total, [&](int64_t from, int64_t to, double* acc, float* s1, float* s2) {
      if constexpr (vectors.value > 0) momentSumsVectors<vectors.value>(x, shift.data(), from, to, acc);
      else momentSums(x, shift.data(), from, to, C, acc, s1, s2);
    });
  });
  for (int64_t c = 0; c < C; c++) {
    const double d = total[c] / static_cast<double>(rows);
    mean[c] = static_cast<float>(shift[c] + d);
    variance[c] = static_cast<float>(std::max(0.0, total[C + c] / static_cast<double>(rows) - d * d));
  }
  std::vector<float> scale;
  std::vector<double> invStd;
  scales(gamma, variance, C, epsilon, scale, invStd);
  const int workers = workersFor(rows, C, threads);
  withVectors<4>(C, [&](auto vectors) {
    runOnPool(workers, [&](int id) {
      const int64_t from = rows * id / workers, to = rows * (id + 1) / workers;
      if constexpr (vectors.value > 0) {
        if (relu) affineRowsVectors<vectors.value, true>(x, mean, scale.data(), beta, y, from, to);
        else affineRowsVectors<vectors.value, false>(x, mean, scale.data(), beta, y, from, to);
      } else {
        affineRows(x, mean, scale.data(), beta, relu, y, from, to, C);
      }
    });
  });
}

void batchNormBackward(const float* dy, const float* x, const float* gamma, const float* beta, const float* mean, const float* variance, float* dx,
                       float* dgamma, float* dbeta, int64_t rows, int64_t C, float epsilon, bool relu, int threads) {
  std::vector<float> s;
  std::vector<double> invStd;
  scales(gamma, variance, C, epsilon, s, invStd);
  std::vector<double> total;
  withVectors<2>(C, [&](auto vectors) {
    reduceRows(rows, C, threads, total, [&](int64_t from, int64_t to, double* acc, float* s1, float* s2) {
      if (relu) gradientSums<true, vectors.value * kVec>(dy, x, mean, s.data(), beta, from, to, C, acc, s1, s2);
      else gradientSums<false, vectors.value * kVec>(dy, x, mean, s.data(), beta, from, to, C, acc, s1, s2);
    });
  });
  // dx = s·(g + a·(x − μ) + b) (g = dy masked under ReLU; the bracket first, so that it vanishes exactly when N = 1).
  std::vector<float> a(static_cast<size_t>(C)), b(static_cast<size_t>(C));
  const double n = static_cast<double>(rows);
  for (int64_t c = 0; c < C; c++) {
    dbeta[c] = static_cast<float>(total[c]);
    dgamma[c] = static_cast<float>(total[C + c] * invStd[c]);
    a[c] = static_cast<float>(-total[C + c] * invStd[c] * invStd[c] / n);
    b[c] = static_cast<float>(-total[c] / n);
  }
  const int workers = workersFor(rows, C, threads);
  withVectors<2>(C, [&](auto vectors) {
    runOnPool(workers, [&](int id) {
      const int64_t from = rows * id / workers, to = rows * (id + 1) / workers;
      if (relu) gradientRows<true, vectors.value * kVec>(dy, x, mean, s.data(), beta, a.data(), b.data(), dx, from, to, C);
      else gradientRows<false, vectors.value * kVec>(dy, x, mean, s.data(), beta, a.data(), b.data(), dx, from, to, C);
    });
  });
}

}  // namespace ae
