// The C API refuses what it cannot honour (a task outside the enum, non-finite thresholds, too many
// temperatures, a language the model does not know) with WISP_ERR_INVALID_ARGUMENT, resolves language names
// as openai does, treats caller PCM like decoded audio (clamped to [-1, 1]), and the C++ wrapper throws for
// a segment index out of range instead of dereferencing NULL.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "audio/audio_decoder.h"
#include "unit/api_tiny.h"
#include "unit/test_paths.h"
#include "wisp/wisp.hpp"

namespace {

using wisp::test::tiny;
// Transcribes one second of silence with `p`; returns the status.
wisp_status run_silence(const wisp_transcribe_params& p) {
  wisp::Context ctx(tiny());
  std::vector<float> pcm(16000, 0.0f);
  wisp_result* r = nullptr;
  const wisp_status s = wisp_transcribe_pcm(ctx.get(), pcm.data(), pcm.size(), &p, &r);
  wisp_result_free(r);
  return s;
}

// What a C caller can do (the field is an int there); in C++ the value is written as bytes.
void set_task(wisp_transcribe_params& p, int32_t v) { std::memcpy(&p.task, &v, sizeof v); }

TEST(ApiParams, TaskOutsideTheEnumIsRefused) {
  wisp_transcribe_params p = wisp_transcribe_params_default();
  set_task(p, 77);
  EXPECT_EQ(run_silence(p), WISP_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(wisp_last_error()).find("task"), std::string::npos) << wisp_last_error();
  set_task(p, -1);
  EXPECT_EQ(run_silence(p), WISP_ERR_INVALID_ARGUMENT);
}

TEST(ApiParams, NonFiniteFloatsAreRefused) {
  const float bad[] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                       -std::numeric_limits<float>::infinity()};
  float wisp_transcribe_params::*fields[] = {&wisp_transcribe_params::patience,
                                             &wisp_transcribe_params::length_penalty,
                                             &wisp_transcribe_params::compression_ratio_threshold,
                                             &wisp_transcribe_params::logprob_threshold,
                                             &wisp_transcribe_params::no_speech_threshold,
                                             &wisp_transcribe_params::max_initial_timestamp};
  for (auto field : fields)
    for (float v : bad) {
      wisp_transcribe_params p = wisp_transcribe_params_default();
      p.*field = v;
      EXPECT_EQ(run_silence(p), WISP_ERR_INVALID_ARGUMENT) << v << ": " << wisp_last_error();
    }
  wisp_transcribe_params p = wisp_transcribe_params_default();
  p.no_speech_threshold = 1.5f;
  EXPECT_EQ(run_silence(p), WISP_ERR_INVALID_ARGUMENT);
  const float temps[] = {0.0f, std::numeric_limits<float>::quiet_NaN()};
  p = wisp_transcribe_params_default();
  p.temperatures = temps;
  p.n_temperatures = 2;
  EXPECT_EQ(run_silence(p), WISP_ERR_INVALID_ARGUMENT);
}

// 0.01 steps from 0 to 1 are 101 temperatures (the old limit of 64 refused them); 257 are too many.
TEST(ApiParams, UpTo256Temperatures) {
  std::vector<float> temps;
  for (int i = 0; i <= 100; ++i) temps.push_back(0.01f * static_cast<float>(i));
  wisp_transcribe_params p = wisp_transcribe_params_default();
  p.beam_size = 1;
  p.temperatures = temps.data();
  p.n_temperatures = static_cast<int>(temps.size());
  EXPECT_EQ(run_silence(p), WISP_OK) << wisp_last_error();
  temps.assign(257, 0.0f);
  p.temperatures = temps.data();
  p.n_temperatures = 257;
  EXPECT_EQ(run_silence(p), WISP_ERR_INVALID_ARGUMENT);
}

