// Repetition loops: on noise (and sometimes music) the decoder falls into a loop — " I'm going to take a look
// at how I'm going to take a look at how ..." — that runs to the 224-token limit and is then thrown away by
// the compression-ratio check, at every fallback temperature. A sequence caught in such a loop is recognised
// early, so its pass can end there with the same verdict.
#pragma once

#include <vector>

#include "decode/tokenizer.h"

namespace wisp::decode {

// The last kLoopWindow text tokens are looked at; a loop leaves at most kLoopMaxNovel of their 4-grams new.
constexpr int kLoopWindow = 48;
constexpr int kLoopMaxNovel = 4;

// True when the text tokens (ids below eot; timestamps are skipped, they grow in a loop too) of
// seq[sample_begin:] end in a loop — of their last kLoopWindow tokens, at most kLoopMaxNovel end a 4-gram
// that does not occur earlier (a repeated phrase, with a slip or two as beam search keeps them) — AND the
// text so far already has a compression ratio above `threshold`: the pass fails the compression check now,
// and more of the loop only compresses better.
// `scratch` holds the text tokens between calls (no allocation per decoder step once it has grown).
bool stuck_in_loop(const Tokenizer& tok, const std::vector<int>& seq, int sample_begin, float threshold,
                   std::vector<int>& scratch);

}  // namespace wisp::decode
