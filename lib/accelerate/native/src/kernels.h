// The addon's kernels, as addon.cc (the N-API glue) calls them: plain C++ on float arrays that
// are views of the wasm heap (no copies), threads from the pool in common.h. One file each:
//   gemm.cc          matrix products (packed, register-tiled)
//   conv_im2col.cc   2-D convolutions by im2col on top of the product
//   conv_direct.cc   2-D convolutions by direct kernels (few channels, stride 1)
//   conv_narrow.cc   convolutions with 16, 32 or 64 output channels (input gradients: input channels), without im2col
//   pooling.cc       max pooling's gradient, upsampling and its gradient, argmax over one axis
//   elementwise.cc   Adam, momentum, activation masks, comparisons (Greater, LessEqual), Select, casts to float32, bias sums and adds
//   activations.cc   Tanh, Sigmoid and Softplus in float vectors
//   batch_norm.cc    batch normalisation in training (+ ReLU), forward and backward
//   layout.cc        transposes (data movement only)
//   thread_pool.cc   the persistent thread pool
#pragma once

#include "common.h"
#include "enums.h"

namespace ae {

// ---- gemm.cc ----

/** A batch of products C_t = (C_t +) op(A_t) · op(B_t), row-major; strides in floats (0 broadcasts). */
struct Job {
  const float* a;
  const float* b;
  float* c;
  int64_t batch, m, n, k, strideA, strideB;
  bool transA, transB;
  bool accumulate;
};

/** Run a batch of products on `threads` threads. */
void runJob(const Job& job, int threads);

/** GFLOP/s of `threads` threads running register-only vector multiply-adds (fused where the CPU has FMA) for about `seconds` each (the arithmetic limit). */
double fmaThroughput(int threads, double seconds);

/**
 * One product C = (C +) op(A)·op(B) on `threads` threads. With one or two vectors of columns, a small
 * B and A untransposed, row tiles of C straight from A's rows (no packing); else when C has fewer
 * columns than a register tile is wide but many rows, Cᵀ is computed instead and transposed; a tiny Aᵀ·B with a long k
 * is summed as outer products.
 */
void product(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k, bool transA, bool transB, bool accumulate, int threads);

// ---- conv_im2col.cc, conv_direct.cc ----

/** A 2-D convolution's geometry (NHWC images, [fH, fW, inC, outC] filters: tfjs's layouts). */
struct ConvShape {
  int64_t batch, inH, inW, inC, outH, outW, outC, fH, fW, strideH, strideW, dilH, dilW, padTop, padLeft;
  int64_t K() const { return fH * fW * inC; }
};

/** Rows of the direct kernels: at most this many vector registers wide (mirrored in wasm-overrides/conv-native.ts). */
constexpr int kMaxRowVectors = 4;
/** Widest filter the direct kernels take (mirrored in wasm-overrides/conv-native.ts). */
constexpr int kMaxDirectFilterWidth = 7;

/**
 * conv2d by im2col: y = im2col(x)·W, dx = col2im(dy·Wᵀ) (dy in y), dW = Σ im2col(x)ᵀ·dy (written to w);
 * with one or two vectors of output (input) channels, y and dW (dx) by conv_narrow.cc's kernels instead.
 */
void conv2d(ConvMode mode, const ConvShape& s, float* x, float* w, float* y, int threads);
/** Whether narrowForward takes this shape: one, two or four vectors of output channels (four: at stride 1 or with ≥ 64 output positions). */
bool narrowForwardApplies(const ConvShape& s);
/** y of conv2d without im2col: register tiles of consecutive output positions over a zero-bordered copy of each image (conv_narrow.cc). */
void narrowForward(const ConvShape& s, const float* x, const float* w, float* y, int threads);
/**
 * Whether narrowInputGradient takes this shape: one or two vectors of input channels (four with ≥ 64 input positions), and stride 1,
 * undilated, padding inside the filter, or the stride equal to the filter size, undilated, unpadded.
 */
bool narrowInputGradientApplies(const ConvShape& s);
/** dx of conv2d as narrowForward of dy with the flipped, channel-swapped filter (stride 1), or tap by tap into place (stride = filter). */
void narrowInputGradient(const ConvShape& s, float* dx, const float* w, const float* dy, int threads);
/** Whether narrowFilterGradient takes this shape: one or two vectors of output channels (four with ≥ 64 output positions). */
bool narrowFilterGradientApplies(const ConvShape& s);
/** dW of conv2d without im2col, one register block of dW rows per tap and channel block (conv_narrow.cc). */
void narrowFilterGradient(const ConvShape& s, const float* x, const float* dy, float* dw, int threads);
/** Whether the direct kernels take this shape: stride 1, dilation 1, 0 ≤ pad < filter, narrow rows. */
bool directApplies(const ConvShape& s);
/** conv2d by the direct kernels (directApplies(s) holds). */
void directConv2d(ConvMode mode, const ConvShape& s, float* x, float* w, float* y, int threads);

// ---- pooling.cc ----

/** dx of max pooling (NHWC): each window's first maximum gets its dy (tfjs-cpu's rule); windows clipped by padding. */
void maxPoolGrad(const float* dy, const float* x, float* dx, int64_t batch, int64_t inH, int64_t inW, int64_t C, int64_t outH, int64_t outW,
                 int64_t fH, int64_t fW, int64_t strideH, int64_t strideW, int64_t padTop, int64_t padLeft, int threads);
/** Nearest-neighbour upscaling by integer factors sh, sw (NHWC), or its gradient (block sums). */
void upsample(UpsampleMode mode, float* small, float* large, int64_t batch, int64_t inH, int64_t inW, int64_t C, int64_t sh, int64_t sw, int threads);
/** out[o, i] = the first j with x[o, j, i] the largest of x[o, 0…k−1, i] (x viewed as [outer, k, inner]; x[o, 0, i] where it is NaN, as wasm's ArgMax). */
void argMax(const float* x, int32_t* out, int64_t outer, int64_t k, int64_t inner, int threads);

// ---- elementwise.cc ----

/** One Adam step in place on w, m, v (n each) from g, in tfjs's AdamOptimizer order (float32 throughout). */
void adam(float* w, float* m, float* v, const float* g, int64_t n, float lr, float beta1, float beta2, float epsilon,
          float biasCorrection1, float biasCorrection2, int threads);
/**
 * One momentum-SGD step in place on w and its accumulation a (n each) from g, in tfjs's MomentumOptimizer order: a ← m·a + g;
 * w ← w − lr·a (Nesterov: w − lr·(g + m·a)). With decayFactor, g is first g + factor·w (weight decay's gradient, rounded as two kernels).
 */
void momentum(float* w, float* accumulation, const float* g, int64_t n, float lr, float momentum, bool nesterov, const float* decayFactor, int threads);
/** y = op(x) element-wise (x and y may be the same array): LeakyRelu x < 0 ? αx : x; Step x > 0 ? 1 : α (NaN stays); Relu; Tanh, Sigmoid, Softplus (smoothUnary). */
void unary(UnaryOp op, const float* x, float* y, int64_t n, float alpha, int threads);

// ---- activations.cc ----

/** y = tanh x, 1 / (1 + e^−x) or softplus x (tfjs's cut-offs) element-wise, op one of those three; x and y may be the same array. */
void smoothUnary(UnaryOp op, const float* x, float* y, int64_t n, int threads);
/** out[i] = a[i] > b[i] or a[i] ≤ b[i] (b[0] for all i when scalarB), as bytes 0/1; 0 where either is NaN. */
void compare(ComparisonOp op, const float* a, const float* b, bool scalarB, uint8_t* out, int64_t n, int threads);
/** out[i] = x[i] as float32: a bool (bytes 0/1) or int32 tensor cast to float32. */
void toFloat32(const uint8_t* x, float* out, int64_t n, int threads);
void toFloat32(const int32_t* x, float* out, int64_t n, int threads);
/** out[i] = c[i] ? t[i] : e[i], branch-free. */
void select(const uint8_t* c, const float* t, const float* e, float* out, int64_t n, int threads);
/** out[j] = Σ_i x[i·cols + j], accumulated in float64. */
void sumRows(const float* x, int64_t rows, int64_t cols, float* out, int threads);
/**
 * Σ_a Σ_i arrays[a][i]² as tfjs computes tf.addN(arrays.map((x) => tf.sum(tf.square(x)))) on wasm with our kernels: each square
 * rounded to float32; each sum in float32 term by term (wasm's own Sum), or by sumRows from longTerms terms (the caller's
 * threshold: wasm-overrides/reduce.ts LONG_REDUCTION_TERMS); the sums added in order from 0 (wasm's AddN).
 */
float sumOfSquares(const float* const* arrays, const int64_t* lengths, int64_t count, int64_t longTerms, int threads);
/** out[r] = Σ_j x[r·cols + j] for r < rows, each row in float32 in order (wasm's own Sum over trailing axes), rows side by side. */
void sumLastAxis(const float* x, int64_t rows, int64_t cols, float* out, int threads);
/** out[i] = op(a[i], b[i]) for i < n, where an operand of length 1 (aScalar, bScalar) is one value for every i. */
void binary(BinaryOp op, const float* a, bool aScalar, const float* b, bool bScalar, float* out, int64_t n, int threads);
/** out = op(a, b) where one operand is a [rows, cols] matrix and the other one row of cols values (the first operand when rowFirst). */
void binaryRows(BinaryOp op, const float* a, const float* b, bool rowFirst, float* out, int64_t rows, int64_t cols, int threads);
/** out[c] = (Σ over rows, in order, of x[r·cols + c] in float32) / rows: wasm's own Mean over leading axes, bit for bit. */
void meanRows(const float* x, int64_t rows, int64_t cols, float* out, int threads);
/** out[i] = a[i] + b[i]: binary's Add. */
void addArrays(const float* a, const float* b, float* out, int64_t n, int threads);
/** out[i·cols + j] = x[i·cols + j] + bias[j]: binaryRows's Add. */
void addRows(const float* x, const float* bias, float* out, int64_t rows, int64_t cols, int threads);

// ---- batch_norm.cc ----

/**
 * Batch norm in training over the last axis of x as [rows, C]: mean and biased variance of each
 * channel, y = γ(x − μ)/√(σ² + ε) + β, then max(0, y) when relu.
 */
void batchNormForward(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* variance, int64_t rows, int64_t C,
                      float epsilon, bool relu, int threads);
/** dx, dγ, dβ of batchNormForward (batch statistics, as in training) from dy and its inputs and statistics. */
void batchNormBackward(const float* dy, const float* x, const float* gamma, const float* beta, const float* mean, const float* variance, float* dx,
                       float* dgamma, float* dbeta, int64_t rows, int64_t C, float epsilon, bool relu, int threads);

// ---- layout.cc ----

/** The most axes transpose takes. */
constexpr int kMaxTransposeRank = 8;
/** y = x with its axes permuted (y's axis i is x's axis perm[i]); x of `shape` (rank 2 … kMaxTransposeRank), 4-byte values copied bit for bit. */
void transpose(const uint32_t* x, uint32_t* y, const int64_t* shape, const int64_t* perm, int rank, int threads);

}  // namespace ae
