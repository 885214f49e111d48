// The filter gradient of a convolution with one, two or four vectors of output channels (16, 32 or
// 64 with AVX-512: CSAE-C's layers), without im2col: dW[ky, kx, c, :] = Σ_{b, oy, ox} x[b, iy, ix, c]·dy[b, oy, ox, :]
// with iy = oy·sh + ky·dh − padTop, ix = ox·sw + kx·dw − padLeft inside the image. For each image,
// tap (ky, kx) and block of up to 16 (one vector), 12 (two) or 6 (four) input channels, the block's rows of
// dW stay in registers while the output positions stream past: per position one or two vector
// loads of dy and one broadcast of x per channel, against as many FMAs per channel. im2col's
// way writes every patch out (9× the image for a 3×3 filter) and packs it again for the product,
// which costs more than the arithmetic when the product has only 16 or 32 columns.
// Threads take images in turn, each into its own partial dW, added in thread order.
// The forward pass with 16, 32 or 64 output channels likewise skips im2col (narrowForward): each
// image is copied once into a zero-bordered buffer, and a tile of R consecutive output positions
// keeps its R × (1, 2 or 4) output vectors in registers over every tap and input channel: per
// (tap, channel) as many vector loads of W and R broadcasts of x. A filter larger than L1 goes in
// passes over the taps instead, the tiles' sums kept in memory between passes (forward). The input gradient at stride
// 1 is that forward pass over dy with the filter flipped and its channels swapped; with the
// stride equal to the filter size and no padding (a 2×2 stride-2 transposed convolution), each
// tap's share of dx is a small product of dy's rows written straight into place.
#include "kernels.h"

namespace ae {
namespace {

/** The output columns [from, to) whose input column ox·stride + offset lies inside [0, width). */
void columnRange(int64_t offset, int64_t stride, int64_t width, int64_t outW, int64_t* from, int64_t* to) {
  *from = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  *to = width - 1 - offset < 0 ? 0 : std::min(outW, (width - 1 - offset) / stride + 1);
}

/** dw[(tap·inC + c0 + c)·outC + :] += Σ over image b's positions of x[…, c0 + c]·dy[…, :], for c < CB. */
template <int NV, int CB>
void tapBlock(const float* x, const float* dy, const ConvShape& s, int64_t b, int64_t ky, int64_t kx, int64_t c0, float* dw) {
  vfloat acc[CB][NV];
  AE_UNROLL for (int c = 0; c < CB; c++)
    AE_UNROLL for (int v = 0; v < NV; v++) acc[c][v] = vfloat{};
  const int64_t offset = kx * s.dilW - s.padLeft;
  int64_t ox0, ox1;
  columnRange(offset, s.strideW, s.inW, s.outW, &ox0, &ox1);
  const float* image = x + b * s.inH * s.inW * s.inC;
  const float* grads = dy + b * s.outH * s.outW * s.outC;
  for (int64_t oy = 0; oy < s.outH; oy++) {
    const int64_t iy = oy * s.strideH + ky * s.dilH - s.padTop;
    if (iy < 0 || iy >= s.inH) continue;
    const float* xr = image + iy * s.inW * s.inC + c0;
    const float* dr = grads + oy * s.outW * s.outC;
    for (int64_t ox = ox0; ox < ox1; ox++) {
      const float* xp = xr + (ox * s.strideW + offset) * s.inC;
      vfloat d[NV];
      AE_UNROLL for (int v = 0; v < NV; v++) std::memcpy(&d[v], dr + ox * s.outC + v * kVec, sizeof(vfloat));
      AE_UNROLL for (int c = 0; c < CB; c++) {
        const vfloat xv = splat(xp[c]);
        AE_UNROLL for (int v = 0; v < NV; v++) acc[c][v] += xv * d[v];
      }
    }
  }
  float* out = dw + ((ky * s.fW + kx) * s.inC + c0) * s.outC;
  AE_UNROLL for (int c = 0; c < CB; c++) {
    AE_UNROLL for (int v = 0; v < NV; v++) {
      vfloat old;
      std::memcpy(&old, out + c * s.outC + v * kVec, sizeof(vfloat));
      old += acc[c][v];
      std::memcpy(out + c * s.outC + v * kVec, &old, sizeof(vfloat));
    }
  }
}

/** Widest channel block: every accumulator and the dy vectors in the 32 vector registers (AVX-512) with room to spare. */
template <int NV>
constexpr int kMaxBlock = NV == 1 ? 16 : NV == 2 ? 12 : 6;

/** tapBlock for a block of `channels` (1 … kMaxBlock<NV>) channels, by a switch to its instantiation. */
template <int NV>
void tapBlockOf(int channels, const float* x, const float* dy, const ConvShape& s, int64_t b, int64_t ky, int64_t kx, int64_t c0, float* dw) {
#define AE_TAP_CASE(n) \
  case n: tapBlock<NV, (n <= kMaxBlock<NV> ? n : 1)>(x, dy, s, b, ky, kx, c0, dw); break;
  switch (channels) {
    AE_TAP_CASE(1) AE_TAP_CASE(2) AE_TAP_CASE(3) AE_TAP_CASE(4) AE_TAP_CASE(5) AE_TAP_CASE(6) AE_TAP_CASE(7) AE_TAP_CASE(8)
    AE_TAP_CASE(9) AE_TAP_CASE(10) AE_TAP_CASE(11) AE_TAP_CASE(12) AE_TAP_CASE(13) AE_TAP_CASE(14) AE_TAP_CASE(15) AE_TAP_CASE(16)
    default: break;
  }
#undef AE_TAP_CASE
}

template <int NV>
void filterGradient(const ConvShape& s, const float* x, const float* dy, float* dw, int threads) {
  const int64_t size = s.K() * s.outC;
  const int workers = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, s.batch)));
  std::vector<float> partials(static_cast<size_t>(workers * size), 0.0f);
  // Blocks of near-equal width (e.g. 16 = 8 + 8 rather than 12 + 4 with two vectors).
  const int64_t blocks = (s.inC + kMaxBlock<NV> - 1) / kMaxBlock<NV>;
  runOnPool(workers, [&](int id) {
    float* mine = partials.data() + id * size;
    for (int64_t b = id; b < s.batch; b += workers)
      for (int64_t ky = 0; ky < s.fH; ky++)
        for (int64_t kx = 0; kx < s.fW; kx++)
          for (int64_t blk = 0; blk < blocks; blk++) {
            const int64_t c0 = s.inC * blk / blocks, c1 = s.inC * (blk + 1) / blocks;
            tapBlockOf<NV>(static_cast<int>(c1 - c0), x, dy, s, b, ky, kx, c0, mine);
          }
  });
  addPartials(partials.data(), workers, size, dw, false);
}


