// The VAD fields of wisp_transcribe_params: defaults as faster-whisper's vad_filter (with a 250-ms minimum
// speech), out-of-range values refused before any audio is read, a missing VAD model reported as a model
// error before the audio, and times of the original audio in the result and in the segment callback.
#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "audio/audio_decoder.h"
#include "unit/api_tiny.h"
#include "unit/test_paths.h"
#include "wisp/wisp.hpp"

namespace {

using wisp::test::run_pcm;
using wisp::test::tiny;

TEST(ApiVad, Defaults) {
  const wisp_transcribe_params p = wisp_transcribe_params_default();
  EXPECT_EQ(p.vad, 0);
  EXPECT_EQ(p.vad_model, nullptr);
  EXPECT_EQ(p.vad_threshold, 0.5f);
  EXPECT_EQ(p.vad_min_speech_ms, 250);
  EXPECT_EQ(p.vad_min_silence_ms, 2000);
  EXPECT_EQ(p.vad_speech_pad_ms, 400);
  EXPECT_EQ(p.vad_max_speech_s, 0.0f);
}

TEST(ApiVad, OutOfRangeValuesAreRefused) {
  const std::vector<float> silence(16000, 0.0f);
  std::vector<void (*)(wisp_transcribe_params&)> bad = {
      [](wisp_transcribe_params& p) { p.vad_threshold = std::numeric_limits<float>::quiet_NaN(); },
      [](wisp_transcribe_params& p) { p.vad_threshold = std::numeric_limits<float>::infinity(); },
      [](wisp_transcribe_params& p) { p.vad_threshold = -0.1f; },
      [](wisp_transcribe_params& p) { p.vad_threshold = 1.5f; },
      [](wisp_transcribe_params& p) { p.vad_min_speech_ms = -1; },
      [](wisp_transcribe_params& p) { p.vad_min_speech_ms = 3600001; },
      [](wisp_transcribe_params& p) { p.vad_min_silence_ms = -1; },
      [](wisp_transcribe_params& p) { p.vad_speech_pad_ms = -1; },
      [](wisp_transcribe_params& p) { p.vad_speech_pad_ms = 60001; },
      [](wisp_transcribe_params& p) { p.vad_max_speech_s = std::numeric_limits<float>::quiet_NaN(); },
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    wisp_transcribe_params p = wisp_transcribe_params_default();
    p.vad = 1;
    bad[i](p);
    wisp_result* r = nullptr;
    EXPECT_EQ(run_pcm(silence, p, &r), WISP_ERR_INVALID_ARGUMENT) << i << ": " << wisp_last_error();
    EXPECT_EQ(r, nullptr);
    std::string msg = wisp_last_error();
    for (char& ch : msg) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    EXPECT_NE(msg.find("vad"), std::string::npos) << msg;
  }
}

TEST(ApiVad, MissingModelIsAModelErrorBeforeTheAudio) {
  wisp::Context ctx(tiny());
  wisp_transcribe_params p = wisp_transcribe_params_default();
  p.vad = 1;
  p.vad_model = "/nonexistent/silero.bin";
  wisp_result* r = nullptr;
  // The audio file does not exist either: the VAD model is looked at first.
  EXPECT_EQ(wisp_transcribe_file(ctx.get(), "/nonexistent/audio.wav", &p, &r), WISP_ERR_MODEL);
  EXPECT_NE(std::string(wisp_last_error()).find("/nonexistent/silero.bin"), std::string::npos)
      << wisp_last_error();
}

TEST(ApiVad, SilenceHasNoSegments) {
  wisp_transcribe_params p = wisp_transcribe_params_default();
  p.vad = 1;
  wisp_result* r = nullptr;
  ASSERT_EQ(run_pcm(std::vector<float>(16000 * 10, 0.0f), p, &r), WISP_OK) << wisp_last_error();
  EXPECT_EQ(wisp_result_n_segments(r), 0);
  EXPECT_STREQ(wisp_result_text(r), "");
  EXPECT_DOUBLE_EQ(wisp_result_duration(r), 10.0);
  wisp_result_free(r);
}

struct Seen {
  std::vector<std::pair<double, double>> times;
};

TEST(ApiVad, TimesAreThoseOfTheOriginalAudio) {
  // 20 s of silence, jfk.wav (11 s), 20 s of silence.
  const std::vector<float> jfk = wisp::audio::decode_file(wisp::test::audio_path("jfk.wav"));
  std::vector<float> pcm(16000 * 20, 0.0f);
  pcm.insert(pcm.end(), jfk.begin(), jfk.end());
  pcm.resize(pcm.size() + 16000 * 20, 0.0f);
  const double speech_start = 20.0, speech_end = 20.0 + static_cast<double>(jfk.size()) / 16000.0;

  wisp_transcribe_params p = wisp_transcribe_params_default();
  p.vad = 1;
  p.beam_size = 1;
  Seen seen;
  p.user_data = &seen;
  p.on_segment = [](const wisp_segment* s, void* user) {
    static_cast<Seen*>(user)->times.emplace_back(s->start, s->end);
    return 1;
  };
  wisp_result* r = nullptr;
  ASSERT_EQ(run_pcm(pcm, p, &r), WISP_OK) << wisp_last_error();
  ASSERT_GT(wisp_result_n_segments(r), 0);
  EXPECT_NE(std::string(wisp_result_text(r)).find("country"), std::string::npos) << wisp_result_text(r);
  EXPECT_DOUBLE_EQ(wisp_result_duration(r), static_cast<double>(pcm.size()) / 16000.0);
  ASSERT_EQ(seen.times.size(), static_cast<size_t>(wisp_result_n_segments(r)));
  for (int i = 0; i < wisp_result_n_segments(r); ++i) {
    const wisp_segment* s = wisp_result_segment(r, i);
    EXPECT_GE(s->start, speech_start - 0.5) << s->text;
    EXPECT_LE(s->end, speech_end + 0.5) << s->text;
    EXPECT_DOUBLE_EQ(seen.times[static_cast<size_t>(i)].first, s->start);
    EXPECT_DOUBLE_EQ(seen.times[static_cast<size_t>(i)].second, s->end);
  }
  wisp_result_free(r);
}

}  // namespace
