// openai/whisper's timing.find_alignment: the window's text tokens teacher-forced through the decoder, the
// alignment heads' cross-attention matched to the audio frames by DTW, and the tokens grouped into words
// with a start, an end and a probability each.
#pragma once

#include <string>
#include <vector>

#include "align/dtw.h"
#include "align/word_split.h"
#include "align/word_timing.h"
#include "model/whisper_model.h"
#include "nn/decoder.h"

namespace wisp::align {

constexpr int kMedianFilterWidth = 7;

// From the DTW path over rows [<|notimestamps|>, text tokens...] and the frames: each row's time is the
// first frame the path enters it at (20 ms per frame); word w runs from the time of its first token's row
// to that of the next word's. `words` are the text tokens plus <|endoftext|> split into words (the last,
// <|endoftext|>, only closes the one before it); token_probs has one probability per text token. Returns
// no words when there is no text.
std::vector<WordTiming> word_timings(const std::vector<WordTokens>& words, const DtwPath& path,
                                     const std::vector<float>& token_probs);

// The whole of find_alignment for `text_tokens` (ids below <|endoftext|>) on the window whose audio the
// decoder holds at index `window`, of which the first `num_frames` mel frames (10 ms each) are audio.
// sot_sequence: the window's [<|startoftranscript|>, language, task]. Returns no words for an empty text,
// no audio, or a text too long for the decoder's context.
std::vector<WordTiming> find_alignment(const WhisperModel& model, nn::Decoder& decoder, int window,
                                       const std::vector<int>& sot_sequence,
                                       const std::vector<int>& text_tokens, const std::string& language,
                                       int num_frames);

}  // namespace wisp::align
