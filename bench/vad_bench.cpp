// The Silero VAD's speed: speech probabilities and spans for an hour of real speech (an audio file looped),
// median of a few runs, and the plain-loop oracle on a minute of it for comparison.
//   build/bench/wisp_vad_bench [AUDIO=../shared/audio/jfk.wav] [MINUTES=60] [THREADS=2] [RUNS=3]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "audio/audio_decoder.h"
#include "backend/cpu/isa.h"
#include "core/error.h"
#include "vad/silero_vad.h"
#include "vad/silero_vad_ref.h"
#include "vad/speech_segments.h"
#include "vad/vad_model_path.h"

int main(int argc, char** argv) {
  using Clock = std::chrono::steady_clock;
  namespace vad = wisp::vad;
  const std::string input = argc > 1 ? argv[1] : "../shared/audio/jfk.wav";
  const double minutes = argc > 2 ? std::atof(argv[2]) : 60.0;
  const int threads = argc > 3 ? std::atoi(argv[3]) : 2;
  const int runs = argc > 4 ? std::atoi(argv[4]) : 3;
  try {
    const std::vector<float> clip = wisp::audio::decode_file(input);
    const auto n = static_cast<size_t>(minutes * 60.0 * vad::kSampleRate);
    std::vector<float> audio(n);
    for (size_t i = 0; i < n; ++i) audio[i] = clip[i % clip.size()];

    const auto t_load = Clock::now();
    const vad::SileroModel model = vad::load_silero_model(vad::resolve_vad_model(""));
    const vad::SileroVad net(model, wisp::backend::cpu::default_isa());
    const double load_ms = std::chrono::duration<double, std::milli>(Clock::now() - t_load).count();

    wisp::backend::Workspace ws;
    wisp::backend::Exec ex{threads, &ws};
    std::vector<double> seconds;
    size_t n_spans = 0, n_windows = 0;
    for (int r = 0; r < runs; ++r) {
      const auto t0 = Clock::now();
      const std::vector<float> probs = net.speech_probabilities(ex, audio.data(), audio.size());
      const auto spans = vad::speech_spans(probs, static_cast<int64_t>(n), {});
      seconds.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
      n_spans = spans.size();
      n_windows = probs.size();
    }
    std::sort(seconds.begin(), seconds.end());
    const double median = seconds[seconds.size() / 2];

    const size_t n_ref = std::min<size_t>(n, 60 * vad::kSampleRate);
    const auto t_ref = Clock::now();
    vad::speech_probabilities_reference(model, audio.data(), n_ref);
    const double ref_s = std::chrono::duration<double>(Clock::now() - t_ref).count();

    std::printf("wisp VAD bench: %s looped to %.1f min (%zu windows), %d thread(s), %s, model load %.1f ms\n",
                input.c_str(), minutes, n_windows, threads,
                wisp::backend::cpu::isa_name(wisp::backend::cpu::default_isa()), load_ms);
    std::printf(
        "probabilities + spans: median %.3f s of %d runs (min %.3f) = %.2f s per hour of audio; %zu spans\n",
        median, runs, seconds.front(), median / (minutes / 60.0), n_spans);
    std::printf("plain-loop oracle, 1 thread: %.3f s for %.1f min = %.1f s per hour\n", ref_s,
                static_cast<double>(n_ref) / vad::kSampleRate / 60.0,
                ref_s / (static_cast<double>(n_ref) / vad::kSampleRate / 3600.0));
  } catch (const wisp::Error& e) {
    std::fprintf(stderr, "wisp_vad_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
