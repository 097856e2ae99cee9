// Spoken-language identification: one decoder step on <|startoftranscript|>, softmax over the language
// tokens only (openai/whisper decoding.py detect_language).
#pragma once

#include <string>
#include <vector>

#include "model/whisper_model.h"
#include "nn/decoder.h"

namespace wisp::decode {

struct LanguageProbability {
  std::string code;
  float probability = 0.0f;
};

// The decoder holds the audio of `window`. Returns all languages, most probable first.
std::vector<LanguageProbability> detect_language(const WhisperModel& model, nn::Decoder& decoder, int window);

}  // namespace wisp::decode
