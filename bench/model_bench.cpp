// The network's two halves on their own, without audio or decoding logic: the encoder per 30-s window, the
// decoder's cross-attention keys and values of a window (computed once per window, with the encoder), and
// one greedy decoder step (a token for each of W windows in flight, the batched mode's inner loop) for
// W = 1, 2, 4, 8, 16, so the cost per sequence of a batched step can be set against a single one (and the
// sequential loop's step, one window with the caches that mode keeps).
// Random mel and audio features; medians.
//   build/bench/wisp_model_bench [MODEL_DIR=models/tiny.en] [COMPUTE_TYPE=auto] [THREADS=2] [RUNS=20]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "backend/compute_type.h"
#include "bench_common.h"
#include "core/error.h"
#include "model/whisper_model.h"
#include "nn/decoder.h"
#include "nn/encoder.h"

namespace {

using wisp::bench::random;

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  using namespace wisp;
  const std::string dir = argc > 1 ? argv[1] : "models/tiny.en";
  const std::string type = argc > 2 ? argv[2] : "auto";
  const int threads = argc > 3 ? std::atoi(argv[3]) : 2;
  const int runs = std::max(1, argc > 4 ? std::atoi(argv[4]) : 20);
  try {
    ModelOptions options;
    if (!backend::parse_compute_type(type, &options.compute_type))
      throw Error(ErrorKind::InvalidArgument, "bad compute type " + type);
    const auto model = WhisperModel::load(dir, options);
    const WhisperDims& d = model->dims();
    backend::Workspace ws;
    backend::Exec ex{threads, &ws};
    std::printf("wisp model bench: %s, %s, %d thread(s), medians of %d runs\n", dir.c_str(),
                model->backend().description().c_str(), threads, runs);

    nn::Encoder encoder(*model, ex);
    const auto mel = random(static_cast<size_t>(d.n_mels) * 2 * d.n_audio_ctx, 0.5f);
    std::vector<float> features(static_cast<size_t>(d.n_audio_ctx) * d.n_audio_state);
    encoder.encode(mel.data(), features.data());  // warm-up
    std::vector<double> ms;
    for (int r = 0; r < runs; ++r) {
      const auto t0 = Clock::now();
      encoder.encode(mel.data(), features.data());
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    std::printf("encoder: %.1f ms per window\n", median(ms));
    {  // the decoder's cross-attention keys and values of a window (the batched mode's caches)
      nn::Decoder decoder(*model, ex);
      int id = decoder.add_window(features.data());  // warm-up
      ms.clear();
      for (int r = 0; r < runs; ++r) {
        decoder.release_window(id);
        const auto t0 = Clock::now();
        id = decoder.add_window(features.data());
        ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      }
      std::printf("cross-attention keys/values: %.2f ms per window\n", median(ms));
    }

    // One greedy step for each of W windows: their caches as the batched mode keeps them (`sequential`:
    // one window, as the sequential loop, --batch 0, keeps it).
    auto step_ms = [&](int W, bool sequential) {
      nn::Decoder decoder(*model, ex);
      const auto audio = random(static_cast<size_t>(W) * d.n_audio_ctx * d.n_audio_state, 1.0f);
      std::vector<int> windows(W), sequences(W);
      if (sequential)
        decoder.set_audio(audio.data(), 1);  // window 0
      else
        decoder.add_windows(audio.data(), W, windows.data());
      for (auto& s : sequences) s = decoder.acquire_sequence();
      std::vector<nn::Decoder::Run> steps(W);
      const int prompt = 4;
      std::vector<int> tokens(static_cast<size_t>(W) * prompt, 50257);
      for (int w = 0; w < W; ++w) steps[w] = {sequences[w], windows[w], 0, prompt};
      decoder.forward(tokens.data(), steps.data(), W);
      std::vector<float> logits(static_cast<size_t>(W) * d.n_vocab);
      std::vector<double> times;
      for (int r = 0; r < std::max(runs, 50) && prompt + r < d.n_text_ctx; ++r) {
        for (int w = 0; w < W; ++w) steps[w] = {sequences[w], windows[w], prompt + r, 1};
        const auto t0 = Clock::now();
        const float* hidden = decoder.forward(tokens.data(), steps.data(), W);
        decoder.logits(hidden, W, logits.data());
        times.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      }
      return median(times);
    };
    double single = 0;
    for (int W : {1, 2, 4, 8, 16}) {
      const double step = step_ms(W, false);
      if (W == 1) single = step;
      std::printf("decoder step, %2d window(s): %.3f ms, %.3f ms per sequence (%.2f of one alone)\n", W, step,
                  step / W, step / W / single);
    }
    std::printf("decoder step, sequential mode (one window, its caches as --batch 0 keeps them): %.3f ms\n",
                step_ms(1, true));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wisp_model_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
