// libFuzzer target: untrusted audio bytes → decode_memory, and the same bytes block by block through
// decode_memory_blocks. Each must return samples or throw wisp::Error; the samples are finite and in range;
// and where the whole decoding succeeds, the blocks hold the very same samples.
//   scripts/fuzz.sh audio [seconds]
#include <cstddef>
#include <cstdint>
#include <vector>

#include "audio/audio_decoder.h"
#include "core/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<float> whole;
  bool whole_ok = false;
  try {
    whole = wisp::audio::decode_memory(data, size, "fuzz-input");
    whole_ok = true;
    for (float s : whole)
      if (!(s >= -1.0f && s <= 1.0f)) __builtin_trap();  // decoded audio is always finite and in range
  } catch (const wisp::Error&) {
  }
  std::vector<float> blocks;
  wisp::audio::SampleSink sink;
  sink.block = [&](const float* s, size_t n) {
    for (size_t i = 0; i < n; ++i)
      if (!(s[i] >= -1.0f && s[i] <= 1.0f)) __builtin_trap();
    blocks.insert(blocks.end(), s, s + n);
    return blocks.size() <= wisp::audio::kDefaultMaxStreamSamples;  // as far as the whole decoding goes
  };
  try {
    const size_t n = wisp::audio::decode_memory_blocks(data, size, "fuzz-input", sink);
    if (n != blocks.size()) __builtin_trap();
    if (whole_ok && blocks != whole) __builtin_trap();
  } catch (const wisp::Error&) {
    if (whole_ok) __builtin_trap();  // what decodes whole decodes in blocks
  }
  return 0;
}
