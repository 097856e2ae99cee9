// Tokenizer against HF `tokenizers` (the oracle faster-whisper uses): ids and decodes for every manifest
// reference text and extra strings, for both the English-only and the multilingual model, plus special
// ids, timestamps, split characters, bad files and concurrent use.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "decode/tokenizer.h"
#include "decode/tokenizer_json.h"

#ifndef WISP_MODELS_DIR
#define WISP_MODELS_DIR "/work/main/models"
#endif
#ifndef WISP_SHARED_DIR
#define WISP_SHARED_DIR "/work/shared"
#endif
#ifndef WISP_REF_DIR
#define WISP_REF_DIR "/tmp/wisp-ref"
#endif
#ifndef WISP_PYTHON  // the interpreter CMake found (the project's .venv, which has HF tokenizers)
#define WISP_PYTHON "python3"
#endif

namespace fs = std::filesystem;
using nlohmann::json;
using wisp::decode::Tokenizer;

namespace {

const std::string kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// The oracle JSON: CTest's make_tokenizer_reference fixture writes it; a run outside CTest makes it here
// with the same interpreter (never a bare python3: the system Python need not have HF tokenizers).
const json& reference() {
  static const json ref = [] {
    const fs::path file = fs::path(WISP_REF_DIR) / "tokenizer.json";
    if (!fs::exists(file)) {
      // __FILE__ is this source (absolute under CMake, relative to the tree with a manual g++ line).
      fs::path script =
          fs::path(__FILE__).parent_path().parent_path() / "reference" / "tokenizer_reference.py";
      if (!fs::exists(script))
        script = fs::path(WISP_MODELS_DIR).parent_path() / "tests/reference/tokenizer_reference.py";
      const std::string cmd = "'" WISP_PYTHON "' '" + script.string() +
                              "' --models '" WISP_MODELS_DIR "' --shared '" WISP_SHARED_DIR "' --out '" +
                              file.string() + "'";
      if (std::system(cmd.c_str()) != 0) ADD_FAILURE() << "reference generation failed: " << cmd;
    }
    std::ifstream in(file);
    if (!in) {
      ADD_FAILURE() << "cannot read " << file;
      return json::object();
    }
    return json::parse(in);
  }();
  return ref;
}

const Tokenizer& tokenizer(const std::string& model) {
  static const Tokenizer tiny = Tokenizer::from_model_dir(WISP_MODELS_DIR "/tiny.en", false);
  static const Tokenizer base = Tokenizer::from_model_dir(WISP_MODELS_DIR "/base", true);
  return model == "base" ? base : tiny;
}

// The id of the token made of exactly one given byte (every byte has one in GPT-2's vocabulary).
int byte_token(const Tokenizer& tok, unsigned char byte) {
  for (int id = 0; id < tok.eot(); ++id) {
    if (tok.token_bytes(id) == std::string(1, static_cast<char>(byte))) return id;
  }
  return -1;
}

// A fresh empty directory, removed at the end of the test.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& tag)
      : path(fs::temp_directory_path() / ("wisp-tok-" + tag + "-" + std::to_string(getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  void write(const std::string& name, const std::string& text) const { std::ofstream(path / name) << text; }
};

void expect_model_error(const std::string& dir, const std::string& why) {
  try {
    Tokenizer::from_model_dir(dir, false);
    ADD_FAILURE() << "no error for " << why;
  } catch (const wisp::Error& e) {
    EXPECT_EQ(e.kind(), wisp::ErrorKind::Model) << why;
    EXPECT_NE(std::string(e.what()).find("tokenizer.json"), std::string::npos) << e.what();
  }
}

class TokenizerReference : public ::testing::TestWithParam<std::string> {};

TEST_P(TokenizerReference, EncodeAndDecodeMatchHf) {
  const auto& ref = reference()["models"][GetParam()];
  ASSERT_TRUE(ref.is_object()) << "no reference data for " << GetParam();
  const Tokenizer& tok = tokenizer(GetParam());
  ASSERT_GE(ref["texts"].size(), 19u * 2);  // the manifest, twice, and the extras
  for (const auto& c : ref["texts"]) {
    const auto text = c["text"].get<std::string>();
    const auto ids = c["ids"].get<std::vector<int>>();
    EXPECT_EQ(tok.encode(text), ids) << "encode: \"" << text << "\"";
    EXPECT_EQ(tok.decode(ids), c["decoded"].get<std::string>()) << "decode of HF ids: \"" << text << "\"";
    EXPECT_EQ(tok.decode(tok.encode(text)), text) << "round trip: \"" << text << "\"";
  }
}

TEST_P(TokenizerReference, AddedTokensInTextAreSplitOutLikeHf) {
  const auto& ref = reference()["models"][GetParam()];
  ASSERT_TRUE(ref.is_object());
  for (const auto& c : ref["special_texts"]) {
    const auto text = c["text"].get<std::string>();
    EXPECT_EQ(tokenizer(GetParam()).encode(text), c["ids"].get<std::vector<int>>())
        << "encode: \"" << text << "\"";
  }
}

TEST_P(TokenizerReference, LossyDecodeOfRandomIdsMatchesHf) {
  const auto& ref = reference()["models"][GetParam()];
  ASSERT_TRUE(ref.is_object());
  int with_replacement = 0;
  for (const auto& c : ref["random_ids"]) {
    const auto expected = c["decoded"].get<std::string>();
    with_replacement += expected.find(kReplacement) != std::string::npos;
    EXPECT_EQ(tokenizer(GetParam()).decode(c["ids"].get<std::vector<int>>()), expected) << c["ids"].dump();
  }
  EXPECT_GT(with_replacement, 50);  // the data does exercise ill-formed UTF-8
}

TEST_P(TokenizerReference, SpecialTokensAndLanguagesMatchHf) {
  const auto& ref = reference()["models"][GetParam()];
  ASSERT_TRUE(ref.is_object());
  const Tokenizer& tok = tokenizer(GetParam());
  const auto special = ref["special"].get<std::map<std::string, int>>();
  EXPECT_EQ(tok.eot(), special.at("<|endoftext|>"));
  EXPECT_EQ(tok.sot(), special.at("<|startoftranscript|>"));
  EXPECT_EQ(tok.translate(), special.at("<|translate|>"));
  EXPECT_EQ(tok.transcribe(), special.at("<|transcribe|>"));
  EXPECT_EQ(tok.sot_lm(), special.at("<|startoflm|>"));
  EXPECT_EQ(tok.sot_prev(), special.at("<|startofprev|>"));
  EXPECT_EQ(tok.no_speech(),
            special.count("<|nospeech|>") ? special.at("<|nospeech|>") : special.at("<|nocaptions|>"));
  EXPECT_EQ(tok.no_timestamps(), special.at("<|notimestamps|>"));
  EXPECT_EQ(tok.vocab_size(), ref["vocab_size"].get<int>());

  std::vector<std::string> codes;
  for (const auto& lang : ref["languages"]) {
    const auto code = lang[0].get<std::string>();
    codes.push_back(code);
    EXPECT_EQ(tok.language_token(code), lang[1].get<int>()) << code;
    EXPECT_EQ(tok.language_code(lang[1].get<int>()), code);
  }
  EXPECT_EQ(tok.language_codes(), codes);
}

// "tiny.en" is not a valid test name; a named function (not a lambda) avoids -Wshadow=local in the macro.
std::string model_test_name(const ::testing::TestParamInfo<std::string>& param) {
  return param.param == "base" ? "base" : "tiny_en";
}
INSTANTIATE_TEST_SUITE_P(Models, TokenizerReference, ::testing::Values("tiny.en", "base"), model_test_name);

TEST(Tokenizer, EnglishOnlySpecialIds) {
  const Tokenizer& tok = tokenizer("tiny.en");
  EXPECT_FALSE(tok.multilingual());
  EXPECT_EQ(tok.eot(), 50256);
  EXPECT_EQ(tok.sot(), 50257);
  EXPECT_EQ(tok.translate(), 50357);
  EXPECT_EQ(tok.transcribe(), 50358);
  EXPECT_EQ(tok.sot_lm(), 50359);
  EXPECT_EQ(tok.sot_prev(), 50360);
  EXPECT_EQ(tok.no_speech(), 50361);  // <|nocaptions|> in this file
  EXPECT_EQ(tok.no_timestamps(), 50362);
  EXPECT_EQ(tok.timestamp_begin(), 50363);
  EXPECT_EQ(tok.sot_sequence("en", false), std::vector<int>{50257});
  EXPECT_EQ(tok.sot_sequence("de", true), std::vector<int>{50257});  // English-only: language/task ignored
}

TEST(Tokenizer, MultilingualSpecialIds) {
  const Tokenizer& tok = tokenizer("base");
  EXPECT_TRUE(tok.multilingual());
  EXPECT_EQ(tok.eot(), 50257);
  EXPECT_EQ(tok.sot(), 50258);
  EXPECT_EQ(tok.translate(), 50358);
  EXPECT_EQ(tok.transcribe(), 50359);
  EXPECT_EQ(tok.no_speech(), 50362);
  EXPECT_EQ(tok.no_timestamps(), 50363);
  EXPECT_EQ(tok.timestamp_begin(), 50364);
  EXPECT_EQ(tok.vocab_size(), 51865);
  EXPECT_EQ(tok.language_token("en"), 50259);
  const int de = tok.language_token("de");
  EXPECT_EQ(de, 50261);
  EXPECT_EQ(tok.language_code(de), "de");
  EXPECT_EQ(tok.language_code(tok.transcribe()), "");
  EXPECT_EQ(tok.language_token("xx"), -1);
  EXPECT_EQ(tok.language_codes().size(), 99u);
  EXPECT_EQ(tok.language_codes().front(), "en");
  EXPECT_EQ(tok.sot_sequence("de", false), (std::vector<int>{50258, de, 50359}));
  EXPECT_EQ(tok.sot_sequence("en", true), (std::vector<int>{50258, 50259, 50358}));
  EXPECT_EQ(tok.sot_sequence("", false), (std::vector<int>{50258, 50359}));
  try {
    tok.sot_sequence("klingon", false);
    ADD_FAILURE() << "unknown language accepted";
  } catch (const wisp::Error& e) {
    EXPECT_EQ(e.kind(), wisp::ErrorKind::InvalidArgument);
  }
}

TEST(Tokenizer, CharacterSplitAcrossTokensDecodesWhole) {
  for (const std::string model : {"tiny.en", "base"}) {
    const Tokenizer& tok = tokenizer(model);
    const int c3 = byte_token(tok, 0xC3), x9f = byte_token(tok, 0x9F);  // "ß" is C3 9F
    ASSERT_GE(c3, 0);
    ASSERT_GE(x9f, 0);
    EXPECT_EQ(tok.decode({c3, x9f}), "ß");
    EXPECT_EQ(tok.decode({c3, tok.eot(), x9f}), "ß");  // skipped specials do not break the character
    EXPECT_EQ(tok.decode({c3}), kReplacement);         // truncated at the end
    EXPECT_EQ(tok.decode({x9f, c3}), kReplacement + kReplacement);
    // "€" (E2 82 AC) as E2 + 82 AC, then cut short.
    const int e2 = byte_token(tok, 0xE2), x82 = byte_token(tok, 0x82), xac = byte_token(tok, 0xAC);
    EXPECT_EQ(tok.decode({e2, x82, xac}), "€");
    EXPECT_EQ(tok.decode({e2, x82}) + "|" + tok.decode({e2, x82, e2}),
              kReplacement + "|" + kReplacement + kReplacement);
    EXPECT_EQ(tok.token_bytes(c3), "\xC3");
    EXPECT_EQ(tok.token_bytes(tok.eot()), "");
    EXPECT_EQ(tok.token_bytes(tok.timestamp_begin()), "");
    EXPECT_EQ(tok.token_bytes(-1), "");
  }
}

TEST(Tokenizer, DecodeSkipsSpecialAndTimestampTokens) {
  const Tokenizer& tok = tokenizer("base");
  std::vector<int> ids = tok.sot_sequence("en", false);
  ids.push_back(tok.no_timestamps());
  ids.push_back(tok.timestamp_begin());
  for (int id : tok.encode(" Hello world.")) ids.push_back(id);
  ids.push_back(tok.timestamp_begin() + 54);
  ids.push_back(tok.eot());
  EXPECT_EQ(tok.decode(ids), " Hello world.");
}

TEST(Tokenizer, DecodeWithTimestamps) {
  const Tokenizer& base = tokenizer("base");
  std::vector<int> ids = base.sot_sequence("en", false);
  ids.push_back(base.timestamp_begin());
  for (int id : base.encode(" Hello")) ids.push_back(id);
  ids.push_back(base.timestamp_begin() + 54);
  ids.push_back(base.eot());
  EXPECT_EQ(base.decode_with_timestamps(ids),
            "<|startoftranscript|><|en|><|transcribe|><|0.00|> Hello<|1.08|><|endoftext|>");

  // tiny.en's file has no timestamp tokens; they are still rendered from their offset.
  const Tokenizer& tiny = tokenizer("tiny.en");
  std::vector<int> t = {tiny.timestamp_begin() + 1};
  for (int id : tiny.encode(" it's")) t.push_back(id);
  t.push_back(tiny.timestamp_begin() + 1500);
  EXPECT_EQ(tiny.decode_with_timestamps(t), "<|0.02|> it's<|30.00|>");
  EXPECT_EQ(tiny.decode_with_timestamps({tiny.timestamp_begin() + 7, tiny.timestamp_begin() + 999}),
            "<|0.14|><|19.98|>");
}

TEST(Tokenizer, InvalidUtf8InputIsReplacedFirst) {
  const Tokenizer& tok = tokenizer("base");
  EXPECT_EQ(tok.encode("caf\xC3 ok\xFF"), tok.encode("caf" + kReplacement + " ok" + kReplacement));
  EXPECT_EQ(tok.encode(""), std::vector<int>{});
}

TEST(Tokenizer, LongInputs) {
  const Tokenizer& tok = tokenizer("tiny.en");
  const std::string letters(20000, 'a'), spaces(20000, ' ');
  EXPECT_EQ(tok.decode(tok.encode(letters)), letters);
  EXPECT_EQ(tok.decode(tok.encode(spaces + "x" + spaces)), spaces + "x" + spaces);
}

TEST(Tokenizer, BadFilesThrowModelError) {
  TempDir dir("bad");
  expect_model_error(dir.path.string(), "missing tokenizer.json");
  expect_model_error((dir.path / "no-such-dir").string(), "missing directory");
  dir.write("tokenizer.json", "{\"model\": {\"vocab\": {");
  expect_model_error(dir.path.string(), "truncated JSON");
  dir.write("tokenizer.json", R"({"model": {"type": "BPE", "vocab": {"a": 0}}, "added_tokens": []})");
  expect_model_error(dir.path.string(), "no merges");
  dir.write("tokenizer.json",
            R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "added_tokens": []})");
  expect_model_error(dir.path.string(), "vocab without byte tokens");
  // A real vocabulary and merges but no special tokens.
  std::ifstream in(WISP_MODELS_DIR "/tiny.en/tokenizer.json");
  json j = json::parse(in);
  j["added_tokens"] = json::array();
  dir.write("tokenizer.json", j.dump());
  expect_model_error(dir.path.string(), "no special tokens");
  j["model"]["merges"].push_back("Ġt zzzz");
  dir.write("tokenizer.json", j.dump());
  expect_model_error(dir.path.string(), "merge with an unknown token");
}

// The streamed reader takes what the BPE needs, in file order, both merge forms, and skips everything else
// (nested objects whose keys look like ours included); a wrong type in one of its parts is a model error.
TEST(TokenizerJson, ReadsVocabMergesAndAddedTokensSkippingTheRest) {
  const auto t = wisp::decode::read_tokenizer_json(R"({
    "version": "1.0", "truncation": null, "normalizer": {"vocab": {"x": 9}},
    "model": {"type": "BPE", "dropout": null, "fuse_unk": false, "vocab": {"a": 0, "b": 1, "ab": 2},
              "merges": ["a b", ["ab", "b"]], "extra": {"id": 7, "merges": ["q r"]}},
    "added_tokens": [{"id": 3, "content": "<|x|>", "single_word": false, "special": true},
                     {"content": "y", "id": 4, "nested": {"id": 99, "content": "z"}}],
    "decoder": {"type": "ByteLevel", "list": [1, [2, {"a": null}]]}})",
                                                   "t.json");
  EXPECT_EQ(t.model_type, "BPE");
  ASSERT_EQ(t.vocab.size(), 3u);
  EXPECT_EQ(t.vocab[2], (std::pair<std::string, int>{"ab", 2}));
  ASSERT_EQ(t.merges.size(), 2u);
  EXPECT_EQ(t.merges[0], (std::pair<std::string, std::string>{"a", "b"}));
  EXPECT_EQ(t.merges[1], (std::pair<std::string, std::string>{"ab", "b"}));
  ASSERT_EQ(t.added_tokens.size(), 2u);
  EXPECT_EQ(t.added_tokens[0].id, 3);
  EXPECT_EQ(t.added_tokens[0].content, "<|x|>");
  EXPECT_TRUE(t.added_tokens[0].special);
  EXPECT_EQ(t.added_tokens[1].id, 4);
  EXPECT_EQ(t.added_tokens[1].content, "y");
  EXPECT_FALSE(t.added_tokens[1].special);

