// The CTranslate2 loader on good, truncated, corrupt, wrong-version and wrong-shape files: every bad
// file gets a wisp::Error naming the file and, where it applies, the variable — never a crash.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "core/error.h"
#include "model/whisper_model.h"
#include "unit/test_paths.h"

namespace wisp {
namespace {
namespace fs = std::filesystem;

struct Var {
  std::string name;
  std::vector<uint32_t> shape;
  uint8_t dtype;        // 0 f32, 1 i8, 4 f16
  bool poison = false;  // the first value is NaN (f32, f16)
};

// Writes a CTranslate2 model.bin (binary version 6) whose variables hold small deterministic values.
void write_model_bin(const std::string& path, const std::vector<Var>& vars,
                     const std::vector<std::pair<std::string, std::string>>& aliases, uint32_t version = 6,
                     const std::string& spec = "WhisperSpec") {
  std::ofstream o(path, std::ios::binary);
  auto u32 = [&](uint32_t v) { o.write(reinterpret_cast<const char*>(&v), 4); };
  auto str = [&](const std::string& s) {
    uint16_t n = static_cast<uint16_t>(s.size() + 1);
    o.write(reinterpret_cast<const char*>(&n), 2);
    o.write(s.c_str(), n);
  };
  u32(version);
  str(spec);
  u32(1);
  u32(static_cast<uint32_t>(vars.size()));
  for (const Var& v : vars) {
    str(v.name);
    const uint8_t rank = static_cast<uint8_t>(v.shape.size());
    o.put(static_cast<char>(rank));
    size_t n = 1;
    for (uint32_t d : v.shape) {
      u32(d);
      n *= d;
    }
    o.put(static_cast<char>(v.dtype));
    const size_t width = v.dtype == 0 ? 4 : v.dtype == 1 ? 1 : 2;
    u32(static_cast<uint32_t>(n * width));
    for (size_t i = 0; i < n; ++i) {
      const bool nan = v.poison && i == 0;
      if (v.dtype == 0) {
        float f = nan ? std::nanf("") : 0.01f * static_cast<float>(1 + i % 7);  // never 0: int8 scales divide
        o.write(reinterpret_cast<const char*>(&f), 4);
      } else if (v.dtype == 1) {
        o.put(static_cast<char>(i % 5));
      } else {
        uint16_t h = nan ? 0x7e00 : 0x2000;  // a quiet NaN, or a small positive half
        o.write(reinterpret_cast<const char*>(&h), 2);
      }
    }
  }
  u32(static_cast<uint32_t>(aliases.size()));
  for (const auto& [a, t] : aliases) {
    str(a);
    str(t);
  }
}

// The variables of a Whisper model with width D, one layer each side, the real vocabulary size.
std::vector<Var> tiny_whisper_vars(uint32_t D, uint32_t vocab, uint8_t weight_dtype) {
  std::vector<Var> v;
  auto lin = [&](const std::string& s, uint32_t out, uint32_t in) {
    v.push_back({s + "/weight", {out, in}, weight_dtype});
    if (weight_dtype == 1) v.push_back({s + "/weight_scale", {out}, 0});
    v.push_back({s + "/bias", {out}, 0});
  };
  auto ln = [&](const std::string& s) {
    v.push_back({s + "/gamma", {D}, 0});
    v.push_back({s + "/beta", {D}, 0});
  };
  v.push_back({"encoder/conv1/weight", {D, 80, 3}, 4});
  v.push_back({"encoder/conv1/bias", {D}, 0});
  v.push_back({"encoder/conv2/weight", {D, D, 3}, 4});
  v.push_back({"encoder/conv2/bias", {D}, 0});
  v.push_back({"encoder/position_encodings/encodings", {1500, D}, 0});
  ln("encoder/layer_0/self_attention/layer_norm");
  lin("encoder/layer_0/self_attention/linear_0", 3 * D, D);
  lin("encoder/layer_0/self_attention/linear_1", D, D);
  ln("encoder/layer_0/ffn/layer_norm");
  lin("encoder/layer_0/ffn/linear_0", 4 * D, D);
  lin("encoder/layer_0/ffn/linear_1", D, 4 * D);
  ln("encoder/layer_norm");
  v.push_back({"decoder/embeddings/weight", {vocab, D}, 4});
  v.push_back({"decoder/position_encodings/encodings", {448, D}, 0});
  ln("decoder/layer_0/self_attention/layer_norm");
  lin("decoder/layer_0/self_attention/linear_0", 3 * D, D);
  lin("decoder/layer_0/self_attention/linear_1", D, D);
  ln("decoder/layer_0/attention/layer_norm");
  lin("decoder/layer_0/attention/linear_0", D, D);
  lin("decoder/layer_0/attention/linear_1", 2 * D, D);
  lin("decoder/layer_0/attention/linear_2", D, D);
  ln("decoder/layer_0/ffn/layer_norm");
  lin("decoder/layer_0/ffn/linear_0", 4 * D, D);
  lin("decoder/layer_0/ffn/linear_1", D, 4 * D);
  ln("decoder/layer_norm");
  return v;
}

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class ModelLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("wisp-loader-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    const std::string real = test::models_dir() + "/tiny.en";
    fs::copy_file(real + "/tokenizer.json", dir_ / "tokenizer.json");
    fs::copy_file(real + "/config.json", dir_ / "config.json");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Loads the model in dir_, expecting an Error whose message contains every fragment.
  void expect_error(const std::vector<std::string>& fragments) {
    try {
      WhisperModel::load(dir_.string());
      FAIL() << "loaded a bad model";
    } catch (const Error& e) {
      for (const auto& f : fragments) EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << e.what();
    }
  }
  std::string bin() const { return (dir_ / "model.bin").string(); }
  fs::path dir_;
};

TEST_F(ModelLoaderTest, LoadsSmallSyntheticModelInEveryDtype) {
  for (uint8_t dt : {0, 1, 4}) {
    write_model_bin(bin(), tiny_whisper_vars(64, 51864, dt),
                    {{"decoder/projection/weight", "decoder/embeddings/weight"}});
    auto m = WhisperModel::load(dir_.string());
    EXPECT_EQ(m->dims().n_audio_state, 64);
    EXPECT_EQ(m->dims().n_audio_layer, 1);
    EXPECT_EQ(m->dims().n_vocab, 51864);
    EXPECT_FALSE(m->multilingual());
    EXPECT_EQ(m->decoder().proj.out, 51864);  // tied: packed from the embeddings
    EXPECT_EQ(m->decoder().embed.rows, 51864);
    EXPECT_EQ(m->metadata().suppress_ids_begin, (std::vector<int>{220, 50256}));
  }
}

TEST_F(ModelLoaderTest, RealModelLoads) {
  auto m = WhisperModel::load(test::models_dir() + "/tiny.en");
  EXPECT_EQ(m->dims().n_audio_layer, 4);
  EXPECT_EQ(m->dims().n_text_head, 6);
  EXPECT_EQ(m->metadata().alignment_heads.size(), 8u);
}

TEST_F(ModelLoaderTest, MissingDirectoryOrFiles) {
  EXPECT_THROW(WhisperModel::load((dir_ / "nope").string()), Error);
  expect_error({"not a model"});  // no model.bin
  write_model_bin(bin(), tiny_whisper_vars(64, 51864, 4), {});
  fs::remove(dir_ / "tokenizer.json");
  expect_error({"tokenizer.json"});
}

TEST_F(ModelLoaderTest, TruncatedFileNamesFileAndPosition) {
  write_model_bin(bin(), tiny_whisper_vars(64, 51864, 4), {});
  const auto full = fs::file_size(bin());
  for (uintmax_t cut : {uintmax_t{0}, uintmax_t{3}, uintmax_t{10}, uintmax_t{100}, full / 2, full - 1}) {
    write_model_bin(bin(), tiny_whisper_vars(64, 51864, 4), {});
    fs::resize_file(bin(), cut);
    expect_error({"model.bin"});
  }
}

TEST_F(ModelLoaderTest, WrongVersionAndSpec) {
  write_model_bin(bin(), tiny_whisper_vars(64, 51864, 4), {}, 99);
  expect_error({"model.bin", "version 99"});
  write_model_bin(bin(), tiny_whisper_vars(64, 51864, 4), {}, 6, "TransformerSpec");
  expect_error({"TransformerSpec"});
}

TEST_F(ModelLoaderTest, WrongShapeNamesTheVariable) {
  auto vars = tiny_whisper_vars(64, 51864, 4);
  for (auto& v : vars)
    if (v.name == "decoder/layer_0/attention/linear_1/weight") v.shape = {100, 64};
  write_model_bin(bin(), vars, {});
  expect_error({"decoder/layer_0/attention/linear_1/weight", "wrong shape", "[128, 64]", "[100, 64]"});
}

TEST_F(ModelLoaderTest, MissingVariableAndDanglingAlias) {
  auto vars = tiny_whisper_vars(64, 51864, 4);
  vars.erase(std::remove_if(vars.begin(), vars.end(),
                            [](const Var& v) { return v.name == "encoder/layer_norm/beta"; }),
             vars.end());
  write_model_bin(bin(), vars, {});
  expect_error({"encoder/layer_norm/beta", "missing"});
  write_model_bin(bin(), tiny_whisper_vars(64, 51864, 4), {{"decoder/projection/weight", "nothing/here"}});
  expect_error({"nothing/here"});
}

TEST_F(ModelLoaderTest, CorruptConfigJson) {
  write_model_bin(bin(), tiny_whisper_vars(64, 51864, 4), {});
  std::ofstream(dir_ / "config.json") << "{ not json";
  expect_error({"config.json"});
}

TEST_F(ModelLoaderTest, LanguageIdOutsideVocabulary) {
  write_model_bin(bin(), tiny_whisper_vars(64, 51864, 4), {});
  std::ofstream(dir_ / "config.json") << R"({"lang_ids": [50259, 999999]})";
  expect_error({"config.json", "999999"});
}

// lang_ids inside the vocabulary but not language tokens: language detection failed on them at run time,
// reported against the audio; now the model is refused at load.
TEST_F(ModelLoaderTest, LanguageIdThatIsNotALanguageToken) {
  write_model_bin(bin(), tiny_whisper_vars(64, 51864, 4), {});
  std::ofstream(dir_ / "config.json") << R"({"lang_ids": [50259, 220]})";
  expect_error({"config.json", "220", "not a language token"});
}

// A variable whose dimensions multiply past 2^63: the element count overflowed a signed multiply (UB) and
// wrapped to a size vector::resize refused ("internal error: vector::_M_default_append"). The same bytes
// seed the model_bin fuzzer (tests/fuzz/corpus/model_bin/overflowing-dims).
TEST_F(ModelLoaderTest, DimensionsMultiplyingPast2To63AreRefused) {
  const std::vector<uint8_t> bytes =
      read_file(std::string(WISP_SOURCE_DIR) + "/tests/fuzz/corpus/model_bin/overflowing-dims");
  ASSERT_EQ(bytes.size(), 52u);
  std::ofstream(bin(), std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), 52);
  expect_error({"model.bin", "variable 'x'", "implausibly large"});
}

TEST_F(ModelLoaderTest, NonFiniteWeightIsRefusedNamingTheVariable) {
  for (uint8_t dt : {0, 4}) {
    auto vars = tiny_whisper_vars(64, 51864, dt);
    for (auto& v : vars)
      if (v.name == "encoder/layer_0/ffn/linear_0/weight") v.poison = true;
    write_model_bin(bin(), vars, {});
    expect_error({"model.bin", "encoder/layer_0/ffn/linear_0/weight", "non-finite"});
  }
}

TEST_F(ModelLoaderTest, ImplausibleHeadCountsAndDimensions) {
  auto vars = tiny_whisper_vars(64, 51864, 4);
  vars.push_back({"encoder/num_heads", {}, 0, /*poison=*/true});  // NaN heads: was a NaN -> int conversion
  write_model_bin(bin(), vars, {});
  expect_error({"encoder/num_heads"});
  vars = tiny_whisper_vars(64, 51864, 4);
  for (auto& v : vars)  // a zero-sized variable holds no data, so its other dimension can claim anything
    if (v.name == "decoder/position_encodings/encodings") v.shape = {0, 4000000000u};
  write_model_bin(bin(), vars, {});
  expect_error({"decoder/position_encodings/encodings"});
}

// Random byte flips in the header region: load or throw wisp::Error, never crash or hang.
TEST_F(ModelLoaderTest, FuzzedHeadersNeverCrash) {
  write_model_bin(bin(), tiny_whisper_vars(32, 51864, 4), {});
  std::vector<char> good;
  {
    std::ifstream in(bin(), std::ios::binary);
    good.assign(std::istreambuf_iterator<char>(in), {});
  }
  std::mt19937 rng(7);
  for (int iter = 0; iter < 60; ++iter) {
    std::vector<char> bad = good;
    for (int k = 0; k < 1 + iter % 4; ++k)
      bad[rng() % std::min<size_t>(bad.size(), 600)] = static_cast<char>(rng());
    std::ofstream(bin(), std::ios::binary).write(bad.data(), static_cast<std::streamsize>(bad.size()));
    try {
      WhisperModel::load(dir_.string());
    } catch (const Error&) {
    }
  }
}

}  // namespace
}  // namespace wisp
