#include "audio/mel.h"

#include <kiss_fftr.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>

#include "backend/cpu/threads.h"
#include "core/error.h"

namespace wisp::audio {
namespace {

// Slaney mel scale: linear below 1 kHz, logarithmic above (librosa's hz_to_mel / mel_to_hz, htk=False).
constexpr double kFSp = 200.0 / 3.0, kMinLogHz = 1000.0, kMinLogMel = kMinLogHz / kFSp;
const double kLogStep = std::log(6.4) / 27.0;

double hz_to_mel(double hz) {
  return hz < kMinLogHz ? hz / kFSp : kMinLogMel + std::log(hz / kMinLogHz) / kLogStep;
}
double mel_to_hz(double mel) {
  return mel < kMinLogMel ? mel * kFSp : kMinLogHz * std::exp(kLogStep * (mel - kMinLogMel));
}

struct FftDeleter {
  void operator()(kiss_fftr_state* p) const { kiss_fftr_free(p); }
};

}  // namespace

std::vector<float> mel_filters(int n_mels, int sample_rate, int n_fft) {
  const int n_bins = n_fft / 2 + 1;
  std::vector<double> fft_freqs(n_bins), mel_f(n_mels + 2);
  for (int i = 0; i < n_bins; ++i) fft_freqs[i] = static_cast<double>(sample_rate) / 2 * i / (n_bins - 1);
  const double mel_max = hz_to_mel(sample_rate / 2.0);
  for (int i = 0; i < n_mels + 2; ++i) mel_f[i] = mel_to_hz(mel_max * i / (n_mels + 1));
  std::vector<float> w(static_cast<size_t>(n_mels) * n_bins, 0.0f);
  for (int m = 0; m < n_mels; ++m) {
    const double enorm = 2.0 / (mel_f[m + 2] - mel_f[m]);
    for (int k = 0; k < n_bins; ++k) {
      const double lower = (fft_freqs[k] - mel_f[m]) / (mel_f[m + 1] - mel_f[m]);
      const double upper = (mel_f[m + 2] - fft_freqs[k]) / (mel_f[m + 2] - mel_f[m + 1]);
      w[static_cast<size_t>(m) * n_bins + k] =
          static_cast<float>(std::max(0.0, std::min(lower, upper)) * enorm);
    }
  }
  return w;
}

LogMel log_mel_spectrogram(const float* samples, size_t n_samples, int n_mels, size_t pad_samples,
                           int threads) {
  const int n_bins = kNFft / 2 + 1;
  const int64_t L = static_cast<int64_t>(n_samples + pad_samples);  // padded signal length
  if (L <= kNFft / 2) throw Error(ErrorKind::Audio, "audio is too short for a spectrogram");
  LogMel out;
  out.n_mels = n_mels;
  out.n_frames = static_cast<int>(L / kHopLength);  // torch.stft gives 1 + L/hop frames; the last is dropped
  out.data.assign(static_cast<size_t>(n_mels) * out.n_frames, 0.0f);

  const std::vector<float> filters = mel_filters(n_mels);
  // Each filter is non-zero on a short run of bins; remember it so the projection skips the zeros.
  std::vector<int> lo(n_mels, n_bins), hi(n_mels, 0);
  for (int m = 0; m < n_mels; ++m)
    for (int k = 0; k < n_bins; ++k)
      if (filters[static_cast<size_t>(m) * n_bins + k] != 0.0f) {
        lo[m] = std::min(lo[m], k);
        hi[m] = k + 1;
      }
  std::vector<float> window(kNFft);
  for (int i = 0; i < kNFft; ++i)
    window[i] = static_cast<float>(0.5 - 0.5 * std::cos(2.0 * M_PI * i / kNFft));

  // Sample i of the centred signal: reflect padding of n_fft/2 at both ends of the zero-padded audio.
  auto sample = [&](int64_t i) -> float {
    i -= kNFft / 2;
    if (i < 0) i = -i;
    if (i >= L) i = 2 * (L - 1) - i;
    return (i >= 0 && static_cast<size_t>(i) < n_samples) ? samples[i] : 0.0f;
  };

  // Per thread: an FFT plan and buffers; frames in blocks, each thread keeping its own running maximum.
  struct ThreadState {
    std::unique_ptr<kiss_fftr_state, FftDeleter> cfg;
    std::vector<float> frame, power;
    std::vector<kiss_fft_cpx> spec;
    float max = -1e30f;
  };
  threads = std::max(1, threads);
  std::vector<ThreadState> state(threads);
  for (ThreadState& st : state) {
    st.cfg.reset(kiss_fftr_alloc(kNFft, 0, nullptr, nullptr));
    st.frame.resize(kNFft);
    st.power.resize(n_bins);
    st.spec.resize(n_bins);
  }
  constexpr int kBlock = 256;  // frames per task
  backend::cpu::parallel_for_slots(threads, (out.n_frames + kBlock - 1) / kBlock, [&](int block, int slot) {
    ThreadState& st = state[slot];
    for (int t = block * kBlock; t < std::min(out.n_frames, (block + 1) * kBlock); ++t) {
      const int64_t start = static_cast<int64_t>(t) * kHopLength;
      for (int i = 0; i < kNFft; ++i) st.frame[i] = sample(start + i) * window[i];
      kiss_fftr(st.cfg.get(), st.frame.data(), st.spec.data());
      for (int k = 0; k < n_bins; ++k)
        st.power[k] = st.spec[k].r * st.spec[k].r + st.spec[k].i * st.spec[k].i;
      for (int m = 0; m < n_mels; ++m) {
        const float* f = filters.data() + static_cast<size_t>(m) * n_bins;
        float acc = 0.0f;
        for (int k = lo[m]; k < hi[m]; ++k) acc += f[k] * st.power[k];
        const float v = std::log10(std::max(acc, 1e-10f));
        out.data[static_cast<size_t>(m) * out.n_frames + t] = v;
        st.max = std::max(st.max, v);
      }
    }
  });
  float global_max = -1e30f;
  for (const ThreadState& st : state) global_max = std::max(global_max, st.max);
  const float floor = global_max - 8.0f;
  for (float& v : out.data) v = (std::max(v, floor) + 4.0f) / 4.0f;
  return out;
}

void mel_window(const LogMel& mel, int seek, int size, float* out) {
  const int avail = std::max(0, std::min({size, kChunkFrames, mel.n_frames - seek}));
  for (int b = 0; b < mel.n_mels; ++b) {
    const float* src = mel.data.data() + static_cast<size_t>(b) * mel.n_frames;
    float* dst = out + static_cast<size_t>(b) * kChunkFrames;
    if (avail > 0) std::memcpy(dst, src + seek, sizeof(float) * avail);
    std::fill(dst + avail, dst + kChunkFrames, 0.0f);
  }
}

}  // namespace wisp::audio
