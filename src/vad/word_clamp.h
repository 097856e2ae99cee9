// Word times held to the speech the VAD found: Whisper's alignment stretches a word over the pause next to it
// (the last word of a sentence into the silence after it, the first word after a pause back into it). A
// word that starts in a pause starts where the next stretch of speech does; one that ends in a pause ends
// where the previous stretch does. Segment bounds then follow their first and last words.
#pragma once

#include <vector>

#include "pipeline/transcript.h"
#include "vad/speech_segments.h"

namespace wisp::vad {

// `stretches`: speech in the recording's samples (16 kHz), in order, not overlapping; segments in seconds.
void clamp_words_to_speech(std::vector<Segment>& segments, const std::vector<SpeechSpan>& stretches);
void clamp_words_to_speech(Segment& segment, const std::vector<SpeechSpan>& stretches);

}  // namespace wisp::vad
