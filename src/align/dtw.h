// Dynamic time warping over a cost matrix, as openai/whisper's timing.py aligns text tokens with audio
// frames: the cheapest monotonic path from (0, 0) to (rows - 1, cols - 1) moving down, right or diagonally.
#pragma once

#include <vector>

namespace wisp::align {

// The path as (row, column) pairs in order: rows[k] and cols[k] never decrease, and each step moves one
// row, one column, or both.
struct DtwPath {
  std::vector<int> rows, cols;
};

// cost: (n_rows, n_cols) row-major, n_rows and n_cols >= 1. Ties between the three moves are broken as
// openai's dtw_cpu breaks them (diagonal only when strictly cheapest, then up, else left), so paths match
// its paths exactly on the same float32 costs.
DtwPath dtw(const float* cost, int n_rows, int n_cols);

}  // namespace wisp::align
