// Word timestamps for the segments of one decoded window, as openai/whisper's timing.add_word_timestamps
// (and faster-whisper's, which the tests compare with): one alignment pass over all of the window's text,
// punctuation merged into words, the words handed out to the segments in order, and openai's duration
// heuristics (long words at sentence ends and after pauses clamped, segment bounds reconciled with the
// first and last word).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "align/punctuation.h"
#include "align/word_timing.h"
#include "model/whisper_model.h"
#include "nn/decoder.h"
#include "pipeline/transcript.h"

namespace wisp::align {

struct WordOptions {
  std::string prepend_punctuations = kPrependPunctuations;
  std::string append_punctuations = kAppendPunctuations;
};

// The heuristics and the hand-out, without the model: `alignment` is find_alignment's result for the text
// tokens of `segments` (text_tokens[s] of them in segment s; times from the window's start at time_offset).
// Fills each segment's words (times absolute, rounded to 10 ms) and moves its start and end to its first
// and last word's where openai does.
void assign_words(std::vector<WordTiming> alignment, std::vector<Segment>& segments,
                  const std::vector<size_t>& text_tokens, double time_offset, double last_speech_timestamp,
                  const WordOptions& options);

// The whole step for the segments one window produced (in order; their tokens as decoded, times absolute):
// the decoder holds the window's audio at index `window`, the window starts at time_offset seconds and
// holds num_frames mel frames of audio. sot_sequence and language are the window's. last_speech_timestamp:
// the end of the speech before this window (see last_word_end).
void add_word_timestamps(const WhisperModel& model, nn::Decoder& decoder, int window,
                         const std::vector<int>& sot_sequence, const std::string& language,
                         std::vector<Segment>& segments, double time_offset, int num_frames,
                         double last_speech_timestamp, const WordOptions& options);

// The end of the last word of `segments`, else the last segment's end, none without segments (openai's
// get_end): where the next window's speech search starts.
std::optional<double> last_word_end(const std::vector<Segment>& segments);

}  // namespace wisp::align
