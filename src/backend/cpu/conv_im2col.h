// The operand of a kernel-3 convolution (Whisper's conv stem), one row at a time: row t of a convolution
// with stride s over x (T_in positions of C channels) holds x[t·s + k − 1][c] at c·3 + k, k = 0, 1, 2, and
// zero where t·s + k − 1 falls outside [0, T_in) — the order of torch's Conv1d(kernel 3, padding 1)
// weights, so that the convolution is the product of these rows with its weights as a Linear.
#pragma once

#include <cstdint>

namespace wisp::backend::cpu {

struct Im2colK3 {
  const float* x = nullptr;
  int T_in = 0, C = 0, stride = 1;
  int64_t ldx = 0;  // elements from one position to the next
  int64_t ldc = 1;  // from one channel to the next
};

void im2col_k3_row(const Im2colK3& s, int t, float* row);  // plain loops: the oracle
// The same values with AVX-512 permutes, where the channels are contiguous (ldc 1) and C % 16 == 0; the
// plain loops otherwise.
void im2col_k3_row_avx512(const Im2colK3& s, int t, float* row);

}  // namespace wisp::backend::cpu
