// Transcript writers against strings produced by openai/whisper's whisper/utils.py writers on the
// same hand-made result.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "output/writers.h"

namespace {

using wisp::Segment;
using wisp::Transcript;
using wisp::output::Format;
using wisp::output::format_transcript;

Segment make_segment(int id, int seek, double start, double end, const std::string& text,
                     std::vector<int> tokens, float temperature, float avg_logprob, float compression_ratio,
                     float no_speech_prob) {
  Segment s;
  s.id = id;
  s.seek = seek;
  s.start = start;
  s.end = end;
  s.text = text;
  s.tokens = std::move(tokens);
  s.temperature = temperature;
  s.avg_logprob = avg_logprob;
  s.compression_ratio = compression_ratio;
  s.no_speech_prob = no_speech_prob;
  return s;
}

Transcript sample() {
  Transcript t;
  t.language = "en";
  t.language_probability = 0.75f;
  t.duration = 3662.5;
  t.segments.push_back(
      make_segment(0, 0, 0.0, 2.5, " And so, my fellow Americans.", {400, 370}, 0.0f, -0.3f, 1.25f, 0.0125f));
  t.segments.back().token_logprobs = {-0.1f, -0.45f};  // (the others have none: no key)
  t.segments.push_back(make_segment(1, 359950, 3599.5, 3661.042,
                                    " \xC3\x9C"
                                    "ber na\xC3\xAF"
                                    "ve caf\xC3\xA9 \xE2\x80\x94 "
                                    "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E ",
                                    {50364, 1}, 0.2f, -1.5f, 2.0f, 0.5f));
  t.segments.push_back(
      make_segment(2, 366104, 3661.042, 3662.0015, "  a --> b\tc  ", {}, 1.0f, -0.25f, 0.75f, 0.75f));
  return t;
}

const std::string kUnicode =
    "\xC3\x9C"
    "ber na\xC3\xAF"
    "ve caf\xC3\xA9 \xE2\x80\x94 \xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E";

TEST(Writers, ParseFormatAndExtension) {
  Format f = Format::Txt;
  EXPECT_TRUE(wisp::output::parse_format("srt", &f));
  EXPECT_EQ(f, Format::Srt);
  EXPECT_TRUE(wisp::output::parse_format("VTT", &f));
  EXPECT_EQ(f, Format::Vtt);
  EXPECT_TRUE(wisp::output::parse_format("Tsv", &f));
  EXPECT_EQ(f, Format::Tsv);
  EXPECT_TRUE(wisp::output::parse_format("JSON", &f));
  EXPECT_EQ(f, Format::Json);
  EXPECT_TRUE(wisp::output::parse_format("txt", &f));
  EXPECT_EQ(f, Format::Txt);
  EXPECT_FALSE(wisp::output::parse_format("all", &f));
  EXPECT_FALSE(wisp::output::parse_format("", &f));
  EXPECT_FALSE(wisp::output::parse_format("txt ", &f));
  EXPECT_EQ(f, Format::Txt);
  EXPECT_STREQ(wisp::output::extension(Format::Txt), "txt");
  EXPECT_STREQ(wisp::output::extension(Format::Srt), "srt");
  EXPECT_STREQ(wisp::output::extension(Format::Vtt), "vtt");
  EXPECT_STREQ(wisp::output::extension(Format::Tsv), "tsv");
  EXPECT_STREQ(wisp::output::extension(Format::Json), "json");
}

TEST(Writers, FormatTimestamp) {
  using wisp::output::format_timestamp;
  EXPECT_EQ(format_timestamp(0.0, false, '.'), "00:00.000");
  EXPECT_EQ(format_timestamp(0.0, true, ','), "00:00:00,000");
  EXPECT_EQ(format_timestamp(59.9994, false, '.'), "00:59.999");
  EXPECT_EQ(format_timestamp(59.9996, false, '.'), "01:00.000");
  EXPECT_EQ(format_timestamp(3600.0, false, '.'), "01:00:00.000");
  EXPECT_EQ(format_timestamp(36000.0 + 0.25, true, ','), "10:00:00,250");
  // Python's round() is half to even: round(0.5) == 0, round(1.5) == 2, round(2.5) == 2.
  EXPECT_EQ(format_timestamp(0.0005, false, '.'), "00:00.000");
  EXPECT_EQ(format_timestamp(0.0015, false, '.'), "00:00.002");
  EXPECT_EQ(format_timestamp(0.0025, false, '.'), "00:00.002");
  EXPECT_EQ(format_timestamp(-1.0, false, '.'), "00:00.000");
}

TEST(Writers, StripWhitespace) {
  using wisp::output::strip_whitespace;
  EXPECT_EQ(strip_whitespace(""), "");
  EXPECT_EQ(strip_whitespace(" \t\n "), "");
  EXPECT_EQ(strip_whitespace("  a b  "), "a b");
  // U+3000 ideographic space and U+00A0 no-break space are whitespace for Python's str.strip().
  EXPECT_EQ(strip_whitespace("\xE3\x80\x80x\xC2\xA0"), "x");
  EXPECT_EQ(strip_whitespace(" " + kUnicode + " "), kUnicode);
  // Invalid UTF-8 is kept as is.
  EXPECT_EQ(strip_whitespace(" \xFF\xC3 "), "\xFF\xC3");
}

TEST(Writers, Txt) {
  EXPECT_EQ(format_transcript(sample(), Format::Txt),
            "And so, my fellow Americans.\n" + kUnicode + "\na --> b\tc\n");
}

TEST(Writers, Srt) {
  EXPECT_EQ(format_transcript(sample(), Format::Srt),
            "1\n00:00:00,000 --> 00:00:02,500\nAnd so, my fellow Americans.\n\n"
            "2\n00:59:59,500 --> 01:01:01,042\n" +
                kUnicode +
                "\n\n"
                "3\n01:01:01,042 --> 01:01:02,002\na -> b\tc\n\n");
}

TEST(Writers, Vtt) {
  EXPECT_EQ(format_transcript(sample(), Format::Vtt),
            "WEBVTT\n\n"
            "00:00.000 --> 00:02.500\nAnd so, my fellow Americans.\n\n"
            "59:59.500 --> 01:01:01.042\n" +
                kUnicode +
                "\n\n"
                "01:01:01.042 --> 01:01:02.002\na -> b\tc\n\n");
}

TEST(Writers, Tsv) {
  EXPECT_EQ(format_transcript(sample(), Format::Tsv),
            "start\tend\ttext\n"
            "0\t2500\tAnd so, my fellow Americans.\n"
            "3599500\t3661042\t" +
                kUnicode +
                "\n"
                "3661042\t3662002\ta --> b c\n");
}

TEST(Writers, Json) {
  const std::string expected =
      R"({"text":" And so, my fellow Americans. )" + kUnicode +
      R"(   a --> b\tc  ","segments":[)"
      R"({"id":0,"seek":0,"start":0.0,"end":2.5,"text":" And so, my fellow Americans.","tokens":[400,370],)"
      R"("token_logprobs":[-0.1,-0.45],)"
      R"("temperature":0.0,"avg_logprob":-0.3,"compression_ratio":1.25,"no_speech_prob":0.0125},)"
      R"({"id":1,"seek":359950,"start":3599.5,"end":3661.042,"text":" )" +
      kUnicode +
      R"( ","tokens":[50364,1],)"
      R"("temperature":0.2,"avg_logprob":-1.5,"compression_ratio":2.0,"no_speech_prob":0.5},)"
      R"({"id":2,"seek":366104,"start":3661.042,"end":3662.002,"text":"  a --> b\tc  ","tokens":[],)"
      R"("temperature":1.0,"avg_logprob":-0.25,"compression_ratio":0.75,"no_speech_prob":0.75}],)"
      R"("language":"en","language_probability":0.75,"duration":3662.5})";
  const std::string got = format_transcript(sample(), Format::Json);
  EXPECT_EQ(got, expected);
  // It parses back, with the keys in openai's order.
  const auto j = nlohmann::ordered_json::parse(got);
  ASSERT_EQ(j["segments"].size(), 3u);
  EXPECT_EQ(j["segments"][1]["text"].get<std::string>(), " " + kUnicode + " ");
  EXPECT_EQ(j.begin().key(), "text");
}

