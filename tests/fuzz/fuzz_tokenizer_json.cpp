// libFuzzer target: untrusted bytes → the tokenizer.json reader (the parts Whisper's BPE needs, streamed).
// Must read or throw wisp::Error naming the problem; never crash, hang or allocate without bound.
//   scripts/fuzz.sh tokenizer_json [seconds]
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "decode/tokenizer_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    wisp::decode::read_tokenizer_json(std::string(reinterpret_cast<const char*>(data), size), "<fuzz>");
  } catch (const wisp::Error&) {
  }
  return 0;
}
