// Each segment's tokens come with their log-probabilities (wisp_segment.token_logprobs), in the sequential
// loop and the batched mode, greedy and with beams: one per token, finite and at most 0, and for a window
// (jfk: one) they add up to the window's summed log-prob without its closing <|endoftext|> — at least
// avg_logprob · (tokens + 1), the sum with it.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "audio/audio_decoder.h"
#include "unit/api_tiny.h"
#include "unit/test_paths.h"

namespace {

TEST(ApiLogprobs, EveryTokenHasItsLogprob) {
  const std::vector<float> jfk = wisp::audio::decode_file(wisp::test::audio_path("jfk.wav"));
  for (int batch : {0, 8})
    for (int beam : {1, 5}) {
      wisp_transcribe_params p = wisp_transcribe_params_default();
      p.batch_size = batch;
      p.beam_size = beam;
      int seen_with_logprobs = 0;
      p.user_data = &seen_with_logprobs;
      p.on_segment = [](const wisp_segment* s, void* user) {
        if (s->n_tokens > 0 && s->token_logprobs) ++*static_cast<int*>(user);
        return 1;
      };
      wisp_result* r = nullptr;
      ASSERT_EQ(wisp::test::run_pcm(jfk, p, &r), WISP_OK) << wisp_last_error();
      const int n = wisp_result_n_segments(r);
      ASSERT_GE(n, 1);
      EXPECT_EQ(seen_with_logprobs, n) << "batch " << batch << ", beam " << beam;
      double sum = 0.0;
      int tokens = 0;
      for (int i = 0; i < n; ++i) {
        const wisp_segment* s = wisp_result_segment(r, i);
        ASSERT_NE(s->token_logprobs, nullptr);
        for (int t = 0; t < s->n_tokens; ++t) {
          EXPECT_TRUE(std::isfinite(s->token_logprobs[t]) && s->token_logprobs[t] <= 0.0f)
              << s->token_logprobs[t];
          sum += s->token_logprobs[t];
        }
        tokens += s->n_tokens;
      }
      const double avg = wisp_result_segment(r, 0)->avg_logprob;
      EXPECT_LE(sum, 0.0);
      EXPECT_GE(sum, avg * (tokens + 1) - 1e-3) << "batch " << batch << ", beam " << beam;
      wisp_result_free(r);
    }
}

}  // namespace