/** Output rows of a forward tile: the register budget (R × NV accumulators). */
template <int NV>
constexpr int kTileRows = NV == 1 ? 12 : NV == 2 ? 8 : 6;

/**
 * Taps [tap0, tap1) (tap = ky·fW + kx) of y[oy, ox0 … ox0 + R) (all outC) of one image from its zero-bordered copy xp (row
 * pitch wp pixels): the sums start at 0 (tap0 = 0) or from `partial` (R × NV vectors), and end in y (tap1 = every tap) or
 * in `partial`. Split or not, each output adds the same products in the same order (taps, then channels).
 */
template <int NV, int R, bool Whole>
void forwardTile(const float* xp, int64_t wp, const float* w, const ConvShape& s, int64_t oy, int64_t ox0, int64_t tap0, int64_t tap1,
                 float* partial, float* y) {
  vfloat acc[R][NV];
  AE_UNROLL for (int r = 0; r < R; r++)
    AE_UNROLL for (int v = 0; v < NV; v++) {
      if (Whole || tap0 == 0) acc[r][v] = vfloat{};
      else std::memcpy(&acc[r][v], partial + (r * NV + v) * kVec, sizeof(vfloat));
    }
  const int64_t step = s.strideW * s.inC;
  // Nested loops over ky and kx skipping the taps outside the range (a division per tap cost ≈ 10% with 16 channels).
  for (int64_t ky = 0; ky < s.fH; ky++) {
    const float* row = xp + (oy * s.strideH + ky * s.dilH) * wp * s.inC;
    for (int64_t kx = 0; kx < s.fW; kx++) {
      const int64_t tap = ky * s.fW + kx;
      if (!Whole && (tap < tap0 || tap >= tap1)) continue;
      const float* base = row + (ox0 * s.strideW + kx * s.dilW) * s.inC;
      const float* taps = w + tap * s.inC * s.outC;
      for (int64_t c = 0; c < s.inC; c++) {
        vfloat wv[NV];
        AE_UNROLL for (int v = 0; v < NV; v++) std::memcpy(&wv[v], taps + c * s.outC + v * kVec, sizeof(vfloat));
        AE_UNROLL for (int r = 0; r < R; r++) {
          const vfloat xv = splat(base[r * step + c]);
          AE_UNROLL for (int v = 0; v < NV; v++) acc[r][v] += xv * wv[v];
        }
      }
    }
  }
  const bool last = Whole || tap1 == s.fH * s.fW;
  float* out = y + (oy * s.outW + ox0) * s.outC;
  AE_UNROLL for (int r = 0; r < R; r++)
    AE_UNROLL for (int v = 0; v < NV; v++) {
      if (last) std::memcpy(out + r * s.outC + v * kVec, &acc[r][v], sizeof(vfloat));
      else std::memcpy(partial + (r * NV + v) * kVec, &acc[r][v], sizeof(vfloat));
    }
}

