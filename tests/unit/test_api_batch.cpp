// The batched mode through the C API (batch_size): the default is the sequential loop, out-of-range sizes
// are refused before any audio is read, and a recording of several clips between silences comes back with
// every clip, segments in time order inside the clips' spans, the callback seeing the same segments in the
// same order as the result holds them, and a callback that returns 0 cancelling the run.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "audio/audio_decoder.h"
#include "unit/api_tiny.h"
#include "unit/test_paths.h"
#include "wisp/wisp.hpp"

namespace {

using wisp::test::run_pcm;
using wisp::test::tiny;

TEST(ApiBatch, DefaultsAndRange) {
  const wisp_transcribe_params d = wisp_transcribe_params_default();
  EXPECT_EQ(d.batch_size, 0);
  EXPECT_EQ(d.level_loudness, 1);
  const std::vector<float> silence(16000, 0.0f);
  for (int bad : {-1, 65}) {
    wisp_transcribe_params p = wisp_transcribe_params_default();
    p.batch_size = bad;
    wisp_result* r = nullptr;
    EXPECT_EQ(run_pcm(silence, p, &r), WISP_ERR_INVALID_ARGUMENT) << bad;
    EXPECT_EQ(r, nullptr);
    EXPECT_NE(std::string(wisp_last_error()).find("batch size"), std::string::npos) << wisp_last_error();
  }
}

struct Seen {
  std::vector<std::pair<double, double>> times;
  int stop_after = -1;
};

TEST(ApiBatch, ClipsBetweenSilencesComeBackInOrder) {
  // 5 s of silence, jfk (11 s), 35 s of silence, librivox-0890, 3 s of silence: two chunks.
  const std::vector<float> jfk = wisp::audio::decode_file(wisp::test::audio_path("jfk.wav"));
  const std::vector<float> lv = wisp::audio::decode_file(wisp::test::audio_path("librivox-0890.wav"));
  std::vector<float> pcm(16000 * 5, 0.0f);
  pcm.insert(pcm.end(), jfk.begin(), jfk.end());
  const double jfk_end = static_cast<double>(pcm.size()) / 16000.0;
  pcm.resize(pcm.size() + 16000 * 35, 0.0f);
  const double lv_start = static_cast<double>(pcm.size()) / 16000.0;
  pcm.insert(pcm.end(), lv.begin(), lv.end());
  const double lv_end = static_cast<double>(pcm.size()) / 16000.0;
  pcm.resize(pcm.size() + 16000 * 3, 0.0f);

  wisp_transcribe_params p = wisp_transcribe_params_default();
  p.batch_size = 8;
  p.beam_size = 1;
  Seen seen;
  p.user_data = &seen;
  p.on_segment = [](const wisp_segment* s, void* user) {
    auto* log = static_cast<Seen*>(user);
    log->times.emplace_back(s->start, s->end);
    return log->stop_after < 0 || static_cast<int>(log->times.size()) < log->stop_after ? 1 : 0;
  };
  wisp_result* r = nullptr;
  ASSERT_EQ(run_pcm(pcm, p, &r), WISP_OK) << wisp_last_error();
  const std::string text = wisp_result_text(r);
  EXPECT_NE(text.find("country"), std::string::npos) << text;
  EXPECT_NE(text.find("selfish"), std::string::npos) << text;
  const int n = wisp_result_n_segments(r);
  ASSERT_GE(n, 2);
  ASSERT_EQ(seen.times.size(), static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    const wisp_segment* s = wisp_result_segment(r, i);
    EXPECT_EQ(seen.times[static_cast<size_t>(i)], std::make_pair(s->start, s->end)) << i;
    const bool in_jfk = s->start >= 5.0 - 0.5 && s->end <= jfk_end + 0.5;
    const bool in_lv = s->start >= lv_start - 0.5 && s->end <= lv_end + 0.5;
    EXPECT_TRUE(in_jfk || in_lv) << s->start << " - " << s->end << ": " << s->text;
    if (i > 0) {
      EXPECT_LE(wisp_result_segment(r, i - 1)->end, s->start + 1e-6) << i;
    }
  }
  wisp_result_free(r);

  // A callback that says stop after the first segment: the call is cancelled, nothing more is delivered.
  Seen stop;
  stop.stop_after = 1;
  p.user_data = &stop;
  r = nullptr;
  EXPECT_EQ(run_pcm(pcm, p, &r), WISP_ERR_CANCELLED) << wisp_last_error();
  EXPECT_EQ(r, nullptr);
  EXPECT_EQ(stop.times.size(), 1u);
}

}  // namespace
