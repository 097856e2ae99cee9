// A tokenizer.json must fit the model.bin beside it: every special and language id inside the vocabulary,
// and the 1501 timestamp tokens ending it. Doctored or foreign tokenizers are refused at load with a message
// naming tokenizer.json; the logit filters never write past a row even if they were not.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.h"
#include "decode/logit_filters.h"
#include "model/whisper_model.h"
#include "unit/test_paths.h"

namespace wisp {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

// A model directory with tiny.en's model.bin and config.json (linked) and a tokenizer.json of our making.
class TokenizerFitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("wisp-tokfit-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    const fs::path real = test::models_dir() + "/tiny.en";
    fs::create_symlink(real / "model.bin", dir_ / "model.bin");
    fs::create_symlink(real / "config.json", dir_ / "config.json");
  }
  void TearDown() override { fs::remove_all(dir_); }

  static json read_json(const fs::path& p) {
    std::ifstream in(p);
    return json::parse(in);
  }
  void write_tokenizer(const json& j) { std::ofstream(dir_ / "tokenizer.json") << j.dump(); }

  // Loads, expecting Error(Model) whose message holds every fragment.
  void expect_refused(const std::vector<std::string>& fragments) {
    try {
      WhisperModel::load(dir_.string());
      FAIL() << "a tokenizer that does not fit the model was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Model);
      for (const auto& f : fragments) EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << e.what();
    }
  }
  fs::path dir_;
};

TEST_F(TokenizerFitTest, OwnTokenizerFits) {
  fs::copy_file(test::models_dir() + "/tiny.en/tokenizer.json", dir_ / "tokenizer.json");
  EXPECT_NO_THROW(WhisperModel::load(dir_.string()));
}

// The adversarial case: ids past the vocabulary made fill_neg_inf write out of bounds (heap corruption).
TEST_F(TokenizerFitTest, SpecialIdsPastTheVocabularyAreRefused) {
  json j = read_json(test::models_dir() + "/tiny.en/tokenizer.json");
  for (auto& t : j["added_tokens"]) {
    if (t["content"] == "<|notimestamps|>") t["id"] = 52000;
    if (t["content"] == "<|endoftext|>") t["id"] = 53000;
  }
  write_tokenizer(j);
  expect_refused({"tokenizer.json", "does not fit", "51864"});
}

TEST_F(TokenizerFitTest, LanguageIdPastTheVocabularyIsRefused) {
  json j = read_json(test::models_dir() + "/tiny.en/tokenizer.json");
  for (auto& t : j["added_tokens"])
    if (t["content"] == "<|de|>") t["id"] = 60000;
  write_tokenizer(j);
  expect_refused({"tokenizer.json"});
}

TEST_F(TokenizerFitTest, AnotherModelsTokenizerIsRefused) {
  fs::copy_file(test::models_dir() + "/base/tokenizer.json", dir_ / "tokenizer.json");  // base's, 51865
  expect_refused({"tokenizer.json", "another model", "51865", "51864"});
}

// 256 byte tokens, sot, 36 languages, the task and other special tokens: ids 0..299.
TEST_F(TokenizerFitTest, TinyTokenizerIsRefused) {
  const json real = read_json(test::models_dir() + "/tiny.en/tokenizer.json");
  json j = real;
  json vocab = json::object();
  for (const auto& [text, id] : real["model"]["vocab"].items())
    if (id.get<int>() < 256) vocab[text] = id;
  j["model"]["vocab"] = vocab;
  j["model"]["merges"] = json::array();
  json added = json::array();
  int id = 256;
  auto add = [&](const std::string& text) {
    added.push_back({{"id", id++}, {"content", text}, {"special", true}});
  };
  add("<|endoftext|>");
  add("<|startoftranscript|>");
  const char* langs[] = {"en", "zh", "de", "es", "ru", "ko", "fr", "ja", "pt", "tr", "pl", "ca",
                         "nl", "ar", "sv", "it", "id", "hi", "fi", "vi", "he", "uk", "el", "ms",
                         "cs", "ro", "da", "hu", "ta", "no", "th", "ur", "hr", "bg", "lt", "la"};
  for (const char* l : langs) add(std::string("<|") + l + "|>");
  for (const char* s : {"<|translate|>", "<|transcribe|>", "<|startoflm|>", "<|startofprev|>",
                        "<|nocaptions|>", "<|notimestamps|>"})
    add(s);
  ASSERT_EQ(id, 300);
  j["added_tokens"] = added;
  write_tokenizer(j);
  expect_refused({"tokenizer.json", "300", "51864"});
}

// Defence in depth: timestamp rules whose ids lie past the row stay inside it.
TEST(LogitFilters, TimestampRulesNeverWritePastTheRow) {
  const int n_vocab = 16, guard = 64;
  std::vector<float> logits(n_vocab + guard, 1.0f);
  std::vector<std::vector<int>> tokens = {{1, 2, 30}};  // last sampled token "is" a timestamp past the row
  decode::LogitBatch batch{logits.data(), 1, n_vocab, &tokens, 2};
  auto rules = decode::make_timestamp_rules(/*eot=*/40, /*no_timestamps=*/20, /*timestamp_begin=*/21, 5);
  rules->apply(batch);
  tokens = {{1, 2}};  // first sampled position
  rules->apply(batch);
  for (int i = n_vocab; i < n_vocab + guard; ++i) ASSERT_EQ(logits[i], 1.0f) << "wrote past the row at " << i;
}

}  // namespace
}  // namespace wisp
