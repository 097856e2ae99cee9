// What one decoded 30-s window yields in the long-form loop (the body of openai/whisper transcribe()'s seek
// loop): whether the pass must be retried at the next temperature, whether the window is silence, and its
// segments with the seek where the next window starts. The sequential and the batched loops both use it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "align/punctuation.h"
#include "decode/decoding_options.h"
#include "decode/tokenizer.h"
#include "pipeline/transcribe_options.h"
#include "pipeline/transcript.h"

namespace wisp {

constexpr int kInputStride = 2;          // mel frames per encoder position (per timestamp step / 2)
constexpr double kTimePrecision = 0.02;  // seconds per timestamp token
constexpr double kFrameSeconds = 0.01;   // seconds per mel frame

// The options of every decoding pass of a transcription (language and temperature are set per pass).
decode::DecodingOptions decoding_options(const TranscribeOptions& o, int n_text_ctx);

// The initial prompt's tokens (" " + the prompt, trimmed), as openai's transcribe() builds them.
std::vector<int> initial_prompt_tokens(const TranscribeOptions& o, const decode::Tokenizer& tok);

// The pass failed a threshold (too repetitive, too unlikely) and is not excused as silence.
bool needs_fallback(const TranscribeOptions& o, const decode::DecodingResult& r);

// Decoder steps one window may spend on fallback passes before the next pass is refused, in units of the
// per-pass limit (224 tokens): two whole passes. Normal speech needs one pass of well under 224 steps.
constexpr int kFallbackStepBudget = 2;

// Whether the pass at fallback temperature `t` is retried at the next one: it needs fallback, a temperature
// is left, and the window's passes so far (`steps` decoder steps) have not spent the budget — noise makes
// every temperature fail, each pass running to the token limit; once spent the last result stands.
bool retry_at_next_temperature(const TranscribeOptions& o, const decode::DecodingResult& r, size_t t,
                               int steps, int sample_len);

// The model thinks nobody speaks, and the text does not say otherwise. A confident text overrules the
// no-speech guess (openai/whisper), but not a repetition loop: noise decodes as "1-2-3-4-4-4..." with a
// fair log-prob, and that is no evidence of speech.
bool is_silence(const TranscribeOptions& o, const decode::DecodingResult& r);

struct WindowSegments {
  std::vector<Segment> segments;         // every segment the tokens hold, blank ones included (id unset)
  int next_seek = 0;                     // mel frames
  bool single_timestamp_ending = false;  // the text ends in one timestamp: no speech after it in the window
};

// Cuts the tokens of the window at `seek` (segment_size content frames, starting time_offset seconds)
// into segments at timestamp pairs, and finds where the next window starts: at the last timestamp, or a
// whole window on when the text ends without one. Never returns a next_seek at or before seek.
WindowSegments window_segments(const decode::Tokenizer& tok, const decode::DecodingResult& r, int seek,
                               int segment_size, double time_offset);

// With word timestamps, as openai: the next window starts where the last word ended (unless the window
// ended in silence, or that is not past the window's start; never at or before `seek`), and last_speech
// (where the speech so far ended) moves to it. The words are in w.segments already.
//
// With a hallucination silence threshold (openai's hallucination_silence_threshold, seconds), segments that
// look hallucinated (their first words improbable, too short or too long: openai's is_segment_anomaly)
// and stand between silences longer than it are dropped with what follows them, the next window starting
// at them; a window whose first words look so after such a silence is skipped up to them (returns true:
// nothing of it is kept, as openai's `continue`). `content_frames`: of the audio being decoded;
// `punctuation`: marks that do not count as words (openai's prepend + append punctuation).
// openai's `punctuation` (its default prepend + append marks), for the anomaly test.
inline const std::string kOpenaiPunctuation =
    std::string(align::kPrependPunctuations) + align::kAppendPunctuations;

bool seek_after_words(WindowSegments& w, int seek, int segment_size, double time_offset, double& last_speech,
                      std::optional<float> silence_threshold = std::nullopt, int content_frames = 0,
                      const std::string& punctuation = "");

// A segment that is kept in the result: it lasts and has text (openai keeps instantaneous or text-less
// segments with empty text; they condition the next window the same way, with no tokens).
bool keeps(const Segment& s);

}  // namespace wisp
