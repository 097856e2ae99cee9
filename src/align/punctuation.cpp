#include "align/punctuation.h"

#include "output/writers.h"

namespace wisp::align {
namespace {

// Python's `needle in haystack` for strings ("" is in every string).
bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

void move_tokens(WordTiming& from, WordTiming& to, bool before) {
  if (before) {
    to.word = from.word + to.word;
    to.tokens.insert(to.tokens.begin(), from.tokens.begin(), from.tokens.end());
  } else {
    to.word += from.word;
    to.tokens.insert(to.tokens.end(), from.tokens.begin(), from.tokens.end());
  }
  from.word.clear();
  from.tokens.clear();
}

}  // namespace

void merge_punctuations(std::vector<WordTiming>& words, const std::string& prepended,
                        const std::string& appended) {
  if (words.size() < 2) return;
  // Prepended marks, right to left: each joins the nearest following word that is still there.
  for (size_t i = words.size() - 1, j = words.size() - 1; i-- > 0;) {
    WordTiming& previous = words[i];
    if (!previous.word.empty() && previous.word.front() == ' ' &&
        contains(prepended, output::strip_whitespace(previous.word))) {
      move_tokens(previous, words[j], true);
    } else {
      j = i;
    }
  }
  // Appended marks, left to right: each joins the nearest preceding word that is still there.
  for (size_t i = 0, j = 1; j < words.size(); ++j) {
    WordTiming& previous = words[i];
    if ((previous.word.empty() || previous.word.back() != ' ') && contains(appended, words[j].word)) {
      move_tokens(words[j], previous, false);
    } else {
      i = j;
    }
  }
}

}  // namespace wisp::align