/** forwardTile for a tile of `rows` (1 … kTileRows<NV>) positions; Whole: every tap at once (no checks on the range: ≈ 4% with 16 channels). */
template <int NV, bool Whole>
void forwardTileOf(int rows, const float* xp, int64_t wp, const float* w, const ConvShape& s, int64_t oy, int64_t ox0, int64_t tap0, int64_t tap1,
                   float* partial, float* y) {
#define AE_TILE_CASE(n) \
  case n: forwardTile<NV, (n <= kTileRows<NV> ? n : 1), Whole>(xp, wp, w, s, oy, ox0, tap0, tap1, partial, y); break;
  switch (rows) {
    AE_TILE_CASE(1) AE_TILE_CASE(2) AE_TILE_CASE(3) AE_TILE_CASE(4) AE_TILE_CASE(5) AE_TILE_CASE(6)
    AE_TILE_CASE(7) AE_TILE_CASE(8) AE_TILE_CASE(9) AE_TILE_CASE(10) AE_TILE_CASE(11) AE_TILE_CASE(12)
    default: break;
  }
#undef AE_TILE_CASE
}

/** Filters up to this size go in one pass (they stay in L1 from tile to tile: 3×3 × 32 → 32 is 36 KB). */
constexpr int64_t kFilterInL1Bytes = 40 * 1024;
/** Bytes of filter that one pass over a band of tiles keeps in L1 (the rest of L1 holds the band's inputs and sums). */
constexpr int64_t kFilterPassBytes = 16 * 1024;
/** Tiles per band at least (where the image has them): each pass's filter block is read from L2 once per band. */
constexpr int64_t kBandTiles = 8;

template <int NV>
void forward(const ConvShape& s, const float* x, const float* w, float* y, int threads) {
  // The bordered image: every tap of every output position inside it.
  const int64_t hp = std::max(s.inH + s.padTop, (s.outH - 1) * s.strideH + (s.fH - 1) * s.dilH + 1);
  const int64_t wp = std::max(s.inW + s.padLeft, (s.outW - 1) * s.strideW + (s.fW - 1) * s.dilW + 1);
  const int workers = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, s.batch)));
  // Tiles of near-equal width: a row of 8 as 4 + 4 rather than 6 + 2 with four vectors (a 2-position tile loads a filter
  // vector per two multiply-adds).
  const int64_t tiles = (s.outW + kTileRows<NV> - 1) / kTileRows<NV>;
  // When the whole filter outgrows L1 (3×3 × 64 → 64: 144 KB), every tile streamed it from L2 again. Instead a band of
  // rows (≥ kBandTiles tiles) goes through the taps in passes of ≤ kFilterPassBytes of filter, each tile's sums kept
  // between passes in `partial`: the filter is read from L2 once per band. One pass with every tap where it fits.
  const int64_t tapBytes = s.inC * s.outC * static_cast<int64_t>(sizeof(float));
  const int64_t taps = s.fH * s.fW;
  const int64_t tapsPerPass = taps * tapBytes <= kFilterInL1Bytes ? taps : std::max<int64_t>(1, std::min<int64_t>(taps, kFilterPassBytes / tapBytes));
  const int64_t bandRows = tapsPerPass == taps ? 1 : std::min<int64_t>(s.outH, (kBandTiles + tiles - 1) / tiles);
  runOnPool(workers, [&](int id) {
    thread_local std::vector<float> buffer, partials;
    float* xp = scratch(buffer, static_cast<size_t>(hp * wp * s.inC));
    float* partial = tapsPerPass == taps ? nullptr : scratch(partials, static_cast<size_t>(bandRows * tiles * kTileRows<NV> * NV * kVec));
    std::fill(xp, xp + hp * wp * s.inC, 0.0f);
    for (int64_t b = id; b < s.batch; b += workers) {
      const float* image = x + b * s.inH * s.inW * s.inC;
      for (int64_t iy = 0; iy < s.inH; iy++)
        std::memcpy(xp + ((iy + s.padTop) * wp + s.padLeft) * s.inC, image + iy * s.inW * s.inC, static_cast<size_t>(s.inW * s.inC) * sizeof(float));
      float* out = y + b * s.outH * s.outW * s.outC;
      for (int64_t oy0 = 0; oy0 < s.outH; oy0 += bandRows)
        for (int64_t tap0 = 0; tap0 < taps; tap0 += tapsPerPass) {
          const int64_t tap1 = std::min(taps, tap0 + tapsPerPass);
          for (int64_t oy = oy0; oy < std::min(s.outH, oy0 + bandRows); oy++)
            for (int64_t t = 0; t < tiles; t++) {
              const int64_t ox0 = s.outW * t / tiles, ox1 = s.outW * (t + 1) / tiles;
              if (tapsPerPass == taps) {
                forwardTileOf<NV, true>(static_cast<int>(ox1 - ox0), xp, wp, w, s, oy, ox0, 0, taps, nullptr, out);
              } else {
                float* sums = partial + ((oy - oy0) * tiles + t) * kTileRows<NV> * NV * kVec;
                forwardTileOf<NV, false>(static_cast<int>(ox1 - ox0), xp, wp, w, s, oy, ox0, tap0, tap1, sums, out);
              }
            }
        }
    }
  });
}


