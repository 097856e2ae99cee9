// Whisper's log-mel front end, exactly as openai/whisper audio.py computes it:
// n_fft 400, hop 160, periodic Hann, centred STFT with reflect padding, last frame dropped, power spectrum,
// Slaney mel filters, log10 with a 1e-10 floor, values below (max - 8) raised to it, then (x + 4) / 4.
#pragma once

#include <cstddef>
#include <vector>

namespace wisp::audio {

constexpr int kNFft = 400;
constexpr int kHopLength = 160;
constexpr int kChunkSamples = 480000;  // 30 s at 16 kHz
constexpr int kChunkFrames = 3000;     // mel frames in 30 s

// Slaney-style mel filterbank (librosa.filters.mel with htk=False, norm="slaney"), (n_mels, n_fft/2 + 1).
std::vector<float> mel_filters(int n_mels, int sample_rate = 16000, int n_fft = kNFft);

struct LogMel {
  int n_mels = 0;
  int n_frames = 0;
  std::vector<float> data;  // (n_mels, n_frames), row-major
};

// Log-mel of `samples` followed by `pad_samples` zeros (transcribe() pads 30 s so the last window is whole).
// The (max - 8) floor uses the maximum over the whole spectrogram, as the reference does. Frames are
// computed on up to `threads` threads.
LogMel log_mel_spectrogram(const float* samples, size_t n_samples, int n_mels,
                           size_t pad_samples = kChunkSamples, int threads = 1);

// The 30-s window mel[:, seek : seek + size] as the model takes it, (n_mels, 3000): the frames past `size`
// (and past the spectrogram) are zeros, as openai/whisper's pad_or_trim builds the window in log-mel space.
void mel_window(const LogMel& mel, int seek, int size, float* out);

}  // namespace wisp::audio
