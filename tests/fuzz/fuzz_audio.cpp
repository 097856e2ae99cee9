// libFuzzer target: untrusted audio bytes → decode_memory. Must return samples or throw wisp::Error.
//   scripts/fuzz.sh audio [seconds]
#include <cstddef>
#include <cstdint>

#include "audio/audio_decoder.h"
#include "core/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto samples = wisp::audio::decode_memory(data, size, "fuzz-input");
    for (float s : samples)
      if (!(s >= -1.0f && s <= 1.0f)) __builtin_trap();  // decoded audio is always finite and in range
  } catch (const wisp::Error&) {
  }
  return 0;
}