/** c[i·ldc + 0 … NV·kVec) = Σ_p a[i·lda + p]·b[p·NV·kVec + …] for i < m: tiles of R rows (8; 6 with four vectors) with the output vectors in registers. */
template <int NV>
void rowsTimesSmall(const float* a, int64_t lda, const float* b, float* c, int64_t ldc, int64_t m, int64_t k) {
  constexpr int64_t n = NV * kVec;
  constexpr int R = NV == 4 ? 6 : 8;  // R·NV accumulators, NV of B and a broadcast within the 32 vector registers
  int64_t i = 0;
  for (; i < m; i += R) {
    const int rows = static_cast<int>(std::min<int64_t>(R, m - i));
    vfloat acc[R][NV];
    AE_UNROLL for (int r = 0; r < R; r++)
      AE_UNROLL for (int v = 0; v < NV; v++) acc[r][v] = vfloat{};
    for (int64_t p = 0; p < k; p++) {
      vfloat bv[NV];
      AE_UNROLL for (int v = 0; v < NV; v++) std::memcpy(&bv[v], b + p * n + v * kVec, sizeof(vfloat));
      if (rows == R) {
        AE_UNROLL for (int r = 0; r < R; r++) {
          const vfloat av = splat(a[(i + r) * lda + p]);
          AE_UNROLL for (int v = 0; v < NV; v++) acc[r][v] += av * bv[v];
        }
      } else {
        // r < R with a test, not r < rows: a run-time index would put acc in memory for the whole function.
        AE_UNROLL for (int r = 0; r < R; r++) {
          if (r >= rows) break;
          const vfloat av = splat(a[(i + r) * lda + p]);
          AE_UNROLL for (int v = 0; v < NV; v++) acc[r][v] += av * bv[v];
        }
      }
    }
    AE_UNROLL for (int r = 0; r < R; r++) {
      if (r >= rows) break;
      AE_UNROLL for (int v = 0; v < NV; v++) std::memcpy(c + (i + r) * ldc + v * kVec, &acc[r][v], sizeof(vfloat));
    }
  }
}

/** dx when the stride equals the filter size, undilated, unpadded: every dx position gets one tap of one dy position. */
template <int NV>
void stridedInputGradient(const ConvShape& s, float* dx, const float* w, const float* dy, int threads) {
  // Per tap, Wᵀ as outC × inC (k × n of rowsTimesSmall).
  const int64_t taps = s.fH * s.fW;
  std::vector<float> wt(static_cast<size_t>(taps * s.outC * s.inC));
  for (int64_t t = 0; t < taps; t++)
    for (int64_t c = 0; c < s.inC; c++)
      for (int64_t o = 0; o < s.outC; o++) wt[(t * s.outC + o) * s.inC + c] = w[(t * s.inC + c) * s.outC + o];
  const bool covered = s.outH * s.fH == s.inH && s.outW * s.fW == s.inW;
  const int workers = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, s.batch)));
  runOnPool(workers, [&](int id) {
    for (int64_t b = id; b < s.batch; b += workers) {
      float* image = dx + b * s.inH * s.inW * s.inC;
      if (!covered) std::fill(image, image + s.inH * s.inW * s.inC, 0.0f);
      const float* grads = dy + b * s.outH * s.outW * s.outC;
      for (int64_t oy = 0; oy < s.outH; oy++)
        for (int64_t ky = 0; ky < s.fH; ky++)
          for (int64_t kx = 0; kx < s.fW; kx++)
            rowsTimesSmall<NV>(grads + oy * s.outW * s.outC, s.outC, wt.data() + (ky * s.fW + kx) * s.outC * s.inC,
                               image + ((oy * s.fH + ky) * s.inW + kx) * s.inC, s.fW * s.inC, s.outW, s.outC);
    }
  });
}

}  // namespace

