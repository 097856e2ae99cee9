// Scaled dot-product attention over strided Q, K, V (heads side by side in the feature dimension).
#pragma once

#include <vector>

namespace wisp::nn {

struct AttentionShape {
  int n_head = 0;
  int head_dim = 0;
  int q_len = 0;   // Tq
  int kv_len = 0;  // Tk
  bool causal = false;
  int q_offset = 0;  // position of query 0 when causal: query i sees keys [0, q_offset + i]
};

// out(Tq, n_head*head_dim) = softmax(Q Kᵀ / sqrt(head_dim)) V, per head.
// q: (Tq, ldq), k: (Tk, ldk), v: (Tk, ldv), out: (Tq, ldo). `scores` is scratch, resized as needed.
void attention(const AttentionShape& s, const float* q, int ldq, const float* k, int ldk, const float* v,
               int ldv, float* out, int ldo, std::vector<float>& scores);

}  // namespace wisp::nn
