// One immutable model shared by contexts on several threads at once gives each the same transcript
// as a single-threaded run; the C++ wrapper reports errors as exceptions.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "unit/test_paths.h"
#include "wisp/wisp.hpp"

namespace {

TEST(ApiThreads, SharedModelManyContextsConcurrently) {
  wisp::Model model(wisp::test::models_dir() + "/tiny.en", 2);
  wisp_transcribe_params p = wisp_transcribe_params_default();
  p.beam_size = 2;
  const std::vector<std::string> clips = {"jfk.wav", "librivox-0880.wav", "fleurs-en-003.ogg"};
  std::vector<std::string> expected;
  {
    wisp::Context ctx(model);
    for (const auto& c : clips) expected.push_back(ctx.transcribe_file(wisp::test::audio_path(c), p).text());
  }
  std::vector<std::string> got(clips.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < clips.size(); ++i)
    threads.emplace_back([&, i] {
      wisp::Context ctx(model);
      got[i] = ctx.transcribe_file(wisp::test::audio_path(clips[i]), p).text();
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(got, expected);
}

// Each context computes with its own thread count, whichever thread calls it; results do not depend on it.
TEST(ApiThreads, ThreadsPerContext) {
  wisp::Model model(wisp::test::models_dir() + "/tiny.en", 1);
  wisp_transcribe_params p = wisp_transcribe_params_default();
  p.beam_size = 1;
  wisp::Context one(model), two(model), all(model);
  two.set_threads(2);
  all.set_threads(0);
  const std::string jfk = wisp::test::audio_path("jfk.wav");
  std::string from_one, from_two, from_all;
  std::thread t1([&] { from_one = one.transcribe_file(jfk, p).text(); });
  std::thread t2([&] { from_two = two.transcribe_file(jfk, p).text(); });
  t1.join();
  t2.join();
  from_all = all.transcribe_file(jfk, p).text();
  EXPECT_EQ(from_one, from_two);
  EXPECT_EQ(from_one, from_all);
  EXPECT_THROW(two.set_threads(-1), wisp::Exception);
  EXPECT_THROW(two.set_threads(100000), wisp::Exception);
}

// The model reports the compute type it resolved and what computes it; the peak probe answers.
TEST(ApiThreads, ComputeTypeAndBackendAreReported) {
  wisp::Model model(wisp::test::models_dir() + "/tiny.en", 1, WISP_COMPUTE_BFLOAT16, "avx2");
  EXPECT_EQ(model.compute_type(), WISP_COMPUTE_BFLOAT16);
  EXPECT_EQ(model.backend(), "cpu avx2 bfloat16");
  const char* what = nullptr;
  EXPECT_GT(wisp_model_peak_gops(model.get(), 1, &what), 0.0);
  EXPECT_NE(std::string(what), "");
  wisp::Model automatic(wisp::test::models_dir() + "/tiny.en");
  EXPECT_NE(automatic.compute_type(), WISP_COMPUTE_AUTO);  // resolved
  wisp_model_params mp = wisp_model_params_default();
  mp.compute_type = static_cast<wisp_compute_type>(9);
  wisp_model* m = nullptr;
  EXPECT_EQ(wisp_model_load((wisp::test::models_dir() + "/tiny.en").c_str(), &mp, &m),
            WISP_ERR_INVALID_ARGUMENT);
  mp = wisp_model_params_default();
  mp.isa = "sse2";
  EXPECT_EQ(wisp_model_load((wisp::test::models_dir() + "/tiny.en").c_str(), &mp, &m),
            WISP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(m, nullptr);
}

TEST(ApiThreads, ErrorsBecomeExceptionsWithStatus) {
  try {
    wisp::Model m("/nonexistent/model");
    FAIL();
  } catch (const wisp::Exception& e) {
    EXPECT_EQ(e.status(), WISP_ERR_IO);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/model"), std::string::npos);
  }
  wisp::Model model(wisp::test::models_dir() + "/tiny.en");
  wisp::Context ctx(model);
  wisp_transcribe_params p = wisp_transcribe_params_default();
  p.beam_size = 0;
  try {
    ctx.transcribe_file(wisp::test::audio_path("jfk.wav"), p);
    FAIL();
  } catch (const wisp::Exception& e) {
    EXPECT_EQ(e.status(), WISP_ERR_INVALID_ARGUMENT);
  }
  p = wisp_transcribe_params_default();
  p.struct_size = 3;  // a caller built against another version of the header
  EXPECT_THROW(ctx.transcribe_file(wisp::test::audio_path("jfk.wav"), p), wisp::Exception);
}

}  // namespace
