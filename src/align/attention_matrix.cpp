#include "align/attention_matrix.h"

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "align/median_filter.h"
#include "core/error.h"

namespace wisp::align {

std::vector<float> attention_matrix(const float* probs, int n_heads, int n_tokens, int row_stride,
                                    int n_frames, int filter_width) {
  if (n_heads < 1 || n_tokens < 1 || n_frames < 1 || n_frames > row_stride)
    throw Error(ErrorKind::Internal, "attention matrix of an empty or oversized shape");
  const size_t plane = static_cast<size_t>(n_tokens) * n_frames;
  std::vector<float> head(plane), out(plane, 0.0f);
  std::vector<double> mean(n_frames), var(n_frames);
  for (int h = 0; h < n_heads; ++h) {
    // Renormalised over the content frames.
    for (int i = 0; i < n_tokens; ++i) {
      const float* src = probs + (static_cast<size_t>(h) * n_tokens + i) * row_stride;
      double sum = 0;
      for (int j = 0; j < n_frames; ++j) sum += src[j];
      const double inv = sum > 0 && std::isfinite(sum) ? 1.0 / sum : 0.0;
      float* dst = head.data() + static_cast<size_t>(i) * n_frames;
      for (int j = 0; j < n_frames; ++j)
        dst[j] = std::isfinite(src[j]) ? static_cast<float>(src[j] * inv) : 0.0f;
    }
    // Standardised per frame over the tokens (torch.std_mean(dim=-2, unbiased=False)).
    std::fill(mean.begin(), mean.end(), 0.0);
    std::fill(var.begin(), var.end(), 0.0);
    for (int i = 0; i < n_tokens; ++i)
      for (int j = 0; j < n_frames; ++j) mean[j] += head[static_cast<size_t>(i) * n_frames + j];
    for (int j = 0; j < n_frames; ++j) mean[j] /= n_tokens;
    for (int i = 0; i < n_tokens; ++i)
      for (int j = 0; j < n_frames; ++j) {
        const double d = head[static_cast<size_t>(i) * n_frames + j] - mean[j];
        var[j] += d * d;
      }
    for (int j = 0; j < n_frames; ++j) {
      const double sd = std::sqrt(var[j] / n_tokens);
      // A constant column (one token, or identical rows) has no spread: it carries no timing, so 0.
      const double inv = sd > 0 ? 1.0 / sd : 0.0;
      for (int i = 0; i < n_tokens; ++i) {
        float& v = head[static_cast<size_t>(i) * n_frames + j];
        v = static_cast<float>((v - mean[j]) * inv);
      }
    }
    median_filter_rows(head.data(), n_tokens, n_frames, filter_width);
    for (size_t k = 0; k < plane; ++k) out[k] += head[k];
  }
  for (float& v : out) v /= static_cast<float>(n_heads);
  return out;
}

}  // namespace wisp::align
