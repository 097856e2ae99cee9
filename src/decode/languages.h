// The languages Whisper knows, by code and by English name, as openai/whisper's tokenizer.py lists them
// (LANGUAGES and TO_LANGUAGE_CODE). A model knows a prefix of this list (99 languages; large-v3 100).
#pragma once

#include <span>
#include <string_view>

namespace wisp::decode {

struct LanguageName {
  const char* code;  // "en"
  const char* name;  // "english"
};

// Every language in openai's order (the order of the language tokens after <|startoftranscript|>).
std::span<const LanguageName> whisper_languages();

// A code or an English name, in any case ("en", "EN", "English", "mandarin", "Castilian") -> the code
// ("en", "zh", "es"), as openai's get_tokenizer resolves --language; nullptr when it names no Whisper
// language. The string is static.
const char* resolve_language(std::string_view code_or_name);

}  // namespace wisp::decode
