#include "audio/loudness.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "backend/cpu/threads.h"

namespace wisp::audio {

namespace {

// RMS of the louder half of the 20-ms frames of samples[begin, end): the words, not the pauses between
// them. `peak` receives the largest magnitude.
double speech_rms(const float* samples, size_t begin, size_t end, float* peak, std::vector<double>& energy) {
  constexpr size_t kFrame = 320;  // 20 ms at 16 kHz
  energy.clear();
  // Sums of squares in double, eight samples a step in two vectors of four (the loop over every sample of
  // a recording, twice, was a fifth of the speech stage).
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 peaks = _mm256_setzero_ps();
  float tail_peak = 0.0f;
  for (size_t f = begin; f < end; f += kFrame) {
    const size_t stop = std::min(end, f + kFrame);
    __m256d e0 = _mm256_setzero_pd(), e1 = _mm256_setzero_pd();
    size_t i = f;
    for (; i + 8 <= stop; i += 8) {
      const __m256 x = _mm256_loadu_ps(samples + i);
      peaks = _mm256_max_ps(peaks, _mm256_andnot_ps(sign, x));
      const __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(x)),
                    hi = _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1));
      e0 = _mm256_fmadd_pd(lo, lo, e0);
      e1 = _mm256_fmadd_pd(hi, hi, e1);
    }
    alignas(32) double lanes[4];
    _mm256_store_pd(lanes, _mm256_add_pd(e0, e1));
    double e = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    for (; i < stop; ++i) {
      e += static_cast<double>(samples[i]) * samples[i];
      tail_peak = std::max(tail_peak, std::fabs(samples[i]));
    }
    energy.push_back(e / static_cast<double>(stop - f));
  }
  alignas(32) float peak_lanes[8];
  _mm256_store_ps(peak_lanes, peaks);
  *peak = tail_peak;
  for (float v : peak_lanes) *peak = std::max(*peak, v);
  if (energy.empty()) return 0.0;
  const size_t half = energy.size() / 2;
  std::nth_element(energy.begin(), energy.begin() + static_cast<std::ptrdiff_t>(half), energy.end());
  double sum = 0.0;
  for (size_t i = half; i < energy.size(); ++i) sum += energy[i];
  return std::sqrt(sum / static_cast<double>(energy.size() - half));
}

// The detection gain of a 1-s block (levelled_for_detection).
float block_gain(const float* samples, size_t begin, size_t end, std::vector<double>& energy) {
  float peak = 0.0f;
  const double rms = speech_rms(samples, begin, end, &peak, energy);
  return rms > kSilenceRms ? static_cast<float>(std::clamp(kSpeechRms / rms, 1.0, double{kMaxDetectionGain}))
                           : 1.0f;
}

// Samples [lo, hi) of the recording (in[0] is sample lo) levelled into out[0, hi - lo): each sample's gain
// linear between the centres of blocks b0 and b0 + 1 (gains g0, g1), clipped to full scale.
void level_between_centres(const float* in, float* out, size_t lo, size_t hi, size_t b0, float g0, float g1) {
  const double inv_block = 1.0 / kDetectionBlock,
               shift = kDetectionBlock / 2.0 * inv_block + static_cast<double>(b0);
  auto gain_at = [&](double i) {
    const double frac = std::clamp(std::fma(i, inv_block, -shift), 0.0, 1.0);
    return std::fma(static_cast<double>(g1) - g0, frac, static_cast<double>(g0));
  };
  // Four samples a step in double, as the scalar tail computes each.
  const __m256d vinv = _mm256_set1_pd(inv_block), vshift = _mm256_set1_pd(shift), zero = _mm256_setzero_pd();
  const __m256d one = _mm256_set1_pd(1.0), minus_one = _mm256_set1_pd(-1.0), vg0 = _mm256_set1_pd(g0);
  const __m256d slope = _mm256_set1_pd(static_cast<double>(g1) - g0), step = _mm256_set1_pd(4.0);
  __m256d pos = _mm256_add_pd(_mm256_set1_pd(static_cast<double>(lo)), _mm256_setr_pd(0.0, 1.0, 2.0, 3.0));
  size_t i = lo;
  for (; i + 4 <= hi; i += 4) {
    const __m256d frac = _mm256_min_pd(_mm256_max_pd(_mm256_fmsub_pd(pos, vinv, vshift), zero), one);
    const __m256d g = _mm256_fmadd_pd(slope, frac, vg0);
    const __m256d x = _mm256_mul_pd(_mm256_cvtps_pd(_mm_loadu_ps(in + (i - lo))), g);
    _mm_storeu_ps(out + (i - lo), _mm256_cvtpd_ps(_mm256_min_pd(_mm256_max_pd(x, minus_one), one)));
    pos = _mm256_add_pd(pos, step);
  }
  for (; i < hi; ++i) {
    const double x = in[i - lo] * gain_at(static_cast<double>(i));
    out[i - lo] = static_cast<float>(std::clamp(x, -1.0, 1.0));
  }
}

// The samples levelled between the centres of blocks b0 and b0 + 1, [lo, hi), in a recording of n samples
// and n_blocks blocks (the first and last half-blocks: the nearest block's). While the audio still comes,
// neither is known yet: SIZE_MAX for both.
std::pair<size_t, size_t> between_centres(size_t b0, size_t n_blocks, size_t n) {
  const size_t lo = b0 == 0 ? 0 : std::min(n, kDetectionBlock / 2 + b0 * kDetectionBlock);
  const size_t hi = b0 + 1 == n_blocks ? n : std::min(n, kDetectionBlock / 2 + (b0 + 1) * kDetectionBlock);
  return {lo, hi};
}

}  // namespace

