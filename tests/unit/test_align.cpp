// Word timestamps, piece by piece (src/align): DTW on hand-checked matrices and against a plain
// minimum-cost recursion, the median filter, the attention matrix, words split from tokens, punctuation
// merged, word times from a DTW path, openai's duration heuristics, and the decoder's aligned pass.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "align/alignment.h"
#include "align/attention_matrix.h"
#include "align/dtw.h"
#include "align/median_filter.h"
#include "align/punctuation.h"
#include "align/word_split.h"
#include "align/word_timestamps.h"
#include "core/error.h"
#include "model/whisper_model.h"
#include "nn/decoder.h"
#include "test_paths.h"

namespace wisp {
namespace {

using align::DtwPath;
using align::WordTiming;

// ---- DTW ----

TEST(Dtw, HandCheckedPath) {
  // Row 0 is cheap in column 0, row 1 in columns 1 and 2: (0,0) → (1,1) → (1,2), cost 3.
  const float x[] = {1, 5, 5, 5, 1, 1};
  const DtwPath p = align::dtw(x, 2, 3);
  EXPECT_EQ(p.rows, (std::vector<int>{0, 1, 1}));
  EXPECT_EQ(p.cols, (std::vector<int>{0, 1, 2}));
}

TEST(Dtw, TiesBreakAsOpenai) {
  // All moves cost the same: openai takes the diagonal only when strictly cheapest, then up, else left.
  const float x[] = {0, 0, 0, 0};
  const DtwPath p = align::dtw(x, 2, 2);
  EXPECT_EQ(p.rows, (std::vector<int>{0, 1, 1}));
  EXPECT_EQ(p.cols, (std::vector<int>{0, 0, 1}));
}

TEST(Dtw, OneRowAndOneColumn) {
  const float row[] = {3, 1, 2};
  DtwPath p = align::dtw(row, 1, 3);
  EXPECT_EQ(p.rows, (std::vector<int>{0, 0, 0}));
  EXPECT_EQ(p.cols, (std::vector<int>{0, 1, 2}));
  p = align::dtw(row, 3, 1);
  EXPECT_EQ(p.rows, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(p.cols, (std::vector<int>{0, 0, 0}));
}

// The cheapest monotonic path's cost by the plain recursion, to check DTW's path is a cheapest one.
double min_path_cost(const std::vector<float>& x, int n, int m) {
  std::vector<double> c(static_cast<size_t>(n) * m, std::numeric_limits<double>::infinity());
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < m; ++j) {
      double best = i == 0 && j == 0 ? 0.0 : std::numeric_limits<double>::infinity();
      if (i > 0) best = std::min(best, c[(i - 1) * m + j]);
      if (j > 0) best = std::min(best, c[i * m + j - 1]);
      if (i > 0 && j > 0) best = std::min(best, c[(i - 1) * m + j - 1]);
      c[i * m + j] = best + x[i * m + j];
    }
  return c.back();
}

TEST(Dtw, PathIsMonotonicCompleteAndCheapest) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (int trial = 0; trial < 50; ++trial) {
    const int n = 1 + trial % 9, m = 1 + (trial * 7) % 23;
    std::vector<float> x(static_cast<size_t>(n) * m);
    for (float& v : x) v = u(rng);
    const DtwPath p = align::dtw(x.data(), n, m);
    ASSERT_FALSE(p.rows.empty());
    EXPECT_EQ(p.rows.front(), 0);
    EXPECT_EQ(p.cols.front(), 0);
    EXPECT_EQ(p.rows.back(), n - 1);
    EXPECT_EQ(p.cols.back(), m - 1);
    double cost = x[0];
    for (size_t k = 1; k < p.rows.size(); ++k) {
      const int di = p.rows[k] - p.rows[k - 1], dj = p.cols[k] - p.cols[k - 1];
      ASSERT_TRUE((di == 0 || di == 1) && (dj == 0 || dj == 1) && di + dj > 0) << "step " << k;
      cost += x[static_cast<size_t>(p.rows[k]) * m + p.cols[k]];
    }
    EXPECT_NEAR(cost, min_path_cost(x, n, m), 1e-4) << n << "x" << m;
  }
}

TEST(Dtw, NonFiniteCostsStillVisitEveryRow) {
  std::vector<float> x(4 * 3, std::numeric_limits<float>::quiet_NaN());
  const DtwPath p = align::dtw(x.data(), 4, 3);
  std::vector<int> seen(4, 0);
  for (int r : p.rows) seen.at(r) = 1;
  EXPECT_EQ(seen, (std::vector<int>{1, 1, 1, 1}));
}

// ---- median filter ----

TEST(MedianFilter, ReflectsAtBothEnds) {
  // Width 3 over 1 9 2 8 3, reflected: (9 1 9) (1 9 2) (9 2 8) (2 8 3) (8 3 8).
  std::vector<float> x = {1, 9, 2, 8, 3};
  align::median_filter_rows(x.data(), 1, 5, 3);
  EXPECT_EQ(x, (std::vector<float>{9, 2, 8, 3, 8}));
}

TEST(MedianFilter, Width7RowsIndependentlyAndShortRowsUntouched) {
  std::vector<float> x = {0, 0, 0, 10, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8};
  align::median_filter_rows(x.data(), 2, 8, 7);
  EXPECT_EQ(std::vector<float>(x.begin(), x.begin() + 8), std::vector<float>(8, 0.0f));  // a spike removed
  // 1..8 reflected: 4 3 2 | 1 2 3 4 5 6 7 8 | 7 6 5 → medians 3 3 3 4 5 6 6 6
  EXPECT_EQ(std::vector<float>(x.begin() + 8, x.end()), (std::vector<float>{3, 3, 3, 4, 5, 6, 6, 6}));
  std::vector<float> short_row = {5, 1, 4};
  align::median_filter_rows(short_row.data(), 1, 3, 7);
  EXPECT_EQ(short_row, (std::vector<float>{5, 1, 4}));
}

// ---- attention matrix ----

TEST(AttentionMatrix, StaircaseAttentionGivesStaircasePath) {
  // 4 tokens over 8 content frames (of 10 positions): token i attends frames 2i, 2i + 1, plus some weight
  // on the 2 padding positions that the renormalisation must discount.
  const int n_tokens = 4, stride = 10, frames = 8;
  std::vector<float> probs(static_cast<size_t>(2) * n_tokens * stride, 0.01f);
  for (int h = 0; h < 2; ++h)
    for (int i = 0; i < n_tokens; ++i) {
      float* row = probs.data() + (static_cast<size_t>(h) * n_tokens + i) * stride;
      row[2 * i] = row[2 * i + 1] = 0.3f;
      row[8] = row[9] = 0.2f - 0.03f;
    }
  const std::vector<float> m = align::attention_matrix(probs.data(), 2, n_tokens, stride, frames, 1);
  ASSERT_EQ(m.size(), static_cast<size_t>(n_tokens * frames));
  // Each column standardised over the tokens: mean 0, and the attended token stands out.
  for (int j = 0; j < frames; ++j) {
    double mean = 0;
    for (int i = 0; i < n_tokens; ++i) mean += m[i * frames + j];
    EXPECT_NEAR(mean / n_tokens, 0.0, 1e-5);
    EXPECT_GT(m[(j / 2) * frames + j], 1.0f);
  }
  std::vector<float> cost(m);
  for (float& c : cost) c = -c;
  const DtwPath p = align::dtw(cost.data(), n_tokens, frames);
  for (size_t k = 0; k < p.rows.size(); ++k) EXPECT_EQ(p.rows[k], p.cols[k] / 2);
}

TEST(AttentionMatrix, ConstantColumnsStayFinite) {
  const std::vector<float> probs(3 * 5, 0.2f);  // one head, every token attends everything alike
  const std::vector<float> m = align::attention_matrix(probs.data(), 1, 3, 5, 5, 7);
  for (float v : m) EXPECT_EQ(v, 0.0f);
}

// ---- words from tokens ----

const decode::Tokenizer& english() {
  static const decode::Tokenizer t =
      decode::Tokenizer::from_model_dir(test::models_dir() + "/tiny.en", false);
  return t;
}
const decode::Tokenizer& multilingual() {
  static const decode::Tokenizer t = decode::Tokenizer::from_model_dir(test::models_dir() + "/base", true);
  return t;
}

std::vector<std::string> texts(const std::vector<align::WordTokens>& words) {
  std::vector<std::string> out;
  for (const auto& w : words) out.push_back(w.word);
  return out;
}

TEST(WordSplit, SpacesAndPunctuation) {
  const decode::Tokenizer& tok = english();
  std::vector<int> ids = tok.encode(" And so, my fellow Americans: ask not.");
  ids.push_back(tok.eot());
  const auto words = align::split_to_word_tokens(tok, ids, "en");
  EXPECT_EQ(texts(words), (std::vector<std::string>{" And", " so", ",", " my", " fellow", " Americans", ":",
                                                    " ask", " not", ".", "<|endoftext|>"}));
  size_t n = 0;
  for (const auto& w : words) n += w.tokens.size();
  EXPECT_EQ(n, ids.size());  // every token in exactly one word, in order
  EXPECT_EQ(words.back().tokens, std::vector<int>{tok.eot()});
}

TEST(WordSplit, SubwordTokensJoinTheirWord) {
  const decode::Tokenizer& tok = english();
  const std::vector<int> ids = tok.encode(" Kowloon's gegenüberliegenden");
  ASSERT_GT(ids.size(), 3u);  // several tokens per word
  const auto words = align::split_to_word_tokens(tok, ids, "en");
  EXPECT_EQ(texts(words), (std::vector<std::string>{" Kowloon's", " gegenüberliegenden"}));
}

TEST(WordSplit, LanguagesWithoutSpacesSplitPerCharacter) {
  const decode::Tokenizer& tok = multilingual();
  const std::string text = "我们今天去公园。";
  const std::vector<int> ids = tok.encode(text);
  const auto words = align::split_to_word_tokens(tok, ids, "zh");
  std::string joined;
  for (const auto& w : words) {
    EXPECT_EQ(w.word.find("\xEF\xBF\xBD"), std::string::npos) << "a piece ends inside a character";
    joined += w.word;
  }
  EXPECT_EQ(joined, text);
  EXPECT_GE(words.size(), 5u);
  // The same tokens split on spaces stay one word (no spaces, no ASCII punctuation).
  EXPECT_EQ(align::split_to_word_tokens(tok, ids, "de").size(), 1u);
}

// ---- punctuation ----

WordTiming timing(const std::string& word, std::vector<int> tokens, double start = 0, double end = 0) {
  WordTiming t;
  t.word = word;
  t.tokens = std::move(tokens);
  t.start = start;
  t.end = end;
  return t;
}

TEST(Punctuation, MergedIntoNeighbours) {
  std::vector<WordTiming> w = {timing(" (", {1}, 0, 1), timing("a", {2}, 1, 2), timing(")", {3}, 2, 3),
                               timing(" b", {4}, 3, 4), timing(".", {5}, 4, 5)};
  align::merge_punctuations(w, align::kPrependPunctuations, align::kAppendPunctuations);
  EXPECT_EQ(texts({{w[0].word, {}}, {w[1].word, {}}, {w[2].word, {}}, {w[3].word, {}}, {w[4].word, {}}}),
            (std::vector<std::string>{"", " (a)", "", " b.", ""}));
  EXPECT_EQ(w[1].tokens, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(w[3].tokens, (std::vector<int>{4, 5}));
  EXPECT_TRUE(w[0].tokens.empty() && w[2].tokens.empty() && w[4].tokens.empty());
  EXPECT_EQ(w[1].start, 1);  // the word keeps its own times
  EXPECT_EQ(w[1].end, 2);
}

TEST(Punctuation, NotAfterASpaceNorBeforeNothing) {
  std::vector<WordTiming> w = {timing(" a ", {1}), timing(",", {2}), timing(" ¿", {3})};
  align::merge_punctuations(w, align::kPrependPunctuations, align::kAppendPunctuations);
  EXPECT_EQ(w[0].word, " a ");  // ends with a space: the comma stays
  EXPECT_EQ(w[1].word, ",");
  EXPECT_EQ(w[2].word, " ¿");  // nothing after it to join
}

// ---- word times from a path ----

TEST(WordTimings, FromJumpsOfThePath) {
  // Rows: <|notimestamps|>, t0, t1, t2 (words: [t0 t1], [t2], then <|endoftext|>).
  DtwPath p;
  p.rows = {0, 0, 1, 1, 1, 2, 3, 3};
  p.cols = {0, 1, 2, 3, 4, 5, 6, 7};
  const std::vector<align::WordTokens> words = {
      {" hello", {10, 11}}, {" you", {12}}, {"<|endoftext|>", {99}}};
  const auto t = align::word_timings(words, p, {0.5f, 1.0f, 0.25f});
  ASSERT_EQ(t.size(), 2u);
  EXPECT_DOUBLE_EQ(t[0].start, 0.0);     // row 0 entered at frame 0
  EXPECT_DOUBLE_EQ(t[0].end, 5 * 0.02);  // row 2 (its next word's first row) at frame 5
  EXPECT_DOUBLE_EQ(t[1].start, 5 * 0.02);
  EXPECT_DOUBLE_EQ(t[1].end, 6 * 0.02);
  EXPECT_FLOAT_EQ(t[0].probability, 0.75f);
  EXPECT_FLOAT_EQ(t[1].probability, 0.25f);
  EXPECT_TRUE(align::word_timings({{"<|endoftext|>", {99}}}, p, {}).empty());
}

// ---- openai's heuristics and the hand-out to segments ----

Segment segment(double start, double end) {
  Segment s;
  s.start = start;
  s.end = end;
  return s;
}

TEST(AssignWords, HandedOutBySegmentTokensWithSegmentBounds) {
  // Two segments of 2 and 1 text tokens; times from the window's start at 10 s.
  std::vector<Segment> segs = {segment(10.0, 10.9), segment(11.0, 12.0)};
  std::vector<WordTiming> a = {timing(" one", {1}, 0.0, 0.4), timing(" two", {2}, 0.4, 0.8),
                               timing(" three", {3}, 1.1, 1.5)};
  align::assign_words(a, segs, {2, 1}, 10.0, 9.5, {});
  ASSERT_EQ(segs[0].words.size(), 2u);
  ASSERT_EQ(segs[1].words.size(), 1u);
  EXPECT_EQ(segs[1].words[0].text, " three");
  EXPECT_DOUBLE_EQ(segs[1].words[0].start, 11.1);
  // Segment bounds follow the words.
  EXPECT_DOUBLE_EQ(segs[0].start, 10.0);
  EXPECT_DOUBLE_EQ(segs[0].end, 10.8);
  EXPECT_DOUBLE_EQ(segs[1].start, 11.1);
  EXPECT_DOUBLE_EQ(segs[1].end, 11.5);
}

TEST(AssignWords, LongWordsClampedAtSentenceEndsAndAfterPauses) {
  // Median word 0.2 s (max 0.4 s). "." lasting 2 s is cut to 0.4 s; the first word after a long pause
  // (last speech at 0) lasting 3 s starts 0.4 s before its end.
  std::vector<Segment> segs = {segment(0.0, 30.0)};
  std::vector<WordTiming> a = {timing(" Late", {1}, 2.0, 5.0), timing(" a", {2}, 5.0, 5.2),
                               timing(" b", {3}, 5.2, 5.4), timing(" c", {4}, 5.4, 5.6),
                               timing(".", {5}, 5.6, 7.6)};
  align::assign_words(a, segs, {5}, 0.0, 0.0, {});
  const auto& w = segs[0].words;
  ASSERT_EQ(w.size(), 4u);  // "." merged into " c"
  EXPECT_EQ(w[3].text, " c.");
  EXPECT_DOUBLE_EQ(w[0].start, 4.6);
  EXPECT_DOUBLE_EQ(w[0].end, 5.0);
  // The segment's end (30 s) lies far after the last word: the word's end stands and the segment's moves.
  EXPECT_DOUBLE_EQ(segs[0].end, w[3].end);
  EXPECT_DOUBLE_EQ(segs[0].start, 4.6);
}

TEST(AssignWords, LastWordEnd) {
  std::vector<Segment> segs = {segment(0, 1), segment(1, 2)};
  EXPECT_DOUBLE_EQ(*align::last_word_end(segs), 2.0);
  segs[0].words.push_back({" x", 0.1, 0.7, 1.0f});
  EXPECT_DOUBLE_EQ(*align::last_word_end(segs), 0.7);
  EXPECT_FALSE(align::last_word_end({}).has_value());
}

// ---- the decoder's aligned pass ----

TEST(ForwardAligned, SameHiddenStatesAsForwardAndProbabilitiesPerHead) {
  ModelOptions mo;
  mo.compute_type = backend::ComputeType::Float32;
  const auto model = WhisperModel::load(test::models_dir() + "/tiny.en", mo);
  backend::Workspace ws;
  backend::Exec ex{2, &ws};
  nn::Decoder dec(*model, ex);
  const int T = model->dims().n_audio_ctx, D = model->dims().n_text_state;
  std::mt19937 rng(3);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> audio(static_cast<size_t>(2) * T * D);
  for (float& v : audio) v = g(rng);
  dec.set_audio(audio.data(), 2);
  const decode::Tokenizer& tok = model->tokenizer();
  std::vector<int> tokens = tok.sot_sequence("en", false);
  tokens.push_back(tok.no_timestamps());
  for (int t : tok.encode(" Hello there.")) tokens.push_back(t);
  tokens.push_back(tok.eot());
  const int L = static_cast<int>(tokens.size());

  const int window = 1;
  const nn::Decoder::Run run{dec.acquire_sequence(), window, 0, L};
  const float* h = dec.forward(tokens.data(), &run, 1);
  const std::vector<float> expected(h, h + static_cast<size_t>(L) * D);
  const std::vector<std::pair<int, int>> heads = {{1, 0}, {3, 4}, {3, 1}};
  std::vector<float> probs(heads.size() * L * T, -1.0f);
  h = dec.forward_aligned(tokens.data(), L, window, heads, probs.data());
  for (size_t i = 0; i < expected.size(); ++i) ASSERT_EQ(h[i], expected[i]) << i;
  for (size_t k = 0; k < heads.size(); ++k)
    for (int r = 0; r < L; ++r) {
      double sum = 0;
      for (int j = 0; j < T; ++j) sum += probs[(k * L + r) * T + j];
      ASSERT_NEAR(sum, 1.0, 1e-4) << "head " << k << " row " << r;
    }
  // Heads (3, 4) and (3, 1) of one layer differ; a later plain forward records nothing.
  EXPECT_NE(probs[(1 * L) * T + 10], probs[(2 * L) * T + 10]);
  const std::vector<float> before = probs;
  dec.forward(tokens.data(), &run, 1);
  EXPECT_EQ(probs, before);
  const std::vector<std::pair<int, int>> missing = {{4, 0}};  // tiny.en has 4 decoder layers
  EXPECT_THROW(dec.forward_aligned(tokens.data(), L, window, missing, probs.data()), Error);
}

}  // namespace
}  // namespace wisp
