// Compression ratio of a text (bytes / zlib-compressed bytes), openai/whisper's repetition detector.
#pragma once

#include <string>

namespace wisp::decode {

float compression_ratio(const std::string& text);

}  // namespace wisp::decode
