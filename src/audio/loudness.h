// Loudness levelling for long-form audio: a far-away speaker recorded 30-40 dB below the others is
// brought to the same speech level before the log-mel, so that Whisper hears them as it hears the rest
// (its features are log power: 40 dB quieter is every feature shifted by a quarter of their range).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace wisp::audio {

// The RMS level speech is brought to (-20 dBFS), and the most a quiet span is raised (+40 dB).
constexpr float kSpeechRms = 0.1f;
constexpr float kMaxGain = 100.0f;

// The gain that brings samples[begin, end) to speech level: the RMS of its louder half (the speech, not
// the pauses between words) to kSpeechRms, by at most kMaxGain, never above full scale; 1 for silence.
float speech_gain(const float* samples, size_t begin, size_t end);

// Scales samples[begin, end) by speech_gain(); returns the gain applied.
float level_speech(float* samples, size_t begin, size_t end);

// A gain for samples [begin, end) of a recording.
struct Gain {
  int64_t begin = 0, end = 0;
  float gain = 1.0f;
};

// Appends samples[begin, end) to `out`, each sample times the gain of the range that holds it (`gains`:
// in order, not overlapping; samples outside every range unchanged). Levels a piece of a recording as it is
// copied, so the recording itself is never copied whole.
void append_levelled(const float* samples, int64_t begin, int64_t end, const std::vector<Gain>& gains,
                     std::vector<float>& out);

// The most a 1-s block is raised for speech detection (+60 dB), and the level below which a block is taken
// for silence and left as it is (-90 dBFS: dither of 16-bit audio).
constexpr float kMaxDetectionGain = 1000.0f;
constexpr float kSilenceRms = 3.2e-5f;

// A copy of the audio for speech detection, with a slow automatic gain: each 1-s block's speech level (the
// louder half of its 20-ms frames) brought to kSpeechRms, by at most kMaxDetectionGain, gains interpolated
// between block centres, clipped to full scale. Silero VAD misses speech 40 dB below its neighbours'
// (-64 dBFS in the dev long form) and finds it after this. On `threads` threads.
std::vector<float> levelled_for_detection(const float* samples, size_t n, int threads = 1);

}  // namespace wisp::audio
