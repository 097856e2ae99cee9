// libFuzzer target: arbitrary bytes as prompt text → encode, and as token ids → decode. Round trip of
// valid UTF-8 must be exact.
//   scripts/fuzz.sh tokenizer [seconds]
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "decode/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const wisp::decode::Tokenizer tok = wisp::decode::Tokenizer::from_model_dir(
      std::string(std::getenv("WISP_MODELS_DIR") ? std::getenv("WISP_MODELS_DIR") : "models") + "/base",
      true);
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::vector<int> ids = tok.encode(text);
  const std::string back = tok.decode(ids);
  (void)back;
  std::vector<int> raw;
  for (size_t i = 0; i + 1 < size; i += 2) raw.push_back((data[i] | (data[i + 1] << 8)) % 52000);
  (void)tok.decode(raw);
  (void)tok.decode_with_timestamps(raw);
  return 0;
}
