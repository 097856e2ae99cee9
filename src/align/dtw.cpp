#include "align/dtw.h"

#include <algorithm>
#include <cstdint>
#include <limits>

#include "core/error.h"

namespace wisp::align {

DtwPath dtw(const float* x, int n, int m) {
  if (n < 1 || m < 1) throw Error(ErrorKind::Internal, "dtw of an empty matrix");
  const size_t W = static_cast<size_t>(m) + 1;
  // Accumulated cost over (n + 1, m + 1) with an infinite border, and the move that reached each cell:
  // 0 diagonal, 1 from the row above, 2 from the column to the left.
  std::vector<float> cost((static_cast<size_t>(n) + 1) * W, std::numeric_limits<float>::infinity());
  std::vector<uint8_t> trace((static_cast<size_t>(n) + 1) * W, 2);
  cost[0] = 0.0f;
  for (int j = 1; j <= m; ++j) {
    for (int i = 1; i <= n; ++i) {
      const float c0 = cost[(i - 1) * W + (j - 1)], c1 = cost[(i - 1) * W + j], c2 = cost[i * W + (j - 1)];
      float c;
      uint8_t t;
      if (c0 < c1 && c0 < c2) {
        c = c0, t = 0;
      } else if (c1 < c0 && c1 < c2) {
        c = c1, t = 1;
      } else {
        c = c2, t = 2;
      }
      cost[i * W + j] = x[static_cast<size_t>(i - 1) * m + (j - 1)] + c;
      trace[i * W + j] = t;
    }
  }
  // Back from the corner; on the border the only way is along it (up the first column, left on the first
  // row), as openai sets trace[:, 0] = 1 and trace[0, :] = 2.
  for (int i = 0; i <= n; ++i) trace[i * W] = 1;
  for (int j = 0; j <= m; ++j) trace[j] = 2;
  DtwPath path;
  int i = n, j = m;
  // Finite costs always lead through (1, 1) to (0, 0); should a path reach the border first, the rows left
  // are still visited (at column 0), so every row appears in the path.
  while (i > 0) {
    path.rows.push_back(i - 1);
    path.cols.push_back(std::max(j - 1, 0));
    const uint8_t t = trace[i * W + j];
    if (t == 0) {
      --i, --j;
    } else if (t == 1) {
      --i;
    } else {
      --j;
    }
  }
  std::reverse(path.rows.begin(), path.rows.end());
  std::reverse(path.cols.begin(), path.cols.end());
  return path;
}

}  // namespace wisp::align
