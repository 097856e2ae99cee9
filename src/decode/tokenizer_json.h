// The parts of a Hugging Face tokenizer.json that Whisper's BPE needs, read in one streaming pass (a SAX
// handler over nlohmann's lexer): no document tree of 100,000 strings is built and freed (that tree was
// half of the tokenizer's load time, 30 of ~55 ms for tiny.en's file).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace wisp::decode {

struct TokenizerJson {
  std::string model_type;                                   // model.type ("" when absent)
  std::vector<std::pair<std::string, int>> vocab;           // model.vocab: byte-level text → id, file order
  std::vector<std::pair<std::string, std::string>> merges;  // model.merges, rank order ("a b" or ["a", "b"])
  struct Added {
    int id = 0;
    std::string content;
    bool special = false;
  };
  std::vector<Added> added_tokens;
};

// Reads `text`; throws Error(Model) naming `path` for malformed JSON, a missing model.vocab, model.merges or
// added_tokens, or a value of the wrong type in them (ids must be integers in [0, 2^22)).
TokenizerJson read_tokenizer_json(const std::string& text, const std::string& path);

}  // namespace wisp::decode