float speech_gain(const float* samples, size_t begin, size_t end) {
  if (end <= begin) return 1.0f;
  std::vector<double> energy;
  float peak = 0.0f;
  const double rms = speech_rms(samples, begin, end, &peak, energy);
  if (!(rms > 0.0) || !(peak > 0.0f)) return 1.0f;
  return std::min({kMaxGain, static_cast<float>(kSpeechRms / rms), 1.0f / peak});
}

float level_speech(float* samples, size_t begin, size_t end) {
  const float gain = speech_gain(samples, begin, end);
  for (size_t i = begin; i < end; ++i) samples[i] *= gain;
  return gain;
}

void append_levelled(const float* samples, int64_t begin, int64_t end, const std::vector<Gain>& gains,
                     std::vector<float>& out, int64_t first_sample) {
  const size_t first = out.size();
  out.insert(out.end(), samples + (begin - first_sample), samples + (end - first_sample));
  // The first range that ends after `begin`, then every range that starts before `end`.
  auto g =
      std::upper_bound(gains.begin(), gains.end(), begin, [](int64_t t, const Gain& r) { return t < r.end; });
  for (; g != gains.end() && g->begin < end; ++g) {
    const int64_t lo = std::max(begin, g->begin), hi = std::min(end, g->end);
    for (int64_t i = lo; i < hi; ++i) out[first + static_cast<size_t>(i - begin)] *= g->gain;
  }
}

std::vector<float> levelled_for_detection(const float* samples, size_t n, int threads) {
  constexpr size_t kBlock = kDetectionBlock;
  const size_t n_blocks = (n + kBlock - 1) / kBlock;
  std::vector<float> gain(n_blocks, 1.0f);
  // Scratch per thread, sized here: a parallel body must not allocate (nor throw).
  std::vector<std::vector<double>> energy(static_cast<size_t>(std::max(threads, 1)));
  for (auto& e : energy) e.reserve(kBlock / 320 + 1);
  backend::cpu::parallel_for_slots(threads, static_cast<int>(n_blocks), [&](int b, int slot) {
    const size_t begin = static_cast<size_t>(b) * kBlock;
    gain[b] = block_gain(samples, begin, std::min(n, begin + kBlock), energy[slot]);
  });
  std::vector<float> out(n);
  // Each sample's gain is linear between the centres of the blocks around it, b0 and b1 = b0 + 1 (the
  // first and last half-blocks: the nearest block's). One stretch of samples per b0, each on its own.
  backend::cpu::parallel_for(threads, static_cast<int>(n_blocks), [&](int seg) {
    const size_t b0 = static_cast<size_t>(seg), b1 = std::min(n_blocks - 1, b0 + 1);
    const auto [lo, hi] = between_centres(b0, n_blocks, n);
    level_between_centres(samples + lo, out.data() + lo, lo, hi, b0, gain[b0], gain[b1]);
  });
  return out;
}

void DetectionLeveller::push(const float* samples, size_t n, std::vector<float>& out) {
  buf_.insert(buf_.end(), samples, samples + n);
  received_ += n;
  while (received_ >= (gains_.size() + 1) * kDetectionBlock) {
    const size_t begin = gains_.size() * kDetectionBlock;
    gains_.push_back(
        block_gain(buf_.data(), begin - buf_begin_, begin - buf_begin_ + kDetectionBlock, energy_));
  }
  // Every stretch between two centres whose both blocks are known.
  while (next_segment_ + 2 <= gains_.size()) {
    const size_t b0 = next_segment_;
    const auto [lo, hi] = between_centres(b0, SIZE_MAX, SIZE_MAX);
    emit(lo, hi, b0, gains_[b0], gains_[b0 + 1], out);
    ++next_segment_;
  }
  const size_t drop = out_next_ - buf_begin_;
  buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(drop));
  buf_begin_ = out_next_;
}

void DetectionLeveller::finish(std::vector<float>& out) {
  const size_t n = received_, n_blocks = (n + kDetectionBlock - 1) / kDetectionBlock;
  if (gains_.size() < n_blocks) {  // the last block, shorter than a second
    const size_t begin = gains_.size() * kDetectionBlock;
    gains_.push_back(block_gain(buf_.data(), begin - buf_begin_, n - buf_begin_, energy_));
  }
  for (size_t b0 = next_segment_; b0 < n_blocks; ++b0) {
    const auto [lo, hi] = between_centres(b0, n_blocks, n);
    emit(lo, hi, b0, gains_[b0], gains_[std::min(n_blocks - 1, b0 + 1)], out);
  }
  next_segment_ = n_blocks;
  buf_.clear();
  buf_begin_ = n;
}

void DetectionLeveller::emit(size_t lo, size_t hi, size_t b0, float g0, float g1, std::vector<float>& out) {
  const size_t first = out.size();
  out.resize(first + (hi - lo));
  level_between_centres(buf_.data() + (lo - buf_begin_), out.data() + first, lo, hi, b0, g0, g1);
  out_next_ = hi;
}

}  // namespace wisp::audio
