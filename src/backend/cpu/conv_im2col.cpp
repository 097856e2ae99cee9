#include "backend/cpu/conv_im2col.h"

namespace wisp::backend::cpu {

void im2col_k3_row(const Im2colK3& s, int t, float* row) {
  for (int k = 0; k < 3; ++k) {
    const int src = t * s.stride + k - 1;
    if (src < 0 || src >= s.T_in) {
      for (int c = 0; c < s.C; ++c) row[c * 3 + k] = 0.0f;
      continue;
    }
    const float* xr = s.x + static_cast<int64_t>(src) * s.ldx;
    for (int c = 0; c < s.C; ++c) row[c * 3 + k] = xr[c * s.ldc];
  }
}

}  // namespace wisp::backend::cpu
