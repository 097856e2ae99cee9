// Silero VAD against faster-whisper's own (its ONNX model under onnxruntime;
// tests/reference/vad_reference.py) on every clip of ../shared/audio and a long-form mix of them (7.7 min),
// all on the very samples faster-whisper decoded. faster-whisper 1.2.1's silero_vad_v6.onnx holds other
// weights than the v6.2.0 file wisp ships, so:
//   - the implementation: wisp's network on faster-whisper's own weights (converted to the ggml layout by
//     tests/reference/silero_onnx_to_ggml.py) gives its probabilities within kSameWeightsTolerance in every
//     window, and from them the same spans as get_speech_timestamps under five option sets;
//   - the span logic: speech_spans on ONNX's probabilities is get_speech_timestamps exactly;
//   - the shipped model: v6.2.0's decisions against faster-whisper's v6 (measured agreement, stated below);
//   - the fast network against the plain-loop oracle (silero_vad_ref.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "backend/cpu/isa.h"
#include "unit/ref_file.h"
#include "unit/test_paths.h"
#include "vad/silero_vad.h"
#include "vad/silero_vad_ref.h"
#include "vad/speech_segments.h"
#include "vad/vad_model_path.h"

namespace wisp::vad {
namespace {

// Max |P_wisp − P_onnx| in any window, on the same weights: float32 rounding in another order.
constexpr float kSameWeightsTolerance = 1e-4f;
// The shipped v6.2.0 model against faster-whisper's v6 (other weights; measured 2026-11-26: mean |ΔP| 0.078,
// decisions P >= 0.5 agreeing in 94.5% of 20,501 windows; with wisp's defaults the same 52 spans, boundaries
// apart by 32 ms at the median, 320 ms at the 90th percentile, 6.9 s at most — v6.2.0 hears one quiet FLEURS
// clip of the long-form mix start 6 s later). Regression bounds on that:
constexpr double kOtherWeightsMeanDiff = 0.1;
constexpr double kOtherWeightsAgreement = 0.93;
constexpr int64_t kOtherWeightsMedianBoundary = 1024;  // 64 ms
constexpr int64_t kOtherWeightsP90Boundary = 8000;     // 0.5 s
constexpr int64_t kOtherWeightsMaxBoundary = 128000;   // 8 s
// The fast network against the oracle: the same fp32 arithmetic in another order.
constexpr float kOracleTolerance = 1e-4f;

std::string vad_ref(const std::string& name) { return test::ref_dir() + "/vad/" + name; }

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("missing " + path + " (made by tests/reference/vad_reference.py)");
  return nlohmann::json::parse(in);
}

const SileroModel& model() {
  static const SileroModel m = load_silero_model(resolve_vad_model(""));
  return m;
}

std::vector<float> run(const SileroVad& vad, const std::vector<float>& audio) {
  backend::Workspace ws;
  backend::Exec ex{2, &ws};
  return vad.speech_probabilities(ex, audio.data(), audio.size());
}

// The shipped model.
std::vector<float> wisp_probs(const std::vector<float>& audio) {
  static const SileroVad vad(model(), backend::cpu::default_isa());
  return run(vad, audio);
}

// faster-whisper's weights.
std::vector<float> fw_weights_probs(const std::vector<float>& audio) {
  static const SileroVad vad(load_silero_model(vad_ref("faster-whisper-silero-v6-ggml.bin")),
                             backend::cpu::default_isa());
  return run(vad, audio);
}

VadOptions options_of(const nlohmann::json& o) {
  VadOptions v;
  v.threshold = o["threshold"].get<float>();
  v.neg_threshold = o["neg_threshold"].is_null() ? -1.0f : o["neg_threshold"].get<float>();
  v.min_speech_duration_ms = o["min_speech_duration_ms"].get<int>();
  v.max_speech_duration_s =
      o["max_speech_duration_s"].is_null() ? INFINITY : o["max_speech_duration_s"].get<double>();
  v.min_silence_duration_ms = o["min_silence_duration_ms"].get<int>();
  v.speech_pad_ms = o["speech_pad_ms"].get<int>();
  return v;
}

struct Input {
  std::string name;
  test::RefArray audio, onnx;
  nlohmann::json runs;
};

std::vector<Input> inputs() {
  std::vector<Input> out;
  const nlohmann::json manifest = read_json(vad_ref("manifest.json"));
  for (const auto& input : manifest["inputs"]) {
    Input in;
    in.name = input.get<std::string>();
    in.audio = test::read_ref(vad_ref(in.name + ".audio.f32"));
    in.onnx = test::read_ref(vad_ref(in.name + ".probs.f32"));
    in.runs = read_json(vad_ref(in.name + ".spans.json"))["runs"];
    out.push_back(std::move(in));
  }
  return out;
}

std::vector<SpeechSpan> spans_of(const nlohmann::json& run) {
  std::vector<SpeechSpan> spans;
  for (const auto& s : run["spans"]) spans.push_back({s[0].get<int64_t>(), s[1].get<int64_t>()});
  return spans;
}

std::string seconds(const std::vector<SpeechSpan>& spans) {
  std::string out;
  char buf[48];
  for (const SpeechSpan& s : spans) {
    std::snprintf(buf, sizeof buf, " %.2f-%.2f", s.start / 16000.0, s.end / 16000.0);
    out += buf;
  }
  return out;
}

// Largest boundary difference in samples; -1 when the span counts differ.
int64_t boundary_difference(const std::vector<SpeechSpan>& a, const std::vector<SpeechSpan>& b) {
  if (a.size() != b.size()) return -1;
  int64_t worst = 0;
  for (size_t i = 0; i < a.size(); ++i)
    worst = std::max({worst, static_cast<int64_t>(std::llabs(a[i].start - b[i].start)),
                      static_cast<int64_t>(std::llabs(a[i].end - b[i].end))});
  return worst;
}

TEST(VadReference, SpanLogicIsFasterWhispersOnItsProbabilities) {
  int n_spans = 0;
  for (const Input& in : inputs()) {
    SCOPED_TRACE(in.name);
    for (const auto& run : in.runs) {
      SCOPED_TRACE(run["name"].get<std::string>());
      const std::vector<SpeechSpan> expected = spans_of(run);
      const auto ours =
          speech_spans(in.onnx.data, static_cast<int64_t>(in.audio.data.size()), options_of(run["options"]));
      EXPECT_EQ(boundary_difference(ours, expected), 0);
      n_spans += static_cast<int>(expected.size());
    }
  }
  EXPECT_GT(n_spans, 100);
}

TEST(VadReference, NetworkOnFasterWhispersWeightsGivesItsProbabilities) {
  float worst = 0.0f;
  int64_t worst_boundary = 0;
  size_t n_windows = 0;
  for (const Input& in : inputs()) {
    SCOPED_TRACE(in.name);
    const std::vector<float> probs = fw_weights_probs(in.audio.data);
    ASSERT_EQ(probs.size(), in.onnx.data.size());
    for (size_t i = 0; i < probs.size(); ++i) worst = std::max(worst, std::fabs(probs[i] - in.onnx.data[i]));
    n_windows += probs.size();
    for (const auto& run : in.runs) {
      SCOPED_TRACE(run["name"].get<std::string>());
      const auto ours =
          speech_spans(probs, static_cast<int64_t>(in.audio.data.size()), options_of(run["options"]));
      const int64_t d = boundary_difference(ours, spans_of(run));
      EXPECT_EQ(d, 0);
      worst_boundary = std::max(worst_boundary, d);
    }
  }
  EXPECT_LE(worst, kSameWeightsTolerance);
  std::printf(
      "VAD on faster-whisper's weights vs its ONNX: %zu windows, max |dP| %.2e; spans: max boundary "
      "difference %lld samples\n",
      n_windows, worst, static_cast<long long>(worst_boundary));
}

TEST(VadReference, ShippedModelAgreesWithFasterWhispers) {
  double sum_diff = 0.0;
  size_t n_windows = 0, agree = 0;
  int64_t worst_boundary = 0;
  int n_spans = 0;
  std::vector<int64_t> diffs;
  for (const Input& in : inputs()) {
    SCOPED_TRACE(in.name);
    const std::vector<float> probs = wisp_probs(in.audio.data);
    ASSERT_EQ(probs.size(), in.onnx.data.size());
    for (size_t i = 0; i < probs.size(); ++i) {
      sum_diff += std::fabs(probs[i] - in.onnx.data[i]);
      agree += (probs[i] >= 0.5f) == (in.onnx.data[i] >= 0.5f);
    }
    n_windows += probs.size();
    const nlohmann::json& defaults = in.runs[0];
    ASSERT_EQ(defaults["name"], "wisp_defaults");
    const std::vector<SpeechSpan> expected = spans_of(defaults);
    const auto ours = speech_spans(probs, static_cast<int64_t>(in.audio.data.size()), {});
    const int64_t d = boundary_difference(ours, expected);
    EXPECT_GE(d, 0) << ours.size() << " spans, faster-whisper " << expected.size();
    if (d >= 0)
      for (size_t i = 0; i < ours.size(); ++i) {
        diffs.push_back(std::llabs(ours[i].start - expected[i].start));
        diffs.push_back(std::llabs(ours[i].end - expected[i].end));
      }
    EXPECT_LE(d, kOtherWeightsMaxBoundary)
        << "\n  wisp:          " << seconds(ours) << "\n  faster-whisper:" << seconds(expected);
    worst_boundary = std::max(worst_boundary, d);
    n_spans += static_cast<int>(expected.size());
  }
  ASSERT_FALSE(diffs.empty());
  std::sort(diffs.begin(), diffs.end());
  const int64_t median = diffs[diffs.size() / 2], p90 = diffs[diffs.size() * 9 / 10];
  EXPECT_LE(median, kOtherWeightsMedianBoundary);
  EXPECT_LE(p90, kOtherWeightsP90Boundary);
  const double mean_diff = sum_diff / static_cast<double>(n_windows);
  const double agreement = static_cast<double>(agree) / static_cast<double>(n_windows);
  EXPECT_LE(mean_diff, kOtherWeightsMeanDiff);
  EXPECT_GE(agreement, kOtherWeightsAgreement);
  std::printf(
      "shipped v6.2.0 vs faster-whisper's v6 ONNX: %zu windows, mean |dP| %.4f, decision agreement "
      "%.2f%%; wisp defaults: %d spans, boundary differences (samples) median %lld, 90th percentile "
      "%lld, max %lld\n",
      n_windows, mean_diff, 100.0 * agreement, n_spans, static_cast<long long>(median),
      static_cast<long long>(p90), static_cast<long long>(worst_boundary));
}

TEST(VadReference, FastNetworkMatchesTheOracle) {
  for (const std::string& name :
       std::vector<std::string>{"jfk.wav", "fleurs-en-000.ogg", "fleurs-de-001.ogg"}) {
    SCOPED_TRACE(name);
    const test::RefArray audio = test::read_ref(vad_ref(name + ".audio.f32"));
    const std::vector<float> fast = wisp_probs(audio.data);
    const std::vector<float> ref =
        speech_probabilities_reference(model(), audio.data.data(), audio.data.size());
    ASSERT_EQ(fast.size(), ref.size());
    float worst = 0.0f;
    for (size_t i = 0; i < ref.size(); ++i) worst = std::max(worst, std::fabs(fast[i] - ref[i]));
    EXPECT_LE(worst, kOracleTolerance);
  }
  // Several blocks of windows (the fast network batches 512), the LSTM state carried across them.
  const test::RefArray jfk = test::read_ref(vad_ref("jfk.wav.audio.f32"));
  std::vector<float> audio;
  for (int i = 0; i < 4; ++i) audio.insert(audio.end(), jfk.data.begin(), jfk.data.end());
  const std::vector<float> fast = wisp_probs(audio);
  const std::vector<float> ref = speech_probabilities_reference(model(), audio.data(), audio.size());
  ASSERT_EQ(fast.size(), ref.size());
  ASSERT_GT(fast.size(), 1024u);
  float worst = 0.0f;
  for (size_t i = 0; i < ref.size(); ++i) worst = std::max(worst, std::fabs(fast[i] - ref[i]));
  EXPECT_LE(worst, kOracleTolerance);
}

TEST(VadReference, EdgeLengthsAndSilence) {
  // Lengths around window boundaries, including none at all: as faster-whisper, n / 512 + 1 windows.
  for (size_t n : {size_t{0}, size_t{1}, size_t{511}, size_t{512}, size_t{513}, size_t{1024}, size_t{5000}}) {
    std::vector<float> audio(n);
    for (size_t i = 0; i < n; ++i) audio[i] = 0.3f * std::sin(0.05f * static_cast<float>(i));
    const std::vector<float> fast = wisp_probs(audio);
    const std::vector<float> ref = speech_probabilities_reference(model(), audio.data(), audio.size());
    ASSERT_EQ(fast.size(), n / 512 + 1);
    for (size_t i = 0; i < ref.size(); ++i) {
      EXPECT_NEAR(fast[i], ref[i], kOracleTolerance) << n << " " << i;
      EXPECT_TRUE(fast[i] >= 0.0f && fast[i] <= 1.0f);
    }
  }
  // Digital silence is not speech.
  const std::vector<float> silence(16000 * 10, 0.0f);
  const std::vector<float> p = wisp_probs(silence);
  EXPECT_LT(*std::max_element(p.begin(), p.end()), 0.1f);
  EXPECT_TRUE(speech_spans(p, static_cast<int64_t>(silence.size()), {}).empty());
}

}  // namespace
}  // namespace wisp::vad