TEST(ApiParams, StreamCapMustBePositive) {
  for (double v : {0.0, -1.0, std::nan("")}) {
    wisp_transcribe_params p = wisp_transcribe_params_default();
    p.max_stream_seconds = v;
    EXPECT_EQ(run_silence(p), WISP_ERR_INVALID_ARGUMENT) << v;
  }
  EXPECT_EQ(wisp_transcribe_params_default().max_stream_seconds, 3 * 3600.0);
}

TEST(ApiParams, LanguageCodesAndNames) {
  EXPECT_STREQ(wisp_language_code("en"), "en");
  EXPECT_STREQ(wisp_language_code("EN"), "en");
  EXPECT_STREQ(wisp_language_code("English"), "en");
  EXPECT_STREQ(wisp_language_code("german"), "de");
  EXPECT_STREQ(wisp_language_code("Mandarin"), "zh");
  EXPECT_STREQ(wisp_language_code("castilian"), "es");
  EXPECT_STREQ(wisp_language_code("haitian creole"), "ht");
  EXPECT_STREQ(wisp_language_code("yue"), "yue");
  EXPECT_EQ(wisp_language_code("xx"), nullptr);
  EXPECT_EQ(wisp_language_code(""), nullptr);
  EXPECT_EQ(wisp_language_code(nullptr), nullptr);
  EXPECT_EQ(wisp_model_supports_language(tiny().get(), "English"), 1);
  EXPECT_EQ(wisp_model_supports_language(tiny().get(), "de"), 0);

  wisp_transcribe_params p = wisp_transcribe_params_default();
  p.beam_size = 1;
  for (const char* ok : {"en", "EN", "English"}) {
    p.language = ok;
    EXPECT_EQ(run_silence(p), WISP_OK) << ok << ": " << wisp_last_error();
  }
  for (const char* bad : {"de", "German", "xx"}) {
    p.language = bad;
    EXPECT_EQ(run_silence(p), WISP_ERR_INVALID_ARGUMENT) << bad;
  }
}

// The file path clamps samples to [-1, 1]; PCM from the caller is treated the same, so audio at 1e30 gives
// what the same audio clipped at full scale gives (it gave "!!!!" before).
TEST(ApiParams, PcmIsClampedLikeDecodedAudio) {
  std::vector<float> jfk = wisp::audio::decode_file(wisp::test::audio_path("jfk.wav"));
  std::vector<float> loud(jfk.size()), clipped(jfk.size());
  for (size_t i = 0; i < jfk.size(); ++i) {
    loud[i] = jfk[i] * 1e30f;
    clipped[i] = std::clamp(loud[i], -1.0f, 1.0f);
  }
  wisp_transcribe_params p = wisp_transcribe_params_default();
  p.beam_size = 1;
  wisp::Context ctx(tiny());
  const std::string a = ctx.transcribe_pcm(loud, p).text();
  const std::string b = ctx.transcribe_pcm(clipped, p).text();
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.find("!!!"), std::string::npos) << a;
  std::vector<float> nan_pcm(16000, 0.0f);
  nan_pcm[5] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(ctx.transcribe_pcm(nan_pcm, p), wisp::Exception);
}

TEST(ApiParams, ResultSegmentOutOfRangeThrows) {
  std::vector<float> jfk = wisp::audio::decode_file(wisp::test::audio_path("jfk.wav"));
  wisp_transcribe_params p = wisp_transcribe_params_default();
  p.beam_size = 1;
  wisp::Context ctx(tiny());
  const wisp::Result r = ctx.transcribe_pcm(jfk, p);
  ASSERT_GT(r.n_segments(), 0);
  EXPECT_NO_THROW(r.segment(0));
  for (int bad : {-1, r.n_segments(), 1 << 30}) {
    try {
      r.segment(bad);
      ADD_FAILURE() << "segment(" << bad << ") did not throw";
    } catch (const wisp::Exception& e) {
      EXPECT_EQ(e.status(), WISP_ERR_INVALID_ARGUMENT);
    }
  }
}

}  // namespace
