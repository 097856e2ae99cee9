// Golden tests against independent references (made by tests/reference/make_reference.py):
// log-mel against a numpy transcription of openai/whisper audio.py, the encoder against CTranslate2's
// Whisper.encode, greedy token ids against CTranslate2's generate, language detection against
// CTranslate2's detect_language — on every English clip of ../shared/audio.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "audio/mel.h"
#include "decode/decoding_task.h"
#include "decode/language_detection.h"
#include "model/whisper_model.h"
#include "nn/decoder.h"
#include "nn/encoder.h"
#include "unit/ref_file.h"
#include "unit/test_paths.h"

namespace wisp {
namespace {

const std::vector<std::string> kEnglishClips = {
    "jfk.wav",           "librivox-0870.wav", "librivox-0880.wav", "librivox-0890.wav", "fleurs-en-000.ogg",
    "fleurs-en-001.ogg", "fleurs-en-002.ogg", "fleurs-en-003.ogg", "fleurs-en-004.ogg"};

std::string ref_path(const std::string& name) { return test::ref_dir() + "/" + name; }

float max_abs_diff(const float* a, const float* b, size_t n) {
  float m = 0.0f;
  for (size_t i = 0; i < n; ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

ModelOptions compute(backend::ComputeType t) {
  ModelOptions o;
  o.compute_type = t;
  return o;
}

// The goldens are for float32, the reference accuracy.
std::shared_ptr<const WhisperModel> tiny_en() {
  static auto m = WhisperModel::load(test::models_dir() + "/tiny.en", compute(backend::ComputeType::Float32));
  return m;
}

// A context's execution settings: two threads, its own scratch.
struct Exec {
  backend::Workspace ws;
  backend::Exec ex{2, &ws};
};

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("missing " + path);
  return nlohmann::json::parse(in);
}

TEST(MelReference, MatchesNumpyTranscriptionOfOpenaiAudioPy) {
  float worst = 0.0f;
  for (const auto& clip : kEnglishClips) {
    const test::RefArray audio = test::read_ref(ref_path(clip + ".audio.f32"));
    const test::RefArray expected = test::read_ref(ref_path(clip + ".mel.f32"));  // (80, 3000)
    const audio::LogMel mel = audio::log_mel_spectrogram(audio.data.data(), audio.data.size(), 80);
    ASSERT_GE(mel.n_frames, 3000);
    float err = 0.0f;
    for (int m = 0; m < 80; ++m)
      err = std::max(err, max_abs_diff(mel.data.data() + static_cast<size_t>(m) * mel.n_frames,
                                       expected.data.data() + static_cast<size_t>(m) * 3000, 3000));
    EXPECT_LT(err, 2e-3f) << clip;
    worst = std::max(worst, err);
  }
  std::printf("[ mel ] max abs error vs numpy reference over %zu clips: %.3g\n", kEnglishClips.size(), worst);
}

// whisper.cpp's test model files carry the real 80 x 201 filterbank openai ships (mel_filters.npz).
TEST(MelReference, FiltersMatchOpenaiFilterbank) {
  std::ifstream in(test::shared_dir() + "/models/for-tests-ggml-tiny.en.bin", std::ios::binary);
  ASSERT_TRUE(in);
  int32_t header[12], dims[2];
  in.read(reinterpret_cast<char*>(header), sizeof(header));  // magic + 11 hyper-parameters
  in.read(reinterpret_cast<char*>(dims), sizeof(dims));
  ASSERT_EQ(header[0], 0x67676d6c);
  ASSERT_EQ(dims[0], 80);
  ASSERT_EQ(dims[1], 201);
  std::vector<float> expected(80 * 201);
  in.read(reinterpret_cast<char*>(expected.data()), sizeof(float) * expected.size());
  const std::vector<float> ours = audio::mel_filters(80);
  EXPECT_LT(max_abs_diff(ours.data(), expected.data(), expected.size()), 1e-6f);
}

// large-v3 uses 128 bins: every filter must cover some frequency bins, peaks ascending.
TEST(MelReference, Filters128BinsAreWellFormed) {
  const std::vector<float> f = audio::mel_filters(128);
  ASSERT_EQ(f.size(), 128u * 201u);
  int last_peak = -1;
  for (int m = 0; m < 128; ++m) {
    const float* row = f.data() + static_cast<size_t>(m) * 201;
    const int peak = static_cast<int>(std::max_element(row, row + 201) - row);
    EXPECT_GT(row[peak], 0.0f) << m;
    EXPECT_GE(peak, last_peak) << m;
    last_peak = peak;
  }
}

TEST(EncoderReference, MatchesCTranslate2Encode) {
  auto model = tiny_en();
  Exec run;
  nn::Encoder encoder(*model, run.ex);
  std::vector<float> out(1500 * 384);
  float worst = 0.0f;
  for (const auto& clip : kEnglishClips) {
    const test::RefArray mel = test::read_ref(ref_path(clip + ".mel.f32"));
    const test::RefArray expected = test::read_ref(ref_path(clip + ".enc.tiny.en.f32"));  // (1, 1500, 384)
    ASSERT_EQ(expected.data.size(), out.size());
    encoder.encode(mel.data.data(), out.data());
    const float err = max_abs_diff(out.data(), expected.data.data(), out.size());
    EXPECT_LT(err, 5e-3f) << clip;
    worst = std::max(worst, err);
  }
  std::printf("[ encoder ] max abs error vs CTranslate2 (tiny.en, fp32): %.3g\n", worst);
}

TEST(DecoderReference, GreedyTokensMatchCTranslate2Generate) {
  auto model = tiny_en();
  Exec run;
  nn::Encoder encoder(*model, run.ex);
  nn::Decoder decoder(*model, run.ex);
  std::mt19937 rng(0);
  std::vector<float> features(1500 * 384);
  for (const auto& clip : kEnglishClips) {
    const test::RefArray mel = test::read_ref(ref_path(clip + ".mel.f32"));
    encoder.encode(mel.data.data(), features.data());
    decoder.set_audio(features.data(), 1);
    const nlohmann::json expected = read_json(ref_path(clip + ".greedy.tiny.en.json"));
    for (bool timestamps : {true, false}) {
      decode::DecodingOptions o;
      o.language = "en";
      o.beam_size = 1;
      o.without_timestamps = !timestamps;
      const std::vector<decode::DecodingResult> results{decode::decode_window(*model, decoder, o, 0, &rng)};
      const auto& e = expected[timestamps ? "timestamps" : "no_timestamps"];
      EXPECT_EQ(results[0].tokens, e["tokens"].get<std::vector<int>>())
          << clip << " timestamps=" << timestamps;
      EXPECT_NEAR(results[0].no_speech_prob, e["no_speech_prob"].get<float>(), 2e-3f) << clip;
    }
  }
}

TEST(LanguageReference, DetectsLikeCTranslate2) {
  auto model = WhisperModel::load(test::models_dir() + "/base", compute(backend::ComputeType::Float32));
  Exec run;
  nn::Encoder encoder(*model, run.ex);
  nn::Decoder decoder(*model, run.ex);
  std::vector<float> features(1500 * model->dims().n_audio_state);
  for (const std::string clip : {"jfk.wav", "fleurs-de-000.ogg"}) {
    const test::RefArray mel = test::read_ref(ref_path(clip + ".mel.f32"));
    encoder.encode(mel.data.data(), features.data());
    decoder.set_audio(features.data(), 1);
    const auto langs = decode::detect_language(*model, decoder, 0);
    const auto expected = read_json(ref_path(clip + ".lang.base.json"))["mel"]["results"];
    const std::string top = expected[0][0].get<std::string>();  // "<|en|>"
    EXPECT_EQ("<|" + langs[0].code + "|>", top) << clip;
    EXPECT_NEAR(langs[0].probability, expected[0][1].get<float>(), 0.01f) << clip;
  }
}

// bfloat16 and int8 stay close to CTranslate2's fp32 encoder and give the same greedy tokens on most clips
// (the README reports the WER; this guards against a broken kernel path, not a decimal).
TEST(ReducedPrecisionReference, EncoderAndGreedyTokensStayClose) {
  for (backend::ComputeType t : {backend::ComputeType::Bfloat16, backend::ComputeType::Int8}) {
    auto model = WhisperModel::load(test::models_dir() + "/tiny.en", compute(t));
    Exec run;
    nn::Encoder encoder(*model, run.ex);
    nn::Decoder decoder(*model, run.ex);
    std::mt19937 rng(0);
    std::vector<float> out(1500 * 384);
    double err = 0, norm = 0;
    int identical = 0;
    for (const auto& clip : kEnglishClips) {
      const test::RefArray mel = test::read_ref(ref_path(clip + ".mel.f32"));
      const test::RefArray expected = test::read_ref(ref_path(clip + ".enc.tiny.en.f32"));
      encoder.encode(mel.data.data(), out.data());
      for (size_t i = 0; i < out.size(); ++i) {
        err += (out[i] - expected.data[i]) * static_cast<double>(out[i] - expected.data[i]);
        norm += expected.data[i] * static_cast<double>(expected.data[i]);
      }
      decoder.set_audio(out.data(), 1);
      decode::DecodingOptions o;
      o.language = "en";
      o.beam_size = 1;
      const std::vector<decode::DecodingResult> results{decode::decode_window(*model, decoder, o, 0, &rng)};
      const auto e =
          read_json(ref_path(clip + ".greedy.tiny.en.json"))["timestamps"]["tokens"].get<std::vector<int>>();
      identical += results[0].tokens == e;
    }
    const double rel = std::sqrt(err / norm);
    std::printf(
        "[ %s ] encoder relative error vs CTranslate2 fp32: %.3g; greedy tokens identical on %d/%zu clips\n",
        backend::compute_type_name(t), rel, identical, kEnglishClips.size());
    EXPECT_LT(rel, 0.05) << backend::compute_type_name(t);
    EXPECT_GE(identical, static_cast<int>(kEnglishClips.size()) / 2) << backend::compute_type_name(t);
  }
}

}  // namespace
}  // namespace wisp
