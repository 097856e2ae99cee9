// The oracle for the int8 and bf16 GEMM kernels: the same quantized / rounded operands, multiplied with
// plain loops (exact integer sums for int8, double sums for bf16).
#include <cmath>
#include <vector>

#include "backend/cpu/gemm.h"

namespace wisp::backend::cpu {
namespace {

float gelu_exact(float v) { return 0.5f * v * (1.0f + std::erf(v * 0.70710678118654752f)); }

void finish(const Epilogue& ep, int n, float v, float* out) {
  if (ep.gelu) v = gelu_exact(v);
  *out = ep.accumulate ? *out + v : v;
  (void)n;
}

}  // namespace

void gemm_i8_reference(const float* x, int M, int ldx, const PackedView& w, const Epilogue& ep, float* y,
                       int ldy) {
  std::vector<int8_t> q(static_cast<size_t>(w.Kp));
  const auto* d = static_cast<const int8_t*>(w.data);
  const float* wscale = w.scale;
  for (int m = 0; m < M; ++m) {
    float xscale;
    quantize_rows_i8(x + static_cast<size_t>(m) * ldx, 1, w.K, ldx, q.data(), w.Kp, &xscale, false);
    for (int n = 0; n < w.N; ++n) {
      int64_t dot = 0;
      for (int k = 0; k < w.K; ++k)
        dot += static_cast<int64_t>(q[k]) *
               d[((static_cast<size_t>(n / 16) * (w.Kp / 4) + k / 4) * 16 + n % 16) * 4 + k % 4];
      const float v = std::fma(static_cast<float>(dot), xscale * wscale[n], ep.bias ? ep.bias[n] : 0.0f);
      finish(ep, n, v, y + static_cast<size_t>(m) * ldy + n);
    }
  }
}

void gemm_bf16_reference(const float* x, int M, int ldx, const PackedView& w, const Epilogue& ep, float* y,
                         int ldy) {
  const auto* d = static_cast<const uint16_t*>(w.data);
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < w.N; ++n) {
      double dot = 0;
      for (int k = 0; k < w.K; ++k)
        dot +=
            static_cast<double>(bf16_to_float(float_to_bf16(x[static_cast<size_t>(m) * ldx + k]))) *
            bf16_to_float(d[((static_cast<size_t>(n / 16) * (w.Kp / 2) + k / 2) * 16 + n % 16) * 2 + k % 2]);
      const float v = static_cast<float>(dot) + (ep.bias ? ep.bias[n] : 0.0f);
      finish(ep, n, v, y + static_cast<size_t>(m) * ldy + n);
    }
}

void gemm_f32_reference(const float* x, int M, int ldx, const PackedView& w, const Epilogue& ep, float* y,
                        int ldy) {
  const auto* d = static_cast<const float*>(w.data);
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < w.N; ++n) {
      double dot = 0;
      for (int k = 0; k < w.K; ++k)
        dot += static_cast<double>(x[static_cast<size_t>(m) * ldx + k]) *
               d[(static_cast<size_t>(n / 16) * w.Kp + k) * 16 + n % 16];
      const float v = static_cast<float>(dot) + (ep.bias ? ep.bias[n] : 0.0f);
      finish(ep, n, v, y + static_cast<size_t>(m) * ldy + n);
    }
}

}  // namespace wisp::backend::cpu
