#include "decode/tokenizer_json.h"

#include <cstdint>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace wisp::decode {
namespace {

// Ids above this in a tokenizer file mean a corrupt file, not a big vocabulary; refusing them keeps a bad
// file from making us allocate gigabytes.
constexpr int64_t kMaxId = int64_t{1} << 22;

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw Error(ErrorKind::Model, "tokenizer file " + path + ": " + what);
}

// The events of nlohmann's SAX parser, kept where they name one of the parts we read. Each open container
// is a frame saying what it is; anything inside an `Ignored` frame is skipped.
class Reader final : public nlohmann::json_sax<nlohmann::json> {
 public:
  Reader(TokenizerJson& out, const std::string& path) : out_(out), path_(path) {}

  bool null() override { return scalar("null"); }
  bool boolean(bool v) override {
    if (top() == Frame::AddedToken && key_ == "special") {
      added_.special = v;
      return true;
    }
    return scalar("a boolean");
  }
  bool number_integer(number_integer_t v) override { return integer(v); }
  bool number_unsigned(number_unsigned_t v) override {
    return integer(v > static_cast<number_unsigned_t>(kMaxId) ? kMaxId : static_cast<int64_t>(v));
  }
  bool number_float(number_float_t, const string_t&) override { return scalar("a fraction"); }
  bool binary(binary_t&) override { return scalar("binary data"); }
  bool string(string_t& v) override {
    switch (top()) {
      case Frame::Model:
        if (key_ == "type") out_.model_type = v;
        return true;
      case Frame::Merges: {  // "a b": tokens never contain a space (it is Ġ)
        const size_t space = v.find(' ');
        if (space == std::string::npos || v.find(' ', space + 1) != std::string::npos)
          fail(path_, "bad merge: " + v);
        out_.merges.emplace_back(v.substr(0, space), v.substr(space + 1));
        return true;
      }
      case Frame::MergePair:
        pair_.push_back(std::move(v));
        return true;
      case Frame::AddedToken:
        if (key_ == "content") {
          added_.content = std::move(v);
          has_content_ = true;
        }
        return true;
      default:
        return scalar("a string");
    }
  }

  bool key(string_t& k) override {
    if (top() == Frame::Vocab)
      vocab_key_ = std::move(k);
    else
      key_ = std::move(k);
    return true;
  }

  bool start_object(std::size_t) override {
    Frame f = Frame::Ignored;
    if (stack_.empty())
      f = Frame::Root;
    else if (top() == Frame::Root && key_ == "model")
      f = Frame::Model;
    else if (top() == Frame::Model && key_ == "vocab")
      f = Frame::Vocab;
    else if (top() == Frame::Added)
      f = Frame::AddedToken;
    else if (top() == Frame::Vocab || top() == Frame::Merges || top() == Frame::MergePair)
      fail(path_, std::string("an object where ") + what(top()) + " holds " + expected(top()));
    if (f == Frame::Model) seen_model_ = true;
    if (f == Frame::Vocab) seen_vocab_ = true;
    if (f == Frame::AddedToken) {
      added_ = {};
      has_id_ = has_content_ = false;
    }
    stack_.push_back(f);
    return true;
  }
  bool end_object() override {
    if (top() == Frame::AddedToken) {
      if (!has_id_ || !has_content_) fail(path_, "an added token lacks its id or content");
      out_.added_tokens.push_back(std::move(added_));
    }
    stack_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override {
    Frame f = Frame::Ignored;
    if (stack_.empty())
      fail(path_, "the file is not a JSON object");
    else if (top() == Frame::Root && key_ == "added_tokens")
      f = Frame::Added;
    else if (top() == Frame::Model && key_ == "merges")
      f = Frame::Merges;
    else if (top() == Frame::Merges)
      f = Frame::MergePair;
    else if (top() == Frame::Vocab || top() == Frame::MergePair || top() == Frame::Added)
      fail(path_, std::string("an array where ") + what(top()) + " holds " + expected(top()));
    if (f == Frame::Added) seen_added_ = true;
    if (f == Frame::Merges) seen_merges_ = true;
    if (f == Frame::MergePair) pair_.clear();
    stack_.push_back(f);
    return true;
  }
  bool end_array() override {
    if (top() == Frame::MergePair) {
      if (pair_.size() != 2) fail(path_, "a merge is not a pair of tokens");
      out_.merges.emplace_back(std::move(pair_[0]), std::move(pair_[1]));
    }
    stack_.pop_back();
    return true;
  }

  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    fail(path_, std::string("malformed JSON: ") + e.what());
  }

  void check_complete() const {
    if (!seen_model_) fail(path_, "no model");
    if (!seen_vocab_) fail(path_, "no model.vocab");
    if (!seen_merges_) fail(path_, "no model.merges");
    if (!seen_added_) fail(path_, "no added_tokens");
  }

 private:
  enum class Frame { Root, Model, Vocab, Merges, MergePair, Added, AddedToken, Ignored };
  Frame top() const { return stack_.empty() ? Frame::Ignored : stack_.back(); }

  static const char* what(Frame f) {
    switch (f) {
      case Frame::Vocab:
        return "model.vocab";
      case Frame::Merges:
      case Frame::MergePair:
        return "model.merges";
      case Frame::Added:
        return "added_tokens";
      default:
        return "the file";
    }
  }
  static const char* expected(Frame f) {
    switch (f) {
      case Frame::Vocab:
        return "token ids";
      case Frame::Merges:
      case Frame::MergePair:
        return "token pairs";
      case Frame::Added:
        return "token objects";
      default:
        return "values";
    }
  }

  bool integer(int64_t v) {
    if (top() == Frame::Vocab) {
      if (v < 0 || v >= kMaxId) fail(path_, "vocab id out of range: " + std::to_string(v));
      out_.vocab.emplace_back(std::move(vocab_key_), static_cast<int>(v));
      return true;
    }
    if (top() == Frame::AddedToken && key_ == "id") {
      if (v < 0 || v >= kMaxId) fail(path_, "added token id out of range: " + std::to_string(v));
      added_.id = static_cast<int>(v);
      has_id_ = true;
      return true;
    }
    return scalar("a number");
  }
  // A value of a type that the part it is in does not hold: an error there, else ignored.
  bool scalar(const char* type) {
    const Frame f = top();
    if (f == Frame::Vocab || f == Frame::Merges || f == Frame::MergePair || f == Frame::Added)
      fail(path_, std::string(type) + " where " + what(f) + " holds " + expected(f));
    if (f == Frame::AddedToken && (key_ == "id" || key_ == "content" || key_ == "special"))
      fail(path_, std::string(type) + " as an added token's " + key_);
    if (f == Frame::Model && key_ == "type") fail(path_, std::string(type) + " as model.type");
    return true;
  }

  TokenizerJson& out_;
  const std::string& path_;
  std::vector<Frame> stack_;
  std::string key_;        // the last key of an object other than the vocab
  std::string vocab_key_;  // the vocab's last key: its token
  std::vector<std::string> pair_;
  TokenizerJson::Added added_;
  bool has_id_ = false, has_content_ = false;
  bool seen_model_ = false, seen_vocab_ = false, seen_merges_ = false, seen_added_ = false;
};

}  // namespace

TokenizerJson read_tokenizer_json(const std::string& text, const std::string& path) {
  TokenizerJson out;
  Reader reader(out, path);
  if (!nlohmann::json::sax_parse(text, &reader)) fail(path, "malformed JSON");
  reader.check_complete();
  return out;
}

}  // namespace wisp::decode
