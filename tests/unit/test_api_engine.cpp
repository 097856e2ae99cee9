// The C API's engine: contexts attached to one engine, called from several threads at once, get what each
// gets alone; the segment callback still stops a call; an engine of another model is refused; the engine
// lives as long as a context uses it; bad engine parameters are refused.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "unit/api_tiny.h"

namespace {

using wisp::test::tiny;

std::string text_of(wisp::Context& ctx, const std::string& clip, const wisp_transcribe_params& p) {
  return wisp::Result(ctx.transcribe_file(wisp::test::audio_path(clip), p)).text();
}

wisp_transcribe_params batched() {
  wisp_transcribe_params p = wisp_transcribe_params_default();
  p.beam_size = 1;
  p.batch_size = 8;
  return p;
}

TEST(ApiEngine, ContextsOnOneEngineGetWhatEachGetsAlone) {
  const std::vector<std::string> clips = {"jfk.wav", "librivox-0870.wav", "fleurs-en-001.ogg"};
  std::vector<std::string> alone;
  {
    wisp::Context ctx(tiny());
    for (const auto& c : clips) alone.push_back(text_of(ctx, c, batched()));
  }
  wisp_engine_params ep = wisp_engine_params_default();
  ep.n_threads = 2;
  wisp::Engine engine(tiny(), ep);
  std::vector<std::string> together(clips.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < clips.size(); ++i)
    threads.emplace_back([&, i] {
      wisp::Context ctx(tiny());
      ctx.set_engine(&engine);
      together[i] = text_of(ctx, clips[i], batched());
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(together, alone);
}

TEST(ApiEngine, CallbackStopsTheCallAndTheEngineOutlivesItsHandle) {
  wisp::Context ctx(tiny());
  {
    wisp::Engine engine(tiny());
    ctx.set_engine(&engine);
  }  // the handle is gone; the context still holds the engine
  wisp_transcribe_params p = batched();
  int calls = 0;
  p.on_segment = [](const wisp_segment*, void* user) { return ++*static_cast<int*>(user), 0; };
  p.user_data = &calls;
  wisp_result* r = nullptr;
  const std::string path = wisp::test::audio_path("librivox-0870.wav");
  EXPECT_EQ(wisp_transcribe_file(ctx.get(), path.c_str(), &p, &r), WISP_ERR_CANCELLED);
  EXPECT_EQ(r, nullptr);
  EXPECT_EQ(calls, 1);
  ctx.set_engine(nullptr);
  EXPECT_FALSE(text_of(ctx, "jfk.wav", batched()).empty());
}

TEST(ApiEngine, RefusesAnotherModelAndBadParameters) {
  wisp::Model other(wisp::test::models_dir() + "/tiny.en", 1);
  wisp::Engine engine(other);
  wisp::Context ctx(tiny());
  EXPECT_EQ(wisp_context_set_engine(ctx.get(), engine.get()), WISP_ERR_INVALID_ARGUMENT);
  wisp_engine_params p = wisp_engine_params_default();
  p.max_in_flight = 0;
  wisp_engine* e = nullptr;
  EXPECT_EQ(wisp_engine_create(tiny().get(), &p, &e), WISP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(e, nullptr);
  p = wisp_engine_params_default();
  p.struct_size = 1;
  EXPECT_EQ(wisp_engine_create(tiny().get(), &p, &e), WISP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(wisp_context_set_engine(nullptr, nullptr), WISP_ERR_INVALID_ARGUMENT);
  EXPECT_STREQ(wisp_status_name(WISP_ERR_BUSY), "busy");
}

}  // namespace
