// One word of a window's text with its time in the window, as openai/whisper's find_alignment returns it.
#pragma once

#include <string>
#include <vector>

namespace wisp::align {

struct WordTiming {
  std::string word;               // text with its leading space ("" once merged into a neighbour)
  std::vector<int> tokens;        // the text tokens it is made of
  double start = 0.0, end = 0.0;  // seconds from the window's start
  float probability = 0.0f;       // mean probability of its tokens in the teacher-forced pass
};

}  // namespace wisp::align
