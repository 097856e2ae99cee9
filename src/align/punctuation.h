// Punctuation attached to its word, as openai/whisper's timing.merge_punctuations: opening marks
// ("¿", "(", quotes) join the word after them, closing marks (".", ",", "?", quotes) the word before.
#pragma once

#include <string>
#include <vector>

#include "align/word_timing.h"

namespace wisp::align {

// openai's defaults (--prepend_punctuations, --append_punctuations).
constexpr const char* kPrependPunctuations = "\"'“¿([{-";
constexpr const char* kAppendPunctuations = "\"'.。,，!！?？:：”)]}、";

// In place: a word that starts with a space and whose stripped text is in `prepended` (Python's substring
// test) moves into the word after it; then a word whose text is in `appended` moves into the word before
// it unless that one ends with a space. A moved word is left with empty text and no tokens; the merged
// word keeps its own start and end.
void merge_punctuations(std::vector<WordTiming>& words, const std::string& prepended,
                        const std::string& appended);

}  // namespace wisp::align
