#include "nn/attention.h"

#include <cmath>
#include <limits>

#include "kernels/ops.h"

namespace wisp::nn {

void attention(const AttentionShape& s, const float* q, int ldq, const float* k, int ldk, const float* v,
               int ldv, float* out, int ldo, std::vector<float>& scores) {
  const size_t n_scores = static_cast<size_t>(s.q_len) * s.kv_len;
  if (scores.size() < n_scores) scores.resize(n_scores);
  const float scale = 1.0f / std::sqrt(static_cast<float>(s.head_dim));
  for (int h = 0; h < s.n_head; ++h) {
    const int off = h * s.head_dim;
    // S(Tq, Tk) = scale · Q_h K_hᵀ
    kernels::gemm(false, true, s.q_len, s.kv_len, s.head_dim, scale, q + off, ldq, k + off, ldk, 0.0f,
                  scores.data(), s.kv_len);
    if (s.causal)
      for (int i = 0; i < s.q_len; ++i)
        for (int j = s.q_offset + i + 1; j < s.kv_len; ++j)
          scores[static_cast<size_t>(i) * s.kv_len + j] = -std::numeric_limits<float>::infinity();
    kernels::softmax_rows(scores.data(), s.q_len, s.kv_len);
    // O_h(Tq, dh) = S V_h
    kernels::gemm(false, false, s.q_len, s.head_dim, s.kv_len, 1.0f, scores.data(), s.kv_len, v + off, ldv,
                  0.0f, out + off, ldo);
  }
}

}  // namespace wisp::nn
