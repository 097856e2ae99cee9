// Whisper's tokenizer: GPT-2 byte-level BPE, read from a CTranslate2 model directory's tokenizer.json.
//
// encode() reproduces HF `tokenizers` (which faster-whisper uses) token for token: added tokens written
// literally in the text ("<|endoftext|>", and in multilingual files the timestamp tokens) are split out
// first, the rest is pre-tokenized with GPT-2's regex, mapped byte by byte to GPT-2's printable
// "byte-level" characters and merged by BPE rank. decode() goes back to bytes and only then interprets
// them as UTF-8, so a character whose bytes are spread over several tokens comes out whole.
//
// A Tokenizer is immutable after from_model_dir() and safe to use from many threads at once; copies
// share the loaded tables (no per-word cache, so there is nothing to guard).
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace wisp::decode {

class Tokenizer {
 public:
  // Loads <dir>/tokenizer.json ("model.vocab", "model.merges", "added_tokens"). `multilingual` is decided
  // by the caller from the model's vocabulary size (51865+ multilingual, 51864 English-only); it only
  // changes sot_sequence(). Throws wisp::Error(ErrorKind::Model) naming the file if it is missing or
  // malformed (bad JSON, merges naming unknown tokens, a special token missing, ...).
  static Tokenizer from_model_dir(const std::string& dir, bool multilingual);
  // The same tokenizer (its tables shared) for a model of the given kind: for a caller that reads the file
  // before it knows the model's vocabulary size.
  Tokenizer with_multilingual(bool multilingual) const {
    Tokenizer t = *this;
    t.multilingual_ = multilingual;
    return t;
  }

  // Ordinary text -> ids, exactly like HF tokenizers' encode(text, add_special_tokens=False).ids.
  // Invalid UTF-8 in `text` is first replaced by U+FFFD (as Python's bytes.decode(errors="replace")).
  std::vector<int> encode(const std::string& text) const;

  // ids -> UTF-8 text. Ids >= eot() (special and timestamp tokens) and negative ids are skipped. The
  // bytes of all tokens are joined before UTF-8 interpretation; ill-formed sequences become U+FFFD the
  // way Python's errors="replace" does it.
  std::string decode(const std::vector<int>& ids) const;

  // Like openai/whisper's decode_with_timestamps (tiktoken): timestamp tokens are rendered as
  // "<|1.08|>", other special tokens as their text ("<|startoftranscript|>", "<|en|>", ...).
  std::string decode_with_timestamps(const std::vector<int>& ids) const;

  // Raw bytes of one ordinary token (id < eot()); "" for special, timestamp and unknown ids.
  std::string token_bytes(int id) const;

  // Number of ids the tokenizer file knows: 1 + the largest id in model.vocab and added_tokens
  // (tiny.en: 50363, no timestamp tokens in its file; base: 51865).
  int vocab_size() const;
  bool multilingual() const { return multilingual_; }

  // Special tokens, looked up by their text in added_tokens. English-only ids are one lower than
  // multilingual ones (eot 50256 vs 50257, ...).
  int eot() const { return eot_; }                            // <|endoftext|>
  int sot() const { return sot_; }                            // <|startoftranscript|>
  int translate() const { return translate_; }                // <|translate|>
  int transcribe() const { return transcribe_; }              // <|transcribe|>
  int sot_lm() const { return sot_lm_; }                      // <|startoflm|>
  int sot_prev() const { return sot_prev_; }                  // <|startofprev|>
  int no_speech() const { return no_speech_; }                // <|nospeech|> (older files: <|nocaptions|>)
  int no_timestamps() const { return no_timestamps_; }        // <|notimestamps|>
  int timestamp_begin() const { return no_timestamps_ + 1; }  // <|0.00|>; each next id is +0.02 s

  // Language tokens are the added tokens between sot and translate ("<|en|>", "<|de|>", ...).
  int language_token(const std::string& code) const;  // id of "<|code|>", or -1 if unknown
  std::string language_code(int token) const;         // "en" for the id of "<|en|>", "" otherwise
  std::vector<std::string> language_codes() const;    // all codes, in id order

  // openai/whisper's tokenizer.sot_sequence: [sot] for English-only models (language and task are
  // ignored); [sot, <|language|>, <|transcribe|> or <|translate|>] for multilingual ones, where an
  // empty language leaves the language token out. Throws wisp::Error(InvalidArgument) for an unknown
  // language code.
  std::vector<int> sot_sequence(const std::string& language, bool translate) const;

 private:
  struct Tables;  // vocab, merges, regex: immutable after loading, shared by copies

  Tokenizer() = default;

  std::shared_ptr<const Tables> tables_;
  bool multilingual_ = false;
  int eot_ = -1, sot_ = -1, translate_ = -1, transcribe_ = -1, sot_lm_ = -1, sot_prev_ = -1;
  int no_speech_ = -1, no_timestamps_ = -1;
};

}  // namespace wisp::decode
