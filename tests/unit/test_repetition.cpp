// Repetition loops are recognised (with the slips beam search keeps), ordinary text is not.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "decode/repetition.h"
#include "decode/tokenizer.h"
#include "unit/test_paths.h"

namespace wisp::decode {
namespace {

std::vector<int> scratch;  // the checks' text buffer

const Tokenizer& tok() {
  static const Tokenizer t = Tokenizer::from_model_dir(test::models_dir() + "/tiny.en", false);
  return t;
}

// [sot] + the tokens of `text` (the prompt part is skipped by sample_begin = 1).
std::vector<int> seq_of(const std::string& text) {
  std::vector<int> s{tok().sot()};
  const std::vector<int> ids = tok().encode(text);
  s.insert(s.end(), ids.begin(), ids.end());
  return s;
}

std::string repeat(const std::string& phrase, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += phrase;
  return s;
}

TEST(Repetition, LoopIsRecognised) {
  EXPECT_TRUE(stuck_in_loop(tok(), seq_of(repeat(" I'm going to take a look at how", 8)), 1, 2.4f, scratch));
  EXPECT_TRUE(stuck_in_loop(tok(), seq_of(repeat(" 4", 60)), 1, 2.4f, scratch));
  // A slip in the middle (beam search keeps such near copies) and timestamps between the periods.
  std::vector<int> s = seq_of(repeat(" I don't know how to do it, but", 4) + " I don't know, but" +
                              repeat(" I don't know how to do it, but", 4));
  EXPECT_TRUE(stuck_in_loop(tok(), s, 1, 2.4f, scratch));
  std::vector<int> with_ts{tok().sot()};
  for (int k = 0; k < 8; ++k) {
    with_ts.push_back(tok().timestamp_begin() + 100 * k);
    for (int id : tok().encode(" I'm going to go back to the next one.")) with_ts.push_back(id);
    with_ts.push_back(tok().timestamp_begin() + 100 * k + 50);
  }
  EXPECT_TRUE(stuck_in_loop(tok(), with_ts, 1, 2.4f, scratch));
}

TEST(Repetition, OrdinaryTextIsNot) {
  const std::string jfk =
      " And so, my fellow Americans, ask not what your country can do for you, ask what you can do for your"
      " country. My fellow citizens of the world, ask not what America will do for you, but what together we"
      " can do for the freedom of man.";
  EXPECT_FALSE(stuck_in_loop(tok(), seq_of(jfk), 1, 2.4f, scratch));
  EXPECT_FALSE(stuck_in_loop(tok(), seq_of(repeat(" I'm going", 3)), 1, 2.4f, scratch));  // too short to tell
  // A loop that does not (yet) compress past the threshold is left to run.
  EXPECT_FALSE(
      stuck_in_loop(tok(), seq_of(repeat(" I'm going to take a look at how", 8)), 1, 100.0f, scratch));
}

}  // namespace
}  // namespace wisp::decode
