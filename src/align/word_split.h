// Tokens grouped into words for word timestamps, as openai/whisper's Tokenizer.split_to_word_tokens:
// at spaces and punctuation for most languages, at every whole Unicode character for languages written
// without spaces (zh, ja, th, lo, my, yue).
#pragma once

#include <string>
#include <vector>

#include "decode/tokenizer.h"

namespace wisp::align {

struct WordTokens {
  std::string word;  // the tokens' text (leading space kept; special tokens as "<|endoftext|>")
  std::vector<int> tokens;
};

// Pieces that each decode to whole characters: a token whose bytes end inside a multi-byte character is
// grouped with the tokens that complete it (unless the whole text has U+FFFD there too: bytes that never
// form a character end their piece where they are).
std::vector<WordTokens> split_tokens_on_unicode(const decode::Tokenizer& tok, const std::vector<int>& tokens);

// Those pieces joined into words: a new word starts at a special token, a piece with a leading space, or
// a piece that is punctuation (its stripped text a substring of ASCII punctuation, as Python's `in`).
std::vector<WordTokens> split_tokens_on_spaces(const decode::Tokenizer& tok, const std::vector<int>& tokens);

// split_tokens_on_unicode for languages written without spaces, split_tokens_on_spaces for the others.
std::vector<WordTokens> split_to_word_tokens(const decode::Tokenizer& tok, const std::vector<int>& tokens,
                                             const std::string& language);

}  // namespace wisp::align
