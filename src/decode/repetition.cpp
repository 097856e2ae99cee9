#include "decode/repetition.h"

#include <algorithm>

#include "decode/compression.h"

namespace wisp::decode {
namespace {

// Does the 4-gram ending at text[i] also end at some earlier position?
bool seen_before(const std::vector<int>& text, int i) {
  for (int j = i - 1; j >= 3; --j)
    if (text[j] == text[i] && text[j - 1] == text[i - 1] && text[j - 2] == text[i - 2] &&
        text[j - 3] == text[i - 3])
      return true;
  return false;
}

}  // namespace

bool stuck_in_loop(const Tokenizer& tok, const std::vector<int>& seq, int sample_begin, float threshold,
                   std::vector<int>& text) {
  text.clear();
  for (size_t i = static_cast<size_t>(std::max(sample_begin, 0)); i < seq.size(); ++i)
    if (seq[i] >= 0 && seq[i] < tok.eot()) text.push_back(seq[i]);
  const int n = static_cast<int>(text.size());
  if (n < kLoopWindow + 3) return false;
  int novel = 0;
  for (int i = n - kLoopWindow; i < n && novel <= kLoopMaxNovel; ++i) novel += !seen_before(text, i);
  return novel <= kLoopMaxNovel && compression_ratio(tok.decode(text)) > threshold;
}

}  // namespace wisp::decode
