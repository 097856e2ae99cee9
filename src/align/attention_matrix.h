// The cross-attention of the alignment heads turned into one (token, frame) matrix, as openai/whisper's
// timing.find_alignment prepares it for DTW.
#pragma once

#include <vector>

namespace wisp::align {

// probs: (n_heads, n_tokens, row_stride) softmax probabilities over all audio positions of a window (each
// row sums to 1). For each head: the rows are renormalised over the first n_frames positions (the softmax
// of the scores cut to the audio's content, as openai computes it), each frame's column standardised over
// the tokens (mean 0, population standard deviation 1), each token's row median-filtered over the frames
// (width filter_width, odd); then the heads are averaged. Returns (n_tokens, n_frames), always finite.
std::vector<float> attention_matrix(const float* probs, int n_heads, int n_tokens, int row_stride,
                                    int n_frames, int filter_width);

}  // namespace wisp::align
