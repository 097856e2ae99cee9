// Writers with word timestamps: json words, and srt/vtt cues laid out from the words with openai's
// --max_line_width, --max_line_count, --max_words_per_line and --highlight_words. The expected strings are
// what openai/whisper's SubtitlesWriter.iterate_result (whisper/utils.py) writes for the same hand-made
// result.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "output/writers.h"

namespace {

using wisp::Segment;
using wisp::Transcript;
using wisp::Word;
using wisp::output::Format;
using wisp::output::format_transcript;
using wisp::output::SubtitleOptions;

Segment segment(double start, double end, const std::string& text, std::vector<Word> words) {
  Segment s;
  s.start = start;
  s.end = end;
  s.text = text;
  s.words = std::move(words);
  return s;
}

Transcript sample() {
  Transcript t;
  t.language = "en";
  t.word_timestamps = true;
  t.segments.push_back(segment(0.0, 2.5, " And so, my fellow Americans.",
                               {{" And", 0.0, 0.5, 0.5f},
                                {" so,", 0.5, 0.9, 0.25f},
                                {" my", 1.0, 1.2, 1.0f},
                                {" fellow", 1.2, 1.6, 0.75f},
                                {" Americans.", 1.6, 2.5, 0.125f}}));
  t.segments.push_back(
      segment(6.0, 8.0, " Ask not -->",
              {{" Ask", 6.0, 6.4, 1.0f}, {" not", 6.4, 7.0, 1.0f}, {" -->", 7.2, 8.0, 1.0f}}));
  return t;
}

SubtitleOptions layout(std::optional<int> width, std::optional<int> count, bool highlight) {
  SubtitleOptions o;
  o.max_line_width = width;
  o.max_line_count = count;
  o.highlight_words = highlight;
  return o;
}

TEST(Subtitles, JsonHasWordsPerSegment) {
  const auto j = nlohmann::ordered_json::parse(format_transcript(sample(), Format::Json));
  const auto& words = j["segments"][0]["words"];
  ASSERT_EQ(words.size(), 5u);
  EXPECT_EQ(words[1].dump(), R"({"word":" so,","start":0.5,"end":0.9,"probability":0.25})");
  EXPECT_EQ(j["segments"][0].back().dump(), words.dump());  // after no_speech_prob, as openai
  Transcript plain = sample();
  plain.word_timestamps = false;
  EXPECT_FALSE(
      nlohmann::json::parse(format_transcript(plain, Format::Json))["segments"][0].contains("words"));
}

TEST(Subtitles, OneCuePerSegmentFromItsWords) {
  // Built from the words: no "-->" replacement, as openai's word path.
  EXPECT_EQ(format_transcript(sample(), Format::Srt),
            "1\n00:00:00,000 --> 00:00:02,500\nAnd so, my fellow Americans.\n\n"
            "2\n00:00:06,000 --> 00:00:08,000\nAsk not -->\n\n");
}

TEST(Subtitles, MaxWordsPerLine) {
  // openai walks each segment's words two at a time, each group starting a cue as a segment does.
  SubtitleOptions o;
  o.max_words_per_line = 2;
  EXPECT_EQ(format_transcript(sample(), Format::Srt, o),
            "1\n00:00:00,000 --> 00:00:00,900\nAnd so,\n\n"
            "2\n00:00:01,000 --> 00:00:01,600\nmy fellow\n\n"
            "3\n00:00:01,600 --> 00:00:02,500\nAmericans.\n\n"
            "4\n00:00:06,000 --> 00:00:07,000\nAsk not\n\n"
            "5\n00:00:07,200 --> 00:00:08,000\n-->\n\n");
  // With both a width and a count cues do not follow segments: no effect.
  o.max_line_width = 12;
  o.max_line_count = 2;
  EXPECT_EQ(format_transcript(sample(), Format::Srt, o),
            format_transcript(sample(), Format::Srt, layout(12, 2, false)));
}

TEST(Subtitles, MaxLineWidthAndCount) {
  EXPECT_EQ(format_transcript(sample(), Format::Srt, layout(12, 2, false)),
            "1\n00:00:00,000 --> 00:00:01,600\nAnd so, my\nfellow\n\n"
            "2\n00:00:01,600 --> 00:00:02,500\nAmericans.\n\n"
            "3\n00:00:06,000 --> 00:00:08,000\nAsk not -->\n\n");
  // A width alone breaks lines but keeps a cue per segment.
  EXPECT_EQ(format_transcript(sample(), Format::Vtt, layout(12, std::nullopt, false)),
            "WEBVTT\n\n00:00.000 --> 00:02.500\nAnd so, my\nfellow\nAmericans.\n\n"
            "00:06.000 --> 00:08.000\nAsk not -->\n\n");
}

TEST(Subtitles, HighlightWords) {
  EXPECT_EQ(format_transcript(sample(), Format::Vtt, layout(std::nullopt, std::nullopt, true)),
            "WEBVTT\n\n"
            "00:00.000 --> 00:00.500\n<u>And</u> so, my fellow Americans.\n\n"
            "00:00.500 --> 00:00.900\nAnd <u>so,</u> my fellow Americans.\n\n"
            "00:00.900 --> 00:01.000\nAnd so, my fellow Americans.\n\n"
            "00:01.000 --> 00:01.200\nAnd so, <u>my</u> fellow Americans.\n\n"
            "00:01.200 --> 00:01.600\nAnd so, my <u>fellow</u> Americans.\n\n"
            "00:01.600 --> 00:02.500\nAnd so, my fellow <u>Americans.</u>\n\n"
            "00:06.000 --> 00:06.400\n<u>Ask</u> not -->\n\n"
            "00:06.400 --> 00:07.000\nAsk <u>not</u> -->\n\n"
            "00:07.000 --> 00:07.200\nAsk not -->\n\n"
            "00:07.200 --> 00:08.000\nAsk not <u>--></u>\n\n");
  // With a line count, a pause over 3 s still starts a new cue.
  const std::string srt = format_transcript(sample(), Format::Srt, layout(100, 3, true));
  EXPECT_NE(srt.find("6\n00:00:01,600 --> 00:00:02,500\nAnd so, my fellow <u>Americans.</u>\n\n"
                     "7\n00:00:06,000 --> 00:00:06,400\n<u>Ask</u> not -->\n\n"),
            std::string::npos)
      << srt;
  EXPECT_EQ(srt.rfind("10\n", 0), std::string::npos);
  EXPECT_NE(srt.find("10\n00:00:07,200 --> 00:00:08,000\nAsk not <u>--></u>\n\n"), std::string::npos);
}

TEST(Subtitles, LinesBrokenInsideAHighlightedCue) {
  EXPECT_EQ(format_transcript(sample(), Format::Vtt, layout(12, 2, true)),
            "WEBVTT\n\n"
            "00:00.000 --> 00:00.500\n<u>And</u> so, my\nfellow\n\n"
            "00:00.500 --> 00:00.900\nAnd <u>so,</u> my\nfellow\n\n"
            "00:00.900 --> 00:01.000\nAnd so, my\nfellow\n\n"
            "00:01.000 --> 00:01.200\nAnd so, <u>my</u>\nfellow\n\n"
            "00:01.200 --> 00:01.600\nAnd so, my\n<u>fellow</u>\n\n"
            "00:01.600 --> 00:02.500\n<u>Americans.</u>\n\n"
            "00:06.000 --> 00:06.400\n<u>Ask</u> not -->\n\n"
            "00:06.400 --> 00:07.000\nAsk <u>not</u> -->\n\n"
            "00:07.000 --> 00:07.200\nAsk not -->\n\n"
            "00:07.200 --> 00:08.000\nAsk not <u>--></u>\n\n");
}

TEST(Subtitles, SegmentsWithoutWordsAndEmptyResults) {
  Transcript t = sample();
  t.segments[1].words.clear();
  EXPECT_EQ(format_transcript(t, Format::Srt),
            "1\n00:00:00,000 --> 00:00:02,500\nAnd so, my fellow Americans.\n\n");
  t.segments.clear();
  EXPECT_EQ(format_transcript(t, Format::Srt, layout(10, 2, true)), "");
  EXPECT_EQ(format_transcript(t, Format::Vtt), "WEBVTT\n\n");
}

}  // namespace
