#include "align/median_filter.h"

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "core/error.h"

namespace wisp::align {

void median_filter_rows(float* data, int rows, int n, int width) {
  if (width < 1 || width % 2 == 0) throw Error(ErrorKind::Internal, "median filter width must be odd");
  const int half = width / 2;
  if (n <= half || half == 0) return;
  std::vector<float> row(static_cast<size_t>(n)), window(static_cast<size_t>(width));
  for (int r = 0; r < rows; ++r) {
    float* x = data + static_cast<size_t>(r) * n;
    std::copy(x, x + n, row.begin());
    for (int j = 0; j < n; ++j) {
      for (int k = -half; k <= half; ++k) {
        int at = std::abs(j + k);            // reflected at the start
        if (at >= n) at = 2 * (n - 1) - at;  // and at the end
        window[k + half] = row[at];
      }
      std::nth_element(window.begin(), window.begin() + half, window.end());
      x[j] = window[half];
    }
  }
}

}  // namespace wisp::align
