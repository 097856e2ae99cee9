// Audio at the edges: WAVs with many channels and no channel positions are downmixed (swresample alone has
// no matrix for them and they were called corrupt), and input kept whole in memory stops at its cap while it
// is being decoded.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "audio/audio_decoder.h"
#include "core/error.h"

namespace {

using wisp::audio::decode_memory;

// A 16 kHz 16-bit PCM WAV (plain WAVE_FORMAT_PCM: no channel mask) whose channel c at frame i is
// sample(c, i).
template <class F>
std::vector<uint8_t> make_wav(int channels, int frames, F sample) {
  std::vector<uint8_t> b;
  auto u32 = [&](uint32_t v) {
    for (int k = 0; k < 4; ++k) b.push_back(static_cast<uint8_t>(v >> (8 * k)));
  };
  auto u16 = [&](uint16_t v) {
    b.push_back(static_cast<uint8_t>(v));
    b.push_back(static_cast<uint8_t>(v >> 8));
  };
  const uint32_t data = static_cast<uint32_t>(channels * frames * 2);
  b.insert(b.end(), {'R', 'I', 'F', 'F'});
  u32(36 + data);
  b.insert(b.end(), {'W', 'A', 'V', 'E', 'f', 'm', 't', ' '});
  u32(16);
  u16(1);
  u16(static_cast<uint16_t>(channels));
  u32(16000);
  u32(static_cast<uint32_t>(16000 * channels * 2));
  u16(static_cast<uint16_t>(channels * 2));
  u16(16);
  b.insert(b.end(), {'d', 'a', 't', 'a'});
  u32(data);
  for (int i = 0; i < frames; ++i)
    for (int c = 0; c < channels; ++c) u16(static_cast<uint16_t>(static_cast<int16_t>(sample(c, i))));
  return b;
}

int16_t tone(int i) {
  return static_cast<int16_t>(std::lround(8000.0 * std::sin(2 * M_PI * 440.0 * i / 16000.0)));
}

// Every channel the same tone: the mono result is that tone, whatever the channel count.
TEST(AudioChannels, ManyChannelsDownmixToTheCommonSignal) {
  for (int channels : {2, 8, 9, 16, 33, 64}) {
    const auto wav = make_wav(channels, 8000, [](int, int i) { return tone(i); });
    std::vector<float> pcm;
    ASSERT_NO_THROW(pcm = decode_memory(wav.data(), wav.size(), "many.wav")) << channels << " channels";
    ASSERT_EQ(pcm.size(), 8000u) << channels;
    double max_err = 0;
    for (int i = 0; i < 8000; ++i) max_err = std::max(max_err, std::fabs(pcm[i] - tone(i) / 32768.0));
    EXPECT_LT(max_err, 2e-3) << channels << " channels";
  }
}

// Channels without positions are averaged with equal weights: one loud channel of nine is a ninth.
TEST(AudioChannels, UnpositionedChannelsAreAveraged) {
  for (int channels : {9, 64}) {
    const auto wav = make_wav(channels, 4000, [](int c, int i) { return c == 0 ? tone(i) : int16_t{0}; });
    const std::vector<float> pcm = decode_memory(wav.data(), wav.size(), "one-loud.wav");
    ASSERT_EQ(pcm.size(), 4000u);
    for (int i = 0; i < 4000; i += 97) EXPECT_NEAR(pcm[i], tone(i) / 32768.0 / channels, 1e-4) << channels;
  }
}

// 2 minutes in memory with a 1-minute cap: refused with a message saying so, not decoded whole.
TEST(AudioStreamCap, MemoryInputPastTheCapIsRefused) {
  const auto wav = make_wav(1, 16000 * 120, [](int, int) { return int16_t{0}; });
  try {
    decode_memory(wav.data(), wav.size(), "long.wav", 16000 * 60);
    FAIL() << "decoded past the cap";
  } catch (const wisp::Error& e) {
    EXPECT_EQ(e.kind(), wisp::ErrorKind::Audio);
    EXPECT_NE(std::string(e.what()).find("more than 1 min"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("long.wav"), std::string::npos) << e.what();
  }
  EXPECT_EQ(decode_memory(wav.data(), wav.size(), "long.wav", 16000 * 121).size(), 16000u * 120);
}

}  // namespace
