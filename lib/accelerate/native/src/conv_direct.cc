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
#include "kernels.h"

namespace ae {
namespace {

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
      AE_UNROLL for (int o = 0; o < OB; o++)
        AE_UNROLL for (int v = 0; v < NV; v++) acc[o][v] = vfloat{};
      const float* wp = wBlock;
      for (int64_t c = 0; c < C; c++) {
        for (int64_t ky = 0; ky < fH; ky++) {
          const float* row = P + (c * rows + oy + ky) * cols;
          for (int64_t kx = 0; kx < fW; kx++, wp += OB) {
            vfloat pv[NV];
            AE_UNROLL for (int v = 0; v < NV; v++) std::memcpy(&pv[v], row + kx + v * kVec, sizeof(vfloat));
            AE_UNROLL for (int o = 0; o < OB; o++) {
              const vfloat wv = splat(wp[o]);
              AE_UNROLL for (int v = 0; v < NV; v++) acc[o][v] += wv * pv[v];
            }
          }
        }
      }
      AE_UNROLL for (int o = 0; o < OB; o++)
        AE_UNROLL for (int v = 0; v < NV; v++) std::memcpy(outT + ((ob + o) * outH + oy) * OW + v * kVec, &acc[o][v], sizeof(vfloat));
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
  runOnPool(workers, [&](int id) {
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
  runOnPool(workers, [&](int id) {
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
              AE_UNROLL for (int v = 0; v < NV; v++) sums[kx][v] = vfloat{};
            for (int64_t oy = 0; oy < s.outH; oy++) {
              const float* row = P + (c * rows + oy + ky) * cols;
              vfloat d[NV];
              AE_UNROLL for (int v = 0; v < NV; v++) std::memcpy(&d[v], dyT + (o * s.outH + oy) * OW + v * kVec, sizeof(vfloat));
              for (int kx = 0; kx < s.fW; kx++) {
                AE_UNROLL for (int v = 0; v < NV; v++) {
                  vfloat p;
                  std::memcpy(&p, row + kx + v * kVec, sizeof(vfloat));
                  sums[kx][v] += p * d[v];
                }
              }
            }
            for (int kx = 0; kx < s.fW; kx++) {
              vfloat& target = acc[((ky * s.fW + kx) * s.inC + c) * s.outC + o];
              AE_UNROLL for (int v = 0; v < NV; v++) target += sums[kx][v];
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

}  // namespace


/** Whether the direct kernels take this shape (and, for the input gradient, its adjoint's). */
bool directApplies(const ConvShape& s) {
  const auto rowVectors = [](int64_t width) { return (width + kVec - 1) / kVec; };
  return s.strideH == 1 && s.strideW == 1 && s.dilH == 1 && s.dilW == 1 && s.padTop >= 0 && s.padTop < s.fH &&
         s.padLeft >= 0 && s.padLeft < s.fW && s.fW <= kMaxDirectFilterWidth && rowVectors(s.outW) <= kMaxRowVectors &&
         rowVectors(s.inW) <= kMaxRowVectors;
}

/** The direct kernels for conv2d's three modes (directApplies(s) holds). */
void directConv2d(ConvMode mode, const ConvShape& s, float* x, float* w, float* y, int threads) {
  if (mode == ConvMode::Forward) {
    const auto tap = [&](int64_t ky, int64_t kx, int64_t c, int64_t o) { return w[((ky * s.fW + kx) * s.inC + c) * s.outC + o]; };
    directForward(x, s.batch, s.inH, s.inW, s.inC, y, s.outH, s.outW, s.outC, s.fH, s.fW, s.padTop, s.padLeft, tap, threads);
  } else if (mode == ConvMode::InputGradient) {
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

}  // namespace ae
