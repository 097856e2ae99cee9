#include "output/subtitles.h"

#include "output/writers.h"

namespace wisp::output {
namespace {

// Python's len() of UTF-8 text: code points (continuation bytes not counted).
size_t char_count(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

struct Timed {
  std::string word;
  double start, end;
};

// openai's iterate_subtitles: the words regrouped into cues of lines.
std::vector<std::vector<Timed>> group_words(const Transcript& t, const SubtitleOptions& o) {
  const bool preserve_segments = !o.max_line_count || !o.max_line_width;
  const size_t max_width = o.max_line_width ? static_cast<size_t>(*o.max_line_width) : 1000;
  const size_t max_words = o.max_words_per_line ? static_cast<size_t>(*o.max_words_per_line) : 1000;
  std::vector<std::vector<Timed>> cues;
  std::vector<Timed> cue;
  size_t line_len = 0;
  int line_count = 1;
  double last = 0.0;  // start of the previous word (at first: of the first word, or of the first segment)
  bool found = false;
  for (const Segment& s : t.segments)
    if (!s.words.empty()) {
      last = s.words.front().start;
      found = true;
      break;
    }
  if (!found && !t.segments.empty()) last = t.segments.front().start;

  for (const Segment& s : t.segments) {
    for (size_t i = 0; i < s.words.size(); ++i) {
      Timed timing{s.words[i].text, s.words[i].start, s.words[i].end};
      const bool long_pause = !preserve_segments && timing.start - last > 3.0;
      const bool has_room = line_len + char_count(timing.word) <= max_width;
      // openai walks each segment's words in groups of max_words: each group starts as a segment does.
      const bool seg_break = i % max_words == 0 && !cue.empty() && preserve_segments;
      if (line_len > 0 && has_room && !long_pause && !seg_break) {
        line_len += char_count(timing.word);  // the line goes on
      } else {
        timing.word = strip_whitespace(timing.word);
        if ((!cue.empty() && o.max_line_count && (long_pause || line_count >= *o.max_line_count)) ||
            seg_break) {
          cues.push_back(std::move(cue));  // a new cue
          cue.clear();
          line_count = 1;
        } else if (line_len > 0) {
          ++line_count;  // a new line
          timing.word = "\n" + timing.word;
        }
        line_len = char_count(strip_whitespace(timing.word));
      }
      last = timing.start;
      cue.push_back(std::move(timing));
    }
  }
  if (!cue.empty()) cues.push_back(std::move(cue));
  return cues;
}

// re.sub(r"^(\s*)(.*)$", r"\1<u>\2</u>", word): the word underlined after its leading white space (a
// newline included) and up to the end of its first line.
std::string underline(const std::string& word) {
  size_t lead = 0;
  while (lead < word.size() && (word[lead] == ' ' || (word[lead] >= '\t' && word[lead] <= '\r'))) ++lead;
  size_t end = word.find('\n', lead);
  if (end == std::string::npos) end = word.size();
  return word.substr(0, lead) + "<u>" + word.substr(lead, end - lead) + "</u>" + word.substr(end);
}

}  // namespace

std::vector<Cue> word_cues(const Transcript& t, const SubtitleOptions& o, bool hours, char marker) {
  std::vector<Cue> out;
  auto stamp = [&](double s) { return format_timestamp(s, hours, marker); };
  for (const std::vector<Timed>& cue : group_words(t, o)) {
    std::string text;
    for (const Timed& w : cue) text += w.word;
    const std::string cue_start = stamp(cue.front().start), cue_end = stamp(cue.back().end);
    if (o.highlight_words) {
      std::string last = cue_start;
      for (size_t i = 0; i < cue.size(); ++i) {
        const std::string start = stamp(cue[i].start), end = stamp(cue[i].end);
        if (last != start)
          out.push_back({last, start, text});  // the gap before this word, nothing underlined
        std::string marked;
        for (size_t j = 0; j < cue.size(); ++j) marked += j == i ? underline(cue[j].word) : cue[j].word;
        out.push_back({start, end, std::move(marked)});
        last = end;
      }
    } else {
      out.push_back({cue_start, cue_end, std::move(text)});
    }
  }
  return out;
}

}  // namespace wisp::output
