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
