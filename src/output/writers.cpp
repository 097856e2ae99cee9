#include "output/writers.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace wisp::output {
namespace {

// Python's str.isspace() for one code point.
bool is_python_space(uint32_t cp) {
  if ((cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20)) return true;
  if (cp < 0x80) return false;
  return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
         cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

// Decodes one well-formed UTF-8 sequence starting at s[i]. Returns its length (1..4), or 0 if the
// bytes there are not a well-formed sequence.
size_t decode_utf8(const std::string& s, size_t i, uint32_t* cp) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const size_t n = s.size();
  const unsigned char c0 = b(i);
  if (c0 < 0x80) {
    *cp = c0;
    return 1;
  }
  size_t len = 0;
  uint32_t v = 0;
  uint32_t min = 0;
  if ((c0 & 0xE0) == 0xC0) {
    len = 2, v = c0 & 0x1F, min = 0x80;
  } else if ((c0 & 0xF0) == 0xE0) {
    len = 3, v = c0 & 0x0F, min = 0x800;
  } else if ((c0 & 0xF8) == 0xF0) {
    len = 4, v = c0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > n) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    v = (v << 6) | (b(i + k) & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return len;
}

// Python's str.replace(from, to): non-overlapping, left to right.
std::string replace_all(const std::string& s, const std::string& from, const std::string& to) {
  std::string out;
  size_t pos = 0;
  while (true) {
    const size_t hit = s.find(from, pos);
    if (hit == std::string::npos) break;
    out.append(s, pos, hit - pos);
    out += to;
    pos = hit + from.size();
  }
  out.append(s, pos, std::string::npos);
  return out;
}

std::string subtitle_text(const Segment& seg) { return replace_all(strip_whitespace(seg.text), "-->", "->"); }

// A float as the double nearest its shortest decimal representation, so -0.3f is written as -0.3
// rather than -0.30000001192092896.
double sensible(float f) {
  if (!std::isfinite(f)) return static_cast<double>(f);
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof(buf), f);
  double d = static_cast<double>(f);
  std::from_chars(buf, res.ptr, d);
  return d;
}

// Seconds rounded to whole milliseconds.
double round_seconds_to_ms(double seconds) {
  if (!std::isfinite(seconds)) return seconds;
  return std::nearbyint(seconds * 1000.0) / 1000.0;
}

std::string format_txt(const Transcript& t) {
  std::string out;
  for (const auto& seg : t.segments) {
    out += strip_whitespace(seg.text);
    out += '\n';
  }
  return out;
}

std::string format_srt(const Transcript& t, const SubtitleOptions& o) {
  std::string out;
  int index = 1;
  if (t.word_timestamps && !t.segments.empty()) {
    for (const Cue& c : word_cues(t, o, true, ','))
      out += std::to_string(index++) + "\n" + c.start + " --> " + c.end + "\n" + c.text + "\n\n";
    return out;
  }
  for (const auto& seg : t.segments) {
    out += std::to_string(index++);
    out += '\n';
    out += format_timestamp(seg.start, true, ',');
    out += " --> ";
    out += format_timestamp(seg.end, true, ',');
    out += '\n';
    out += subtitle_text(seg);
    out += "\n\n";
  }
  return out;
}

std::string format_vtt(const Transcript& t, const SubtitleOptions& o) {
  std::string out = "WEBVTT\n\n";
  if (t.word_timestamps && !t.segments.empty()) {
    for (const Cue& c : word_cues(t, o, false, '.'))
      out += c.start + " --> " + c.end + "\n" + c.text + "\n\n";
    return out;
  }
  for (const auto& seg : t.segments) {
    out += format_timestamp(seg.start, false, '.');
    out += " --> ";
    out += format_timestamp(seg.end, false, '.');
    out += '\n';
    out += subtitle_text(seg);
    out += "\n\n";
  }
  return out;
}

std::string format_tsv(const Transcript& t) {
  std::string out = "start\tend\ttext\n";
  for (const auto& seg : t.segments) {
    out += std::to_string(round_to_ms(seg.start));
    out += '\t';
    out += std::to_string(round_to_ms(seg.end));
    out += '\t';
    std::string text = strip_whitespace(seg.text);
    for (char& c : text) {
      if (c == '\t') c = ' ';
    }
    out += text;
    out += '\n';
  }
  return out;
}

std::string format_json(const Transcript& t) {
  using nlohmann::ordered_json;
  ordered_json segments = ordered_json::array();
  for (const auto& seg : t.segments) {
    ordered_json s;
    s["id"] = seg.id;
    s["seek"] = seg.seek;
    s["start"] = round_seconds_to_ms(seg.start);
    s["end"] = round_seconds_to_ms(seg.end);
    s["text"] = seg.text;
    s["tokens"] = seg.tokens;
    if (seg.has_token_logprobs()) {
      ordered_json lps = ordered_json::array();  // wisp's own key: each token's log-probability as decoded
      for (float lp : seg.token_logprobs) lps.push_back(sensible(lp));
      s["token_logprobs"] = std::move(lps);
    }
    s["temperature"] = sensible(seg.temperature);
    s["avg_logprob"] = sensible(seg.avg_logprob);
    s["compression_ratio"] = sensible(seg.compression_ratio);
    s["no_speech_prob"] = sensible(seg.no_speech_prob);
    if (t.word_timestamps) {
      ordered_json words = ordered_json::array();
      for (const Word& w : seg.words) {
        ordered_json wj;
        wj["word"] = w.text;
        wj["start"] = round_seconds_to_ms(w.start);
        wj["end"] = round_seconds_to_ms(w.end);
        wj["probability"] = sensible(w.probability);
        words.push_back(std::move(wj));
      }
      s["words"] = std::move(words);
    }
    segments.push_back(std::move(s));
  }
  ordered_json j;
  j["text"] = t.text();
  j["segments"] = std::move(segments);
  j["language"] = t.language;
  j["language_probability"] = sensible(t.language_probability);
  j["duration"] = t.duration;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

bool parse_format(const std::string& name, Format* out) {
  std::string lower;
  lower.reserve(name.size());
  for (char c : name) lower += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  Format f;
  if (lower == "txt") {
    f = Format::Txt;
  } else if (lower == "srt") {
    f = Format::Srt;
  } else if (lower == "vtt") {
    f = Format::Vtt;
  } else if (lower == "tsv") {
    f = Format::Tsv;
  } else if (lower == "json") {
    f = Format::Json;
  } else {
    return false;
  }
  if (out) *out = f;
  return true;
}

const char* extension(Format f) {
  switch (f) {
    case Format::Txt:
      return "txt";
    case Format::Srt:
      return "srt";
    case Format::Vtt:
      return "vtt";
    case Format::Tsv:
      return "tsv";
    case Format::Json:
      return "json";
  }
  return "txt";
}

std::string format_transcript(const Transcript& t, Format f, const SubtitleOptions& subtitles) {
  switch (f) {
    case Format::Txt:
      return format_txt(t);
    case Format::Srt:
      return format_srt(t, subtitles);
    case Format::Vtt:
      return format_vtt(t, subtitles);
    case Format::Tsv:
      return format_tsv(t);
    case Format::Json:
      return format_json(t);
  }
  return format_txt(t);
}

int64_t round_to_ms(double seconds) {
  if (std::isnan(seconds)) return 0;
  // nearbyint in the default rounding mode rounds half to even, as Python's round() does.
  return static_cast<int64_t>(std::nearbyint(seconds * 1000.0));
}

std::string format_timestamp(double seconds, bool always_include_hours, char decimal_marker) {
  int64_t ms = (std::isnan(seconds) || seconds < 0.0) ? 0 : round_to_ms(seconds);
  const int64_t hours = ms / 3'600'000;
  ms -= hours * 3'600'000;
  const int64_t minutes = ms / 60'000;
  ms -= minutes * 60'000;
  const int64_t secs = ms / 1'000;
  ms -= secs * 1'000;
  char buf[64];
  if (always_include_hours || hours > 0) {
    std::snprintf(buf, sizeof(buf), "%02lld:%02lld:%02lld%c%03lld", static_cast<long long>(hours),
                  static_cast<long long>(minutes), static_cast<long long>(secs), decimal_marker,
                  static_cast<long long>(ms));
  } else {
    std::snprintf(buf, sizeof(buf), "%02lld:%02lld%c%03lld", static_cast<long long>(minutes),
                  static_cast<long long>(secs), decimal_marker, static_cast<long long>(ms));
  }
  return buf;
}

std::string strip_whitespace(const std::string& s) {
  size_t begin = 0;
  const size_t n = s.size();
  while (begin < n) {
    uint32_t cp = 0;
    const size_t len = decode_utf8(s, begin, &cp);
    if (len == 0 || !is_python_space(cp)) break;
    begin += len;
  }
  size_t end = n;
  while (end > begin) {
    // Find the start of the last code point: step back over up to 3 continuation bytes.
    size_t start = end - 1;
    while (start > begin && end - start < 4 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    uint32_t cp = 0;
    const size_t len = decode_utf8(s, start, &cp);
    if (len == 0 || start + len != end || !is_python_space(cp)) break;
    end = start;
  }
  return s.substr(begin, end - begin);
}

}  // namespace wisp::output
