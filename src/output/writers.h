// Transcript writers: txt, srt, vtt, tsv and json, byte-for-byte as openai/whisper's
// whisper/utils.py (WriteTXT, WriteSRT, WriteVTT, WriteTSV, WriteJSON) writes them.
#pragma once

#include <cstdint>
#include <string>

#include "output/subtitles.h"
#include "pipeline/transcript.h"

namespace wisp::output {

enum class Format { Txt, Srt, Vtt, Tsv, Json };

// "txt", "srt", "vtt", "tsv", "json", case-insensitive. Returns false (and leaves *out alone) otherwise.
bool parse_format(const std::string& name, Format* out);

// The file extension without the dot: "txt", "srt", "vtt", "tsv", "json".
const char* extension(Format f);

// The whole file's contents for `t` in format `f`. Never throws for invalid UTF-8 in segment texts
// (json replaces it with U+FFFD; the other formats copy the bytes through). With word timestamps, json
// has each segment's words and srt/vtt cues are laid out from the words as `subtitles` says (openai's
// writers with word timestamps; see output/subtitles.h).
std::string format_transcript(const Transcript& t, Format f, const SubtitleOptions& subtitles = {});

// openai/whisper's format_timestamp: seconds rounded to milliseconds (round half to even, like
// Python's round), "[HH:]MM:SS<marker>mmm"; hours shown when always_include_hours or when >= 1 h.
// Negative or NaN input is treated as 0 (openai asserts instead).
std::string format_timestamp(double seconds, bool always_include_hours, char decimal_marker);

// Python's round(seconds * 1000.0) (half to even) as an integer; 0 for NaN.
int64_t round_to_ms(double seconds);

// Python's str.strip() on UTF-8 text: removes leading/trailing Unicode whitespace (as str.isspace
// defines it). Bytes that are not valid UTF-8 count as non-whitespace.
std::string strip_whitespace(const std::string& s);

}  // namespace wisp::output