TEST(Writers, JsonInvalidUtf8DoesNotThrow) {
  Transcript t;
  t.language = "en";
  t.segments.push_back(make_segment(0, 0, 0.0, 1.0, " ok\xFF\xC3", {1}, 0.0f, -0.5f, 1.0f, 0.0f));
  std::string got;
  EXPECT_NO_THROW(got = format_transcript(t, Format::Json));
  // Invalid bytes become U+FFFD.
  EXPECT_NE(got.find("\" ok\xEF\xBF\xBD"), std::string::npos);
  EXPECT_TRUE(nlohmann::json::accept(got));
  // The other formats pass the bytes through.
  EXPECT_EQ(format_transcript(t, Format::Txt), "ok\xFF\xC3\n");
}

TEST(Writers, Empty) {
  Transcript t;
  t.language = "en";
  t.duration = 0.0;
  EXPECT_EQ(format_transcript(t, Format::Txt), "");
  EXPECT_EQ(format_transcript(t, Format::Srt), "");
  EXPECT_EQ(format_transcript(t, Format::Vtt), "WEBVTT\n\n");
  EXPECT_EQ(format_transcript(t, Format::Tsv), "start\tend\ttext\n");
  EXPECT_EQ(format_transcript(t, Format::Json),
            R"({"text":"","segments":[],"language":"en","language_probability":1.0,"duration":0.0})");
}

}  // namespace
