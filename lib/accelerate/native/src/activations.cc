// Smooth activations of unary (elementwise.cc hands them here): Tanh, Sigmoid and Softplus, in
// float vectors through one vector exponential, so that the tanh and sigmoid layers of the conv
// autoencoders and the CVAE's softplus cost a pass over memory rather than a libm call per value.
// Accuracy (test/accelerate/native-addon.test.ts checks it against float64 Math on ±0, ±∞, NaN
// and a sweep): a few float32 ulps, within 4e-7 of the exact value relative to max(|y|, 0.25).
#include <cmath>

#include "kernels.h"

namespace ae {
namespace {

typedef int32_t vint __attribute__((vector_size(kVec * sizeof(int32_t))));

/**
 * e^x for x ∈ [−87.3, 88] (clamped there: e^−87.3 ≈ 1.2e−38 is the smallest normal float, and
 * e^88 stays below FLT_MAX): x = n·ln 2 + r with |r| ≤ ln 2 / 2 (ln 2 split in a short head and a
 * tail so that n·head is exact), e^r by its Taylor series to r^7 (truncation < 6e−9 relative),
 * times 2^n built in the exponent bits. NaN lanes come out as garbage: callers restore them.
 */
inline vfloat vexp(vfloat x) {
  x = x < -87.3f ? vfloat{} - 87.3f : x;
  x = x > 88.0f ? vfloat{} + 88.0f : x;
  const vfloat t = x * 1.44269504088896341f;                          // x / ln 2
  const vint n = __builtin_convertvector(t + (t < 0.0f ? vfloat{} - 0.5f : vfloat{} + 0.5f), vint);  // rounded half away from 0
  const vfloat fn = __builtin_convertvector(n, vfloat);
  vfloat r = x - fn * 0.693145751953125f;                             // head of ln 2 (12 significant bits)
  r = r - fn * 1.428606765330187e-06f;                                // tail of ln 2
  vfloat p = vfloat{} + 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const vint bits = (n + 127) << 23;                                  // 2^n, n ∈ [−126, 127]
  vfloat scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  return p * scale;
}

/**
 * tanh x: for |x| < 1/4 its odd Taylor series to x^11 (next term < 6e−11 relative), else
 * sign(x)·(1 − 2 / (e^{2|x|} + 1)), which is 1 exactly from |x| ≈ 9 on (and for ±∞).
 */
inline vfloat vtanh(vfloat x) {
  const vfloat a = x < 0.0f ? -x : x;
  const vfloat x2 = x * x;
  vfloat p = vfloat{} - 1382.0f / 155925.0f;
  p = p * x2 + 62.0f / 2835.0f;
  p = p * x2 - 17.0f / 315.0f;
  p = p * x2 + 2.0f / 15.0f;
  p = p * x2 - 1.0f / 3.0f;
  const vfloat small = x + x * x2 * p;
  const vfloat big = 1.0f - 2.0f / (vexp(a + a) + 1.0f);
  const vfloat result = a < 0.25f ? small : (x < 0.0f ? -big : big);
  return x != x || x == 0.0f ? x : result;  // NaN stays NaN, −0 stays −0
}

/** sigmoid x = 1 / (1 + e^−x) (tfjs's formula). */
inline vfloat vsigmoid(vfloat x) {
  const vfloat result = 1.0f / (1.0f + vexp(-x));
  return x != x ? x : result;
}

/**
 * ln y for y ∈ [1, 2]: y = m·2^e with m ∈ [√½, √2), ln m = 2·atanh s = 2(s + s³/3 + … + s^11/11)
 * with s = (m − 1)/(m + 1), |s| ≤ 0.172 (next term < 2e−10).
 */
inline vfloat vlogOneToTwo(vfloat y) {
  const vfloat upper = y >= 1.41421356f ? vfloat{} + 1.0f : vfloat{};  // e ∈ {0, 1}
  const vfloat m = y >= 1.41421356f ? y * 0.5f : y;
  const vfloat s = (m - 1.0f) / (m + 1.0f);
  const vfloat s2 = s * s;
  vfloat p = vfloat{} + 1.0f / 11.0f;
  p = p * s2 + 1.0f / 9.0f;
  p = p * s2 + 1.0f / 7.0f;
  p = p * s2 + 1.0f / 5.0f;
  p = p * s2 + 1.0f / 3.0f;
  p = p * s2 + 1.0f;
  return upper * 0.693147180559945309f + 2.0f * s * p;
}

/**
 * softplus x = ln(1 + e^x) with tfjs's cut-offs: x above −ln ε − 2 (≈ 13.94, ε = 2^−23) gives x,
 * below ln ε + 2 gives e^x; between them max(x, 0) + log1p(e^−|x|), log1p(u) = ln w · u / (w − 1)
 * with w = 1 + u (exact where w rounds u away; w = 1 gives u).
 */
inline vfloat vsoftplus(vfloat x) {
  const float threshold = std::log(1.1920928955078125e-7f) + 2.0f;
  const vfloat a = x < 0.0f ? -x : x;
  const vfloat u = vexp(-a);
  const vfloat w = 1.0f + u;
  const vfloat log1p = w == 1.0f ? u : vlogOneToTwo(w) * u / (w - 1.0f);
  const vfloat middle = (x > 0.0f ? x : vfloat{}) + log1p;
  const vfloat result = x > -threshold ? x : (x < threshold ? u : middle);  // below the cut-off x < 0, so u = e^x
  return x != x ? x : result;
}

inline vfloat apply(UnaryOp op, vfloat v) {
  return op == UnaryOp::Tanh ? vtanh(v) : op == UnaryOp::Sigmoid ? vsigmoid(v) : vsoftplus(v);
}

}  // namespace

void smoothUnary(UnaryOp op, const float* x, float* y, int64_t n, int threads) {
  // One thread below 2^18 values: a sigmoid on 100k values takes ≈ 30 µs on one, less than a second
  // thread's wake-up costs when other processes keep the cores busy (≈ 0.2 ms median).
  parallelFor(n, n < (int64_t{1} << 18) ? 1 : threads, [=](int64_t from, int64_t to) {
    int64_t i = from;
    for (; i + kVec <= to; i += kVec) {
      vfloat v;
      std::memcpy(&v, x + i, sizeof(vfloat));
      const vfloat r = apply(op, v);
      std::memcpy(y + i, &r, sizeof(vfloat));
    }
    if (i < to) {  // the tail as one padded vector
      vfloat v = vfloat{};
      std::memcpy(&v, x + i, static_cast<size_t>(to - i) * sizeof(float));
      const vfloat r = apply(op, v);
      std::memcpy(y + i, &r, static_cast<size_t>(to - i) * sizeof(float));
    }
  });
}

}  // namespace ae