bool narrowForwardApplies(const ConvShape& s) {
  // Four vectors at a stride only with ≥ 64 output positions (8 → 4 at stride 2 measured slower than im2col).
  const bool stride1 = s.strideH == 1 && s.strideW == 1;
  return s.outC == kVec || s.outC == 2 * kVec || (s.outC == 4 * kVec && (stride1 || s.outH * s.outW >= 64));
}

void narrowForward(const ConvShape& s, const float* x, const float* w, float* y, int threads) {
  if (s.outC == kVec) forward<1>(s, x, w, y, threads);
  else if (s.outC == 2 * kVec) forward<2>(s, x, w, y, threads);
  else forward<4>(s, x, w, y, threads);
}

/** The stride equals the filter size, undilated, unpadded (patches side by side). */
bool stridedLikeFilter(const ConvShape& s) {
  return s.strideH == s.fH && s.strideW == s.fW && s.dilH == 1 && s.dilW == 1 && s.padTop == 0 && s.padLeft == 0;
}

bool narrowInputGradientApplies(const ConvShape& s) {
  if (!(s.inC == kVec || s.inC == 2 * kVec || (s.inC == 4 * kVec && s.inH * s.inW >= 64))) return false;
  return stridedLikeFilter(s) || (s.strideH == 1 && s.strideW == 1 && s.dilH == 1 && s.dilW == 1 && s.padTop < s.fH && s.padLeft < s.fW);
}

void narrowInputGradient(const ConvShape& s, float* dx, const float* w, const float* dy, int threads) {
  if (stridedLikeFilter(s)) {
    if (s.inC == kVec) stridedInputGradient<1>(s, dx, w, dy, threads);
    else if (s.inC == 2 * kVec) stridedInputGradient<2>(s, dx, w, dy, threads);
    else stridedInputGradient<4>(s, dx, w, dy, threads);
    return;
  }
  // dx = conv(dy, W') with W'[ky, kx, o, c] = W[fH − 1 − ky, fW − 1 − kx, c, o] and padding f − 1 − pad.
  std::vector<float> flipped(static_cast<size_t>(s.K() * s.outC));
  for (int64_t ky = 0; ky < s.fH; ky++)
    for (int64_t kx = 0; kx < s.fW; kx++)
      for (int64_t c = 0; c < s.inC; c++)
        for (int64_t o = 0; o < s.outC; o++)
          flipped[((ky * s.fW + kx) * s.outC + o) * s.inC + c] = w[(((s.fH - 1 - ky) * s.fW + (s.fW - 1 - kx)) * s.inC + c) * s.outC + o];
  ConvShape t = s;
  t.inH = s.outH; t.inW = s.outW; t.inC = s.outC;
  t.outH = s.inH; t.outW = s.inW; t.outC = s.inC;
  t.padTop = s.fH - 1 - s.padTop;
  t.padLeft = s.fW - 1 - s.padLeft;
  narrowForward(t, dy, flipped.data(), dx, threads);
}

bool narrowFilterGradientApplies(const ConvShape& s) {
  // Four vectors only with ≥ 64 output positions per image (at 4×4 the register blocks' set-up outweighs im2col's copies).
  return s.outC == kVec || s.outC == 2 * kVec || (s.outC == 4 * kVec && s.outH * s.outW >= 64);
}

void narrowFilterGradient(const ConvShape& s, const float* x, const float* dy, float* dw, int threads) {
  if (s.outC == kVec) filterGradient<1>(s, x, dy, dw, threads);
  else if (s.outC == 2 * kVec) filterGradient<2>(s, x, dy, dw, threads);
  else filterGradient<4>(s, x, dy, dw, threads);
}

}  // namespace ae
