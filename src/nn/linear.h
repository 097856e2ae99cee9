// Applies a Linear layer, choosing the kernel: the fp16 weight stream for a few rows (decoder steps,
// bandwidth-bound), BLAS on fp32 weights for many rows (prompts, encoder, cross-attention keys).
#pragma once

#include "kernels/ops.h"
#include "model/whisper_model.h"

namespace wisp::nn {

constexpr int kStreamRows = 16;  // up to this many rows, streaming the weights beats packing them for BLAS

// y(M, out) = x(M, in) · Wᵀ + b
inline void apply(const Linear& l, const float* x, int M, float* y) {
  if (l.w16 && M <= kStreamRows)
    kernels::linear_f16(x, M, l.in, l.w16, l.b, l.out, y);
  else
    kernels::linear(x, M, l.in, l.w, l.b, l.out, y);
}

}  // namespace wisp::nn