  const char* bad[] = {
      R"([1, 2])",
      R"(5)",
      R"({"model": {"vocab": {"a": 0}, "merges": []}})",
      R"({"model": {"vocab": {"a": "0"}, "merges": []}, "added_tokens": []})",
      R"({"model": {"vocab": {"a": 0.5}, "merges": []}, "added_tokens": []})",
      R"({"model": {"vocab": {"a": -1}, "merges": []}, "added_tokens": []})",
      R"({"model": {"vocab": {"a": 99999999999}, "merges": []}, "added_tokens": []})",
      R"({"model": {"vocab": {"a": {}}, "merges": []}, "added_tokens": []})",
      R"({"model": {"vocab": {}, "merges": ["ab"]}, "added_tokens": []})",
      R"({"model": {"vocab": {}, "merges": [["a", "b", "c"]]}, "added_tokens": []})",
      R"({"model": {"vocab": {}, "merges": [5]}, "added_tokens": []})",
      R"({"model": {"vocab": {}, "merges": []}, "added_tokens": [{"id": 1}]})",
      R"({"model": {"vocab": {}, "merges": []}, "added_tokens": [{"id": "1", "content": "x"}]})",
      R"({"model": {"vocab": {}, "merges": []}, "added_tokens": [{"id": 1, "content": "x", "special": 1}]})",
      R"({"model": {"vocab": {}, "merges": []}, "added_tokens": [5]})",
      R"({"model": {"type": 5, "vocab": {}, "merges": []}, "added_tokens": []})",
      R"({"model": {"vocab": {}, "merges": []}, "added_tokens": []} trailing)",
      R"({"model": {"vocab": {"a": 0)",
  };
  for (const char* text : bad) {
    try {
      wisp::decode::read_tokenizer_json(text, "t.json");
      ADD_FAILURE() << "accepted: " << text;
    } catch (const wisp::Error& e) {
      EXPECT_EQ(e.kind(), wisp::ErrorKind::Model) << text;
      EXPECT_NE(std::string(e.what()).find("t.json"), std::string::npos) << e.what();
    }
  }
}

