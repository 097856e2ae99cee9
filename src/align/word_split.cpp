#include "align/word_split.h"

#include <string_view>

#include "output/writers.h"

namespace wisp::align {
namespace {

constexpr char32_t kReplacement = 0xFFFD;

// Code points of valid UTF-8 (the tokenizer's decode output always is).
std::u32string code_points(std::string_view s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    const size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 1;
    char32_t cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
    for (size_t k = 1; k < len && i + k < s.size(); ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out.push_back(cp);
    i += len;
  }
  return out;
}

constexpr std::string_view kAsciiPunctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";  // string.punctuation

}  // namespace

std::vector<WordTokens> split_tokens_on_unicode(const decode::Tokenizer& tok,
                                                const std::vector<int>& tokens) {
  const std::u32string full = code_points(tok.decode_with_timestamps(tokens));
  std::vector<WordTokens> out;
  WordTokens current;
  size_t offset = 0;  // code points of `full` taken by the pieces so far
  for (int t : tokens) {
    current.tokens.push_back(t);
    const std::string decoded = tok.decode_with_timestamps(current.tokens);
    const std::u32string cps = code_points(decoded);
    const size_t bad = cps.find(kReplacement);
    // Whole characters, or a U+FFFD the whole text has as well (bytes that are no character at all).
    if (bad == std::u32string::npos || (offset + bad < full.size() && full[offset + bad] == kReplacement)) {
      current.word = decoded;
      offset += cps.size();
      out.push_back(std::move(current));
      current = WordTokens{};
    }
  }
  return out;
}

std::vector<WordTokens> split_tokens_on_spaces(const decode::Tokenizer& tok, const std::vector<int>& tokens) {
  std::vector<WordTokens> words;
  for (WordTokens& piece : split_tokens_on_unicode(tok, tokens)) {
    const bool special = piece.tokens.front() >= tok.eot();
    const bool with_space = !piece.word.empty() && piece.word.front() == ' ';
    const bool punctuation =
        kAsciiPunctuation.find(output::strip_whitespace(piece.word)) != std::string::npos;
    if (special || with_space || punctuation || words.empty()) {
      words.push_back(std::move(piece));
    } else {
      words.back().word += piece.word;
      words.back().tokens.insert(words.back().tokens.end(), piece.tokens.begin(), piece.tokens.end());
    }
  }
  return words;
}

std::vector<WordTokens> split_to_word_tokens(const decode::Tokenizer& tok, const std::vector<int>& tokens,
                                             const std::string& language) {
  static const char* const kNoSpaces[] = {"zh", "ja", "th", "lo", "my", "yue"};
  for (const char* code : kNoSpaces)
    if (language == code) return split_tokens_on_unicode(tok, tokens);
  return split_tokens_on_spaces(tok, tokens);
}

}  // namespace wisp::align
