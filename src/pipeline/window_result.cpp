#include "pipeline/window_result.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>

#include "align/punctuation.h"
#include "align/word_timestamps.h"
#include "audio/mel.h"

namespace wisp {

decode::DecodingOptions decoding_options(const TranscribeOptions& o, int n_text_ctx) {
  decode::DecodingOptions d;
  d.translate = o.translate;
  d.sample_len = n_text_ctx / 2;
  d.best_of = o.best_of;
  d.beam_size = o.beam_size;
  d.patience = o.patience;
  d.length_penalty = o.length_penalty;
  d.suppress_blank = o.suppress_blank;
  d.without_timestamps = o.without_timestamps;
  d.max_initial_timestamp = o.max_initial_timestamp;
  d.stop_loops_above = o.compression_ratio_threshold;  // a loop fails that check: end its pass early
  return d;
}

std::vector<int> initial_prompt_tokens(const TranscribeOptions& o, const decode::Tokenizer& tok) {
  if (o.initial_prompt.empty()) return {};
  std::string p = o.initial_prompt;
  p.erase(0, p.find_first_not_of(" \t\n"));
  p.erase(p.find_last_not_of(" \t\n") + 1);
  return tok.encode(" " + p);
}

bool needs_fallback(const TranscribeOptions& o, const decode::DecodingResult& r) {
  bool fail = false;
  if (o.compression_ratio_threshold && r.compression_ratio > *o.compression_ratio_threshold)
    fail = true;                                                                 // too repetitive
  if (o.logprob_threshold && r.avg_logprob < *o.logprob_threshold) fail = true;  // too unlikely
  // Silence: a low log-prob is expected where the model is sure nobody speaks (openai/whisper's current
  // rule needs both; a confident no-speech guess with a high log-prob still falls back).
  if (o.no_speech_threshold && r.no_speech_prob > *o.no_speech_threshold && o.logprob_threshold &&
      r.avg_logprob < *o.logprob_threshold)
    fail = false;
  return fail;
}

bool retry_at_next_temperature(const TranscribeOptions& o, const decode::DecodingResult& r, size_t t,
                               int steps, int sample_len) {
  return needs_fallback(o, r) && t + 1 < o.temperatures.size() && steps < kFallbackStepBudget * sample_len;
}

bool is_silence(const TranscribeOptions& o, const decode::DecodingResult& r) {
  const bool looped = o.compression_ratio_threshold && r.compression_ratio > *o.compression_ratio_threshold;
  const bool confident = o.logprob_threshold && r.avg_logprob > *o.logprob_threshold && !looped;
  return o.no_speech_threshold && r.no_speech_prob > *o.no_speech_threshold && !confident;
}

WindowSegments window_segments(const decode::Tokenizer& tok, const decode::DecodingResult& r, int seek,
                               int segment_size, double time_offset) {
  const std::vector<int>& tokens = r.tokens;
  const int ts_begin = tok.timestamp_begin();
  auto is_ts = [&](size_t i) { return tokens[i] >= ts_begin; };
  WindowSegments out;
  // Tokens [first, last) of the window.
  auto add_segment = [&](double start, double end, size_t first, size_t last) {
    Segment s;
    s.seek = seek;
    s.start = start;
    s.end = end;
    s.tokens.assign(tokens.begin() + static_cast<std::ptrdiff_t>(first),
                    tokens.begin() + static_cast<std::ptrdiff_t>(last));
    if (r.token_logprobs.size() == tokens.size())
      s.token_logprobs.assign(r.token_logprobs.begin() + static_cast<std::ptrdiff_t>(first),
                              r.token_logprobs.begin() + static_cast<std::ptrdiff_t>(last));
    std::vector<int> text_tokens;
    for (int t : s.tokens)
      if (t < tok.eot()) text_tokens.push_back(t);
    s.text = tok.decode(text_tokens);
    s.temperature = r.temperature;
    s.avg_logprob = r.avg_logprob;
    s.compression_ratio = r.compression_ratio;
    s.no_speech_prob = r.no_speech_prob;
    out.segments.push_back(std::move(s));
  };

  const size_t n = tokens.size();
  const bool single_timestamp_ending = n >= 2 && !is_ts(n - 2) && is_ts(n - 1);
  out.single_timestamp_ending = single_timestamp_ending;
  std::vector<size_t> slices;  // indices where two timestamps meet: segment boundaries
  for (size_t i = 1; i < n; ++i)
    if (is_ts(i - 1) && is_ts(i)) slices.push_back(i);

  int seek_next = seek;
  if (!slices.empty()) {
    if (single_timestamp_ending) slices.push_back(n);
    size_t last_slice = 0;
    for (size_t cur : slices) {
      const double start = time_offset + (tokens[last_slice] - ts_begin) * kTimePrecision;
      const double end = time_offset + (tokens[cur - 1] - ts_begin) * kTimePrecision;
      add_segment(start, end, last_slice, cur);
      last_slice = cur;
    }
    if (single_timestamp_ending)
      seek_next += segment_size;  // no speech after the last timestamp: move on a whole window
    else
      seek_next += (tokens[last_slice - 1] - ts_begin) * kInputStride;  // resume at the last timestamp
  } else {
    double duration = segment_size * kFrameSeconds;
    int last_ts = -1;
    for (size_t i = 0; i < n; ++i)
      if (is_ts(i)) last_ts = tokens[i];
    if (last_ts >= 0 && last_ts != ts_begin) duration = (last_ts - ts_begin) * kTimePrecision;
    add_segment(time_offset, time_offset + duration, 0, n);
    seek_next += segment_size;
  }
  if (seek_next <= seek) seek_next = seek + segment_size;  // never decode the same window twice
  out.next_seek = seek_next;
  return out;
}

namespace {

int frames(double seconds) { return static_cast<int>(std::nearbyint(seconds * 100.0)); }

// openai's word_anomaly_score: improbable, very short or very long words.
double anomaly_score(const Word& w) {
  const double duration = w.end - w.start;
  double score = w.probability < 0.15f ? 1.0 : 0.0;
  if (duration < 0.133) score += (0.133 - duration) * 15;
  if (duration > 2.0) score += duration - 2.0;
  return score;
}

// openai's is_segment_anomaly: over its first 8 words (punctuation aside — openai's `word not in
// punctuation`, a substring test), a score of 3, or nearly 1 per word.
bool is_anomaly(const Segment* s, const std::string& punctuation) {
  if (!s || s->words.empty()) return false;
  double score = 0.0;
  int n = 0;
  for (const Word& w : s->words) {
    if (punctuation.find(w.text) != std::string::npos) continue;
    score += anomaly_score(w);
    if (++n == 8) break;
  }
  return score >= 3.0 || score + 0.01 >= n;
}

// The first segment from `from` on that has words.
const Segment* next_with_words(const std::vector<Segment>& segments, size_t from) {
  for (size_t i = from; i < segments.size(); ++i)
    if (!segments[i].words.empty()) return &segments[i];
  return nullptr;
}

}  // namespace

bool seek_after_words(WindowSegments& w, int seek, int segment_size, double time_offset, double& last_speech,
                      std::optional<float> silence_threshold, int content_frames,
                      const std::string& punctuation) {
  const std::optional<double> last_end = align::last_word_end(w.segments);
  const bool moved_by_words = !w.single_timestamp_ending && last_end && *last_end > time_offset;
  if (moved_by_words) w.next_seek = frames(*last_end);
  if (silence_threshold) {  // openai's transcribe(), "skip silence before possible hallucinations"
    const double threshold = *silence_threshold;
    const double window_end = (seek + audio::kChunkFrames) * kFrameSeconds;
    if (moved_by_words)  // the rest of the window is decoded again only after a long enough silence
      w.next_seek = window_end - *last_end > threshold ? frames(*last_end) : seek + segment_size;
    // A first segment that looks hallucinated, after a long silence: skip to it.
    if (const Segment* first = next_with_words(w.segments, 0); first && is_anomaly(first, punctuation)) {
      const double gap = first->start - time_offset;
      if (gap > threshold) {
        w.next_seek = std::max(seek + frames(gap), seek + 1);
        w.segments.clear();
        return true;
      }
    }
    // A hallucination between silences (or more hallucinations): it and what follows go, decoded again
    // from it.
    double hal_last_end = last_speech;
    for (size_t i = 0; i < w.segments.size(); ++i) {
      const Segment& s = w.segments[i];
      if (s.words.empty()) continue;
      if (is_anomaly(&s, punctuation)) {
        const Segment* next = next_with_words(w.segments, i + 1);
        const double next_start =
            next ? next->words.front().start : time_offset + segment_size * kFrameSeconds;
        const bool silence_before =
            s.start - hal_last_end > threshold || s.start < threshold || s.start - time_offset < 2.0;
        const bool silence_after =
            next_start - s.end > threshold || is_anomaly(next, punctuation) || window_end - s.end < 2.0;
        if (silence_before && silence_after) {
          w.next_seek = frames(std::max(time_offset + 1.0, s.start));
          if (content_frames * kFrameSeconds - s.end < threshold) w.next_seek = content_frames;
          w.segments.erase(w.segments.begin() + static_cast<std::ptrdiff_t>(i), w.segments.end());
          break;
        }
      }
      hal_last_end = s.end;
    }
  }
  if (const std::optional<double> end = align::last_word_end(w.segments)) last_speech = *end;
  if (w.next_seek <= seek) w.next_seek = seek + segment_size;  // never decode the same window twice
  return false;
}

bool keeps(const Segment& s) {
  return s.start != s.end && s.text.find_first_not_of(" \t\n") != std::string::npos;
}

}  // namespace wisp
