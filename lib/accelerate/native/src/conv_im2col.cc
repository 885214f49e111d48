// conv2d(mode, shape, x, w, y) works on NHWC images and [fh, fw, inC, outC] filters (tfjs's
// layouts) by im2col: the patches of a chunk of images become the rows of a matrix `cols`
// [rows = images·oh·ow, K = fh·fw·inC], and then
//   ConvMode::Forward:         y  = cols · W                    (W as K × outC)
//   ConvMode::InputGradient:   dx = col2im(dy · Wᵀ)             (scatter-add of the patches)
//   ConvMode::FilterGradient:  dW = Σ_chunks colsᵀ · dy
// Chunks of whole images keep `cols` near 1 MB (in L2); threads take chunks in turn. A 1×1
// convolution at stride 1 skips im2col (its `cols` is x); so do the forward pass and filter
// gradient with 16 or 32 output channels, and the input gradient at stride 1 with 16 or 32 input
// channels (conv_narrow.cc). With
// ConvAlgorithm::Direct (stride 1 and few channels) the three modes skip im2col instead: see
// conv_direct.cc.
#include "kernels.h"

namespace ae {
namespace {

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

}  // namespace

/**
 * Forward, input gradient or filter gradient (ConvMode) of a 2-D convolution; see the
 * header. Images go in chunks whose `cols` fits in L2 (about 1 MB, at least one image), and the
 * threads take chunks in turn, each with its own `cols` and single-threaded products (for the
 * filter gradient, its own partial sum). Chunks are whole images, so no two threads write the
 * same output; for the forward pass and the input gradient every thread gets as many of them.
 */
void conv2d(ConvMode mode, const ConvShape& s, float* x, float* w, float* y, int threads) {
  const int64_t K = s.K();
  if (s.fH == 1 && s.fW == 1 && s.strideH == 1 && s.strideW == 1 && s.padTop == 0 && s.padLeft == 0 && s.outH == s.inH && s.outW == s.inW) {
    // A 1×1 convolution at stride 1: im2col(x) is x itself, so each mode is one product.
    const int64_t rows = s.batch * s.inH * s.inW;
    if (mode == ConvMode::Forward) product(x, w, y, rows, s.outC, s.inC, false, false, false, threads);
    else if (mode == ConvMode::InputGradient) product(y, w, x, rows, s.inC, s.outC, false, true, false, threads);
    else product(x, y, w, s.inC, s.outC, rows, true, false, false, threads);
    return;
  }
  if (mode == ConvMode::FilterGradient && narrowFilterGradientApplies(s)) {
    narrowFilterGradient(s, x, y, w, threads);
    return;
  }
  if (mode == ConvMode::Forward && narrowForwardApplies(s)) {
    narrowForward(s, x, w, y, threads);
    return;
  }
  if (mode == ConvMode::InputGradient && narrowInputGradientApplies(s)) {
    narrowInputGradient(s, x, w, y, threads);
    return;
  }
  const int64_t rowsPerImage = s.outH * s.outW;
  const int64_t targetCols = int64_t{1} << 18;
  const int64_t chunk = std::max<int64_t>(1, std::min<int64_t>(s.batch, targetCols / std::max<int64_t>(1, rowsPerImage * K)));
  int64_t chunks = (s.batch + chunk - 1) / chunk;
  // Forward and input gradient: as many chunks for every thread, of sizes within one image of each other (a chunk's
  // outputs do not depend on how the images are grouped). The filter gradient keeps whole `chunk`s: its partial sums,
  // one per thread, fix the order in which dW adds them up.
  const bool balanced = mode != ConvMode::FilterGradient;
  if (balanced && threads > 1) chunks = std::min<int64_t>(s.batch, (chunks + threads - 1) / threads * threads);
  const int workers = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, chunks)));
  /** Chunk c's first image (balanced: ⌊c·batch / chunks⌋). */
  const auto firstImage = [&](int64_t c) { return balanced ? c * s.batch / chunks : std::min(c * chunk, s.batch); };
  std::vector<float> partials(mode == ConvMode::FilterGradient ? static_cast<size_t>(workers * K * s.outC) : 0);
  const auto work = [&](int id) {
    // Per-thread scratch kept between calls (a fresh ~1 MB vector per call was zeroed, and freshly mapped, every time);
    // im2col and the input gradient's product write every value of it that is read.
    thread_local std::vector<float> colsBuffer;
    float* cols = scratch(colsBuffer, static_cast<size_t>(chunk * rowsPerImage * K));
    float* dw = mode == ConvMode::FilterGradient ? partials.data() + id * K * s.outC : nullptr;
    bool first = true;
    for (int64_t c = id; c < chunks; c += workers) {
      const int64_t b0 = firstImage(c);
      const int64_t images = firstImage(c + 1) - b0;
      const int64_t rows = images * rowsPerImage;
      float* yChunk = y + b0 * rowsPerImage * s.outC;
      if (mode == ConvMode::Forward) {
        im2col(x, s, b0, images, cols);
        product(cols, w, yChunk, rows, s.outC, K, false, false, false, 1);
      } else if (mode == ConvMode::InputGradient) {
        // This chunk's images of dx are this thread's alone: zeroed here, on its core (before the product, so that
        // `cols` is still in cache when col2im adds it into them).
        const int64_t imageValues = s.inH * s.inW * s.inC;
        std::fill(x + b0 * imageValues, x + (b0 + images) * imageValues, 0.0f);
        product(yChunk, w, cols, rows, K, s.outC, false, true, false, 1);
        col2im(cols, s, b0, images, x);
      } else {
        im2col(x, s, b0, images, cols);
        product(cols, yChunk, dw, K, s.outC, rows, true, false, !first, 1);
      }
      first = false;
    }
    if (mode == ConvMode::FilterGradient && first) std::fill(dw, dw + K * s.outC, 0.0f);  // a thread with no chunk
  };
  runOnPool(workers, work);
  if (mode == ConvMode::FilterGradient) addPartials(partials.data(), workers, K * s.outC, w, false);
}

}  // namespace ae
