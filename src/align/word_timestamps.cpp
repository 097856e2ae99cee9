#include "align/word_timestamps.h"

#include <algorithm>
#include <cmath>

#include "align/alignment.h"

namespace wisp::align {
namespace {

constexpr const char* kSentenceEndMarks = ".。!！?？";

// Python's round(x, 2), near enough: to the nearest 10 ms.
double round_centiseconds(double x) { return std::nearbyint(x * 100.0) / 100.0; }

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Median of the words' non-zero durations, capped at 0.7 s (0 when there are none).
double median_duration(const std::vector<WordTiming>& words) {
  std::vector<double> d;
  for (const WordTiming& w : words)
    if (w.end - w.start != 0.0) d.push_back(w.end - w.start);
  if (d.empty()) return 0.0;
  std::sort(d.begin(), d.end());
  const size_t n = d.size();
  const double median = n % 2 ? d[n / 2] : 0.5 * (d[n / 2 - 1] + d[n / 2]);
  return std::min(0.7, median);
}

}  // namespace

void assign_words(std::vector<WordTiming> alignment, std::vector<Segment>& segments,
                  const std::vector<size_t>& text_tokens, double time_offset, double last_speech_timestamp,
                  const WordOptions& options) {
  const double median = median_duration(alignment), max_duration = median * 2;
  // Words at sentence boundaries are not longer than twice the median word duration.
  if (median > 0.0) {
    const std::string marks = kSentenceEndMarks;
    for (size_t i = 1; i < alignment.size(); ++i) {
      WordTiming& w = alignment[i];
      if (w.end - w.start <= max_duration) continue;
      if (contains(marks, w.word)) {
        w.end = w.start + max_duration;
      } else if (contains(marks, alignment[i - 1].word)) {
        w.start = w.end - max_duration;
      }
    }
  }
  merge_punctuations(alignment, options.prepend_punctuations, options.append_punctuations);

  size_t index = 0;  // next entry of `alignment`
  for (size_t s = 0; s < segments.size(); ++s) {
    Segment& segment = segments[s];
    std::vector<Word>& words = segment.words;
    words.clear();
    // The entries covering this segment's tokens (merged-away ones, with no tokens, are passed over).
    for (size_t saved = 0; index < alignment.size() && saved < text_tokens[s]; ++index) {
      const WordTiming& t = alignment[index];
      if (!t.word.empty())
        words.push_back({t.word, round_centiseconds(time_offset + t.start),
                         round_centiseconds(time_offset + t.end), t.probability});
      saved += t.tokens.size();
    }
    if (words.empty()) continue;

    // The first and second word after a pause are not longer than twice the median word duration.
    if (words[0].end - last_speech_timestamp > median * 4 &&
        (words[0].end - words[0].start > max_duration ||
         (words.size() > 1 && words[1].end - words[0].start > max_duration * 2))) {
      if (words.size() > 1 && words[1].end - words[1].start > max_duration) {
        const double boundary = std::max(words[1].end / 2, words[1].end - max_duration);
        words[0].end = words[1].start = boundary;
      }
      words[0].start = std::max(0.0, words[0].end - max_duration);
    }
    // The segment's own start when the first word would begin well before it, else the first word's start.
    if (segment.start < words[0].end && segment.start - 0.5 > words[0].start) {
      words[0].start = std::max(0.0, std::min(words[0].end - median, segment.start));
    } else {
      segment.start = words[0].start;
    }
    // The segment's own end when the last word would end well after it, else the last word's end.
    if (segment.end > words.back().start && segment.end + 0.5 < words.back().end) {
      words.back().end = std::max(words.back().start + median, segment.end);
    } else {
      segment.end = words.back().end;
    }
    last_speech_timestamp = segment.end;
  }
}

void add_word_timestamps(const WhisperModel& model, nn::Decoder& decoder, int window,
                         const std::vector<int>& sot_sequence, const std::string& language,
                         std::vector<Segment>& segments, double time_offset, int num_frames,
                         double last_speech_timestamp, const WordOptions& options) {
  const int eot = model.tokenizer().eot();
  std::vector<int> text;
  std::vector<size_t> counts;
  for (const Segment& s : segments) {
    size_t n = 0;
    for (int t : s.tokens)
      if (t < eot) text.push_back(t), ++n;
    counts.push_back(n);
  }
  if (text.empty()) return;
  std::vector<WordTiming> alignment =
      find_alignment(model, decoder, window, sot_sequence, text, language, num_frames);
  assign_words(std::move(alignment), segments, counts, time_offset, last_speech_timestamp, options);
}

std::optional<double> last_word_end(const std::vector<Segment>& segments) {
  for (auto s = segments.rbegin(); s != segments.rend(); ++s)
    if (!s->words.empty()) return s->words.back().end;
  if (segments.empty()) return std::nullopt;
  return segments.back().end;
}

}  // namespace wisp::align