TEST(Tokenizer, ConcurrentUseGivesTheSameResults) {
  const Tokenizer& shared = tokenizer("base");
  const Tokenizer copy = shared;  // copies share the immutable tables
  std::vector<std::string> texts;
  for (const auto& c : reference()["models"]["base"]["texts"]) texts.push_back(c["text"].get<std::string>());
  ASSERT_FALSE(texts.empty());
  std::vector<std::vector<int>> expected;
  for (const auto& t : texts) expected.push_back(shared.encode(t));

  std::vector<int> mismatches(8, 0);
  std::vector<std::thread> threads;
  for (int k = 0; k < 8; ++k) {
    threads.emplace_back([&, k] {
      const Tokenizer& tok = k % 2 ? copy : shared;
      for (int round = 0; round < 5; ++round) {
        for (size_t i = 0; i < texts.size(); ++i) {
          const auto ids = tok.encode(texts[i]);
          mismatches[static_cast<size_t>(k)] += ids != expected[i] || tok.decode(ids) != texts[i];
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

TEST(Tokenizer, LoadTime) {
  const auto start = std::chrono::steady_clock::now();
  const Tokenizer tok = Tokenizer::from_model_dir(WISP_MODELS_DIR "/base", true);
  const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  RecordProperty("load_ms", std::to_string(ms));
  std::cout << "[ info ] base tokenizer.json loaded in " << ms << " ms\n";
  EXPECT_EQ(tok.eot(), 50257);  // the time bound (< 300 ms at -O2) is checked by hand: sanitizers skew it
}

}  // namespace
