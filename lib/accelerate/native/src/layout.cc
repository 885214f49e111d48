// Data movement without arithmetic: the transpose of a tensor of 4-byte values (float32 or int32),
// copied bit for bit.
#include "kernels.h"

namespace ae {

void transpose(const uint32_t* x, uint32_t* y, const int64_t* shape, const int64_t* perm, int rank, int threads) {
  int64_t inputStride[kMaxTransposeRank] = {}, outShape[kMaxTransposeRank] = {}, stride[kMaxTransposeRank] = {};
  inputStride[rank - 1] = 1;
  for (int d = rank - 2; d >= 0; d--) inputStride[d] = inputStride[d + 1] * shape[d + 1];
  for (int i = 0; i < rank; i++) {
    outShape[i] = shape[perm[i]];
    stride[i] = inputStride[perm[i]];  // the input step of one step along output axis i
  }
  const int64_t inner = outShape[rank - 1], innerStride = stride[rank - 1];
  int64_t rows = 1;
  for (int i = 0; i < rank - 1; i++) rows *= outShape[i];
  // Each worker walks its rows of the output in order (an odometer over the leading output axes).
  parallelForChunks(rows, inner, threads, [=](int64_t from, int64_t to) {
    int64_t index[kMaxTransposeRank] = {};
    int64_t rest = from, base = 0;
    for (int i = rank - 2; i >= 0; i--) {
      index[i] = rest % outShape[i];
      rest /= outShape[i];
      base += index[i] * stride[i];
    }
    for (int64_t row = from; row < to; row++) {
      uint32_t* out = y + row * inner;
      const uint32_t* in = x + base;
      if (innerStride == 1) {
        std::memcpy(out, in, inner * sizeof(uint32_t));
      } else {
        for (int64_t j = 0; j < inner; j++) out[j] = in[j * innerStride];
      }
      for (int i = rank - 2; i >= 0; i--) {
        base += stride[i];
        if (++index[i] < outShape[i]) break;
        base -= stride[i] * outShape[i];
        index[i] = 0;
      }
    }
  });
}

}  // namespace ae
