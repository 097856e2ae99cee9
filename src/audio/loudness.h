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
// copied, so the recording itself is never copied whole. samples[k] is the recording's sample first + k.
void append_levelled(const float* samples, int64_t begin, int64_t end, const std::vector<Gain>& gains,
                     std::vector<float>& out, int64_t first = 0);

// The most a 1-s block is raised for speech detection (+60 dB), and the level below which a block is taken
// for silence and left as it is (-90 dBFS: dither of 16-bit audio).
constexpr float kMaxDetectionGain = 1000.0f;
constexpr float kSilenceRms = 3.2e-5f;

// A copy of the audio for speech detection, with a slow automatic gain: each 1-s block's speech level (the
// louder half of its 20-ms frames) brought to kSpeechRms, by at most kMaxDetectionGain, gains interpolated
// between block centres, clipped to full scale. Silero VAD misses speech 40 dB below its neighbours'
// (-64 dBFS in the dev long form) and finds it after this. On `threads` threads.
std::vector<float> levelled_for_detection(const float* samples, size_t n, int threads = 1);
constexpr size_t kDetectionBlock = 16000;  // its blocks (1 s)

// The same copy for audio that arrives as it goes: push() appends to `out` the levelled samples that are
// final (a sample needs the blocks on both sides of it: up to 1.5 s later), finish() the rest. Holds less
// than two blocks of audio. The samples given out are those of levelled_for_detection over the whole.
class DetectionLeveller {
 public:
  void push(const float* samples, size_t n, std::vector<float>& out);
  void finish(std::vector<float>& out);

 private:
  void emit(size_t lo, size_t hi, size_t b0, float g0, float g1, std::vector<float>& out);
  std::vector<float> buf_;  // the recording from buf_begin_ on
  size_t buf_begin_ = 0, received_ = 0, out_next_ = 0, next_segment_ = 0;
  std::vector<float> gains_;  // of every complete block (4 bytes a second)
  std::vector<double> energy_;
};

}  // namespace wisp::audio
