// The C API's pushed audio (wisp_stream_*): blocks of any size give what the whole recording gives, on a
// context and on an engine; segments come out while audio is still being pushed; the segment callback
// stops it; bad samples and the sequential mode are refused; a stream freed unfinished drops its work.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "audio/audio_decoder.h"
#include "unit/api_tiny.h"

namespace {

using wisp::test::tiny;

// Clips with 3-s pauses, twice over (94 s): four chunks.
std::vector<float> recording() {
  std::vector<float> out;
  for (int round = 0; round < 2; ++round)
    for (const char* name : {"jfk.wav", "librivox-0870.wav", "fleurs-en-003.ogg", "jfk.wav"}) {
      const std::vector<float> c = wisp::audio::decode_file(wisp::test::audio_path(name));
      out.insert(out.end(), c.begin(), c.end());
      out.insert(out.end(), 48000, 0.0f);
    }
  return out;
}

wisp_transcribe_params batched(int batch = 2) {
  wisp_transcribe_params p = wisp_transcribe_params_default();
  p.beam_size = 1;
  p.batch_size = batch;
  return p;
}

struct Pushed {
  std::string text;
  int segments_before_finish = 0;
};

Pushed push_all(wisp::Context& ctx, const std::vector<float>& x, size_t block) {
  wisp_transcribe_params p = batched();
  int seen = 0;
  p.on_segment = [](const wisp_segment*, void* user) { return ++*static_cast<int*>(user), 1; };
  p.user_data = &seen;
  wisp::Stream s = ctx.open_stream(p);
  for (size_t at = 0; at < x.size(); at += block) s.push(x.data() + at, std::min(block, x.size() - at));
  Pushed out;
  out.segments_before_finish = seen;
  out.text = s.finish().text();
  return out;
}

TEST(ApiStream, PushedBlocksGiveWhatTheWholeGives) {
  const std::vector<float> x = recording();
  wisp::Context ctx(tiny());
  const std::string whole = ctx.transcribe_pcm(x, batched()).text();
  ASSERT_NE(whole.find("ask not what your country"), std::string::npos);
  for (size_t block : {size_t{1024}, size_t{16000 * 3}}) {
    const Pushed here = push_all(ctx, x, block);
    EXPECT_EQ(here.text, whole) << block;
    EXPECT_GT(here.segments_before_finish, 0) << "segments came out while audio was being pushed";
  }
  wisp::Engine engine(tiny());
  ctx.set_engine(&engine);
  EXPECT_EQ(push_all(ctx, x, 4000).text, whole);
}

TEST(ApiStream, RefusesTheSequentialModeAndBadSamples) {
  wisp::Context ctx(tiny());
  wisp_transcribe_params p = batched();
  p.batch_size = 0;
  wisp_stream* s = nullptr;
  EXPECT_EQ(wisp_stream_begin(ctx.get(), &p, &s), WISP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(s, nullptr);
  p = batched();
  ASSERT_EQ(wisp_stream_begin(ctx.get(), &p, &s), WISP_OK);
  const float bad[3] = {0.1f, NAN, 0.2f};
  EXPECT_EQ(wisp_stream_push(s, bad, 3), WISP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(wisp_stream_push(s, nullptr, 3), WISP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(wisp_stream_push(nullptr, bad, 0), WISP_ERR_INVALID_ARGUMENT);
  const float loud[2] = {5.0f, -7.0f};  // clamped, as decoded audio
  EXPECT_EQ(wisp_stream_push(s, loud, 2), WISP_OK);
  wisp_result* r = nullptr;
  ASSERT_EQ(wisp_stream_finish(s, &r), WISP_OK);  // frees the stream
  EXPECT_EQ(wisp_result_n_segments(r), 0);
  wisp_result_free(r);
  wisp_stream_free(nullptr);
}

TEST(ApiStream, TheCallbackStopsItAndAnUnfinishedStreamIsDropped) {
  const std::vector<float> x = recording();
  for (bool with_engine : {false, true}) {
    wisp::Context ctx(tiny());
    wisp::Engine engine(tiny());
    if (with_engine) ctx.set_engine(&engine);
    wisp_transcribe_params p = batched(1);
    p.on_segment = [](const wisp_segment*, void*) { return 0; };
    wisp_stream* s = nullptr;
    ASSERT_EQ(wisp_stream_begin(ctx.get(), &p, &s), WISP_OK);
    wisp_status st = WISP_OK;
    for (int round = 0; round < 20 && st == WISP_OK; ++round)
      for (size_t at = 0; at < x.size() && st == WISP_OK; at += 16000)
        st = wisp_stream_push(s, x.data() + at, std::min<size_t>(16000, x.size() - at));
    EXPECT_EQ(st, WISP_ERR_CANCELLED) << with_engine;
    wisp_result* r = nullptr;
    EXPECT_EQ(wisp_stream_finish(s, &r), WISP_ERR_CANCELLED);
    EXPECT_EQ(r, nullptr);

    // Freed in the middle: its work is dropped, the context serves the next call.
    p = batched();
    ASSERT_EQ(wisp_stream_begin(ctx.get(), &p, &s), WISP_OK);
    ASSERT_EQ(wisp_stream_push(s, x.data(), x.size() / 2), WISP_OK);
    wisp_stream_free(s);
    EXPECT_NE(ctx.transcribe_pcm(std::vector<float>(x.begin(), x.begin() + 16000 * 11), batched())
                  .text()
                  .find("country"),
              std::string::npos);
  }
}

}  // namespace
