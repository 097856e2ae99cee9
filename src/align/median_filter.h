// Median filter along rows, as openai/whisper's timing.median_filter smooths the attention weights.
#pragma once

namespace wisp::align {

// Replaces each of the `rows` rows of `n` values (row-major, in place) by its running median over `width`
// values centred on each position (width odd), the row reflected at both ends (… x2 x1 | x0 x1 x2 … as
// PyTorch's "reflect" padding). Rows too short to reflect (n <= width / 2) are left as they are.
void median_filter_rows(float* data, int rows, int n, int width);

}  // namespace wisp::align
