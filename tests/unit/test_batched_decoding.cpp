// Batched decoding gives what one-at-a-time decoding gives: windows of different clips stepped together
// (ragged: one joins while the other is already decoding, beams beside a greedy sequence) end with the same
// tokens as each decoded alone; the encoder's several-window call equals its one-window calls.
#include <gtest/gtest.h>

#include <random>

#include "core/error.h"
#include "decode/decoding_task.h"
#include "model/whisper_model.h"
#include "nn/decoder.h"
#include "nn/encoder.h"
#include "unit/ref_file.h"
#include "unit/test_paths.h"

namespace wisp {
namespace {

std::shared_ptr<const WhisperModel> tiny_en() {
  ModelOptions o;
  o.compute_type = backend::ComputeType::Float32;
  static auto m = WhisperModel::load(test::models_dir() + "/tiny.en", o);
  return m;
}

struct Exec {
  backend::Workspace ws;
  backend::Exec ex{2, &ws};
};

const char* const kClips[] = {"jfk.wav", "librivox-0870.wav", "fleurs-en-003.ogg"};

// The three clips' log-mel windows, (3, 80, 3000).
std::vector<float> mels() {
  std::vector<float> out;
  for (const char* clip : kClips) {
    const test::RefArray mel = test::read_ref(test::ref_dir() + "/" + clip + ".mel.f32");
    out.insert(out.end(), mel.data.begin(), mel.data.end());
  }
  return out;
}

TEST(BatchedEncoder, SeveralWindowsPerCallEqualOneAtATime) {
  auto model = tiny_en();
  Exec run;
  nn::Encoder encoder(*model, run.ex);
  const std::vector<float> mel = mels();
  const size_t per_mel = mel.size() / 3, per_out = 1500 * 384;
  std::vector<float> together(3 * per_out), alone(per_out);
  encoder.encode(mel.data(), together.data(), 3);
  for (int i = 0; i < 3; ++i) {
    encoder.encode(mel.data() + i * per_mel, alone.data());
    float worst = 0.0f;
    for (size_t j = 0; j < per_out; ++j)
      worst = std::max(worst, std::fabs(alone[j] - together[i * per_out + j]));
    EXPECT_LT(worst, 1e-4f) << kClips[i];
  }
}

TEST(BatchedDecoding, RaggedTasksGiveTheTokensOfEachAlone) {
  auto model = tiny_en();
  Exec run;
  nn::Encoder encoder(*model, run.ex);
  nn::Decoder decoder(*model, run.ex);
  const std::vector<float> mel = mels();
  std::vector<float> features(3 * 1500 * 384);
  encoder.encode(mel.data(), features.data(), 3);
  int windows[3];
  decoder.add_windows(features.data(), 3, windows);

  // Options per clip: greedy, beam 5, greedy without timestamps.
  std::vector<decode::DecodingOptions> opts(3);
  for (auto& o : opts) o.language = "en";
  opts[0].beam_size = 1;
  opts[1].beam_size = 5;
  opts[2].beam_size = 1;
  opts[2].without_timestamps = true;

  std::mt19937 rng(0);
  std::vector<decode::DecodingResult> alone;
  for (int i = 0; i < 3; ++i)
    alone.push_back(decode::decode_window(*model, decoder, opts[i], windows[i], &rng));

  // Together: clip 0 starts, clip 1 joins after 3 steps, clip 2 after 5; each leaves when done.
  std::vector<std::unique_ptr<decode::DecodingTask>> tasks(3);
  decode::DecodingStepper stepper(*model, decoder);
  std::vector<decode::DecodingTask*> live;
  for (int step = 0; step < 1000; ++step) {
    if (step == 0 || step == 3 || step == 5) {
      const int i = step == 0 ? 0 : step == 3 ? 1 : 2;
      tasks[i] = std::make_unique<decode::DecodingTask>(*model, decoder, opts[i], windows[i], &rng);
    }
    live.clear();
    for (auto& t : tasks)
      if (t && !t->done()) live.push_back(t.get());
    if (live.empty() && step > 5) break;
    stepper.step(live.data(), static_cast<int>(live.size()));
  }
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(tasks[i] && tasks[i]->done()) << kClips[i];
    const decode::DecodingResult r = tasks[i]->result();
    EXPECT_EQ(r.tokens, alone[i].tokens) << kClips[i];
    EXPECT_NEAR(r.avg_logprob, alone[i].avg_logprob, 1e-3f) << kClips[i];
    EXPECT_NEAR(r.no_speech_prob, alone[i].no_speech_prob, 1e-4f) << kClips[i];
  }
}

TEST(BatchedDecoding, WindowsAndSequencesAreRecycled) {
  auto model = tiny_en();
  Exec run;
  nn::Decoder decoder(*model, run.ex);
  std::vector<float> features(1500 * 384, 0.0f);
  const int a = decoder.add_window(features.data());
  const int b = decoder.add_window(features.data());
  EXPECT_NE(a, b);
  decoder.release_window(a);
  EXPECT_EQ(decoder.add_window(features.data()), a);  // the freed one is reused
  EXPECT_THROW(decoder.release_window(99), Error);
  const int s = decoder.acquire_sequence();
  decoder.release_sequence(s);
  EXPECT_EQ(decoder.acquire_sequence(), s);
  const int token = 50257;
  const nn::Decoder::Run bad{s, 99, 0, 1};  // a window never added
  EXPECT_THROW(decoder.forward(&token, &bad, 1), Error);
  const nn::Decoder::Run overflow{s, a, 448, 1};
  EXPECT_THROW(decoder.forward(&token, &overflow, 1), Error);
}

}  // namespace
}  // namespace wisp
