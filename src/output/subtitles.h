// Subtitle cues built from word timestamps, as openai/whisper's SubtitlesWriter.iterate_result: lines of
// at most max_line_width characters, at most max_line_count lines per cue (a new cue after a pause of more
// than 3 s), at most max_words_per_line words of a segment per cue, and with highlight_words one cue per
// word with that word underlined.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "pipeline/transcript.h"

namespace wisp::output {

struct SubtitleOptions {
  std::optional<int> max_line_width;  // characters (code points) per line
  std::optional<int> max_line_count;  // lines per cue; only with max_line_width, else a cue per segment
  // A segment's words in groups of at most this many, each group starting a cue (no effect when both of the
  // above are set: cues then do not follow segments).
  std::optional<int> max_words_per_line;
  bool highlight_words = false;
};

struct Cue {
  std::string start, end;  // formatted timestamps
  std::string text;
};

// The cues of `t`, which has word timestamps: openai's layout of its words. Timestamps as
// format_timestamp(always_include_hours, decimal_marker).
std::vector<Cue> word_cues(const Transcript& t, const SubtitleOptions& options, bool always_include_hours,
                           char decimal_marker);

}  // namespace wisp::output
