// Pooling kernels: max pooling's input gradient, nearest-neighbour upsampling (UpSampling2D)
// with its gradient, NHWC, and the argmax over one axis (max pooling's switches).
#include <cmath>

#include "kernels.h"

namespace ae {
namespace {

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

}  // namespace

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
    runOnPool(workers, [&](int id) {
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
  runOnPool(workers, [&](int id) {
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

/**
 * Nearest-neighbour upscaling by integer factors (UpSampling2D; NHWC). Upscale: large[b, y, x, c] =
 * small[b, ⌊y/sh⌋, ⌊x/sw⌋, c]; Gradient: small[b, y, x, c] = Σ of large's sh × sw block above (y, x).
 */
void upsample(UpsampleMode mode, float* small, float* large, int64_t batch, int64_t inH, int64_t inW, int64_t C, int64_t sh, int64_t sw, int threads) {
  const int64_t outW = inW * sw;
  // Rows of the small image: each touches inW·C values of it and sh·sw times as many of the large one.
  parallelForChunks(batch * inH, inW * C * (1 + sh * sw), threads, [&](int64_t from, int64_t to) {
    for (int64_t row = from; row < to; row++) {  // row = b·inH + y of the small image
      float* smallRow = small + row * inW * C;
      float* largeRow = large + row * sh * outW * C;  // its first of sh rows in the large image
      if (mode == UpsampleMode::Upscale) {
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
}

void argMax(const float* x, int32_t* out, int64_t outer, int64_t k, int64_t inner, int threads) {
  constexpr int64_t kLanes = 64;  // positions of the inner axis done together (the loop over j vectorises across them)
  // Threads split the outer axis only: an argmax over axis 0 (outer = 1) runs on one thread, fine for the switches' [windows, k², C].
  parallelForChunks(outer, k * inner, threads, [=](int64_t from, int64_t to) {
    float best[kLanes];
    int32_t where[kLanes];
    for (int64_t o = from; o < to; o++) {
      const float* base = x + o * k * inner;
      for (int64_t i0 = 0; i0 < inner; i0 += kLanes) {
        const int64_t width = std::min(kLanes, inner - i0);
        for (int64_t i = 0; i < width; i++) {
          best[i] = base[i0 + i];
          where[i] = 0;
        }
        for (int64_t j = 1; j < k; j++) {
          const float* row = base + j * inner + i0;
          for (int64_t i = 0; i < width; i++) {
            const bool greater = row[i] > best[i];  // strictly: a tie keeps the first; NaN never replaces, and a NaN first stays
            best[i] = greater ? row[i] : best[i];
            where[i] = greater ? static_cast<int32_t>(j) : where[i];
          }
        }
        std::memcpy(out + o * inner + i0, where, width * sizeof(int32_t));
      }
    }
  });
}

}  // namespace ae
