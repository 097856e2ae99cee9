// libFuzzer target: untrusted bytes → the Silero VAD ggml loader. Must load or throw wisp::Error naming the
// problem; never crash, hang or allocate without bound.
//   scripts/fuzz.sh vad_model [seconds]
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "vad/silero_model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    wisp::vad::parse_silero_model(data, size, "<fuzz>");
  } catch (const wisp::Error&) {
  }
  return 0;
}
