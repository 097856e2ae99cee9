#include "vad/lstm_recurrence.h"

#include <immintrin.h>

#include <atomic>
#include <cmath>
#include <vector>

#include "backend/cpu/simd_avx2.h"
#include "backend/cpu/threads.h"

namespace wisp::vad {
namespace {

constexpr int kGates = 4 * kHidden;
constexpr int kHalf = kHidden / 2;  // hidden units per half-step
// Pauses a thread waits for the other to claim its half-step before taking it (~2 µs: a step's length).
constexpr int kGraceSpins = 32;

// σ(x) and tanh(x) on 8 lanes, from e = exp(−|x|) (no overflow for any finite x; absolute error ~1e-7).
__m256 sigmoid8(__m256 x) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256 e = backend::cpu::avx2::exp_nonpos(_mm256_or_ps(x, sign));  // exp(−|x|)
  const __m256 r = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_add_ps(_mm256_set1_ps(1.0f), e));
  return _mm256_blendv_ps(r, _mm256_mul_ps(e, r), x);  // x < 0 (sign bit set): e / (1 + e)
}
__m256 tanh8(__m256 x) {
  const __m256 sign = _mm256_set1_ps(-0.0f), one = _mm256_set1_ps(1.0f);
  const __m256 e = backend::cpu::avx2::exp_nonpos(_mm256_or_ps(_mm256_add_ps(x, x), sign));  // exp(−2|x|)
  const __m256 t = _mm256_div_ps(_mm256_sub_ps(one, e), _mm256_add_ps(one, e));
  return _mm256_or_ps(t, _mm256_and_ps(x, sign));
}

float hsum(__m256 v) {
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, v);
  float sum = 0.0f;
  for (float x : lanes) sum += x;
  return sum;
}

struct alignas(64) Counter {
  std::atomic<int> value{0};
};

struct Shared {
  const LstmBlock* block = nullptr;
  alignas(64) float h[2][kHidden];  // the state after step s − 1 in h[s % 2]
  Counter claimed[2];               // per half: the next step to claim
  Counter done[2];                  // per half: steps finished
  Counter present[2];               // the thread that prefers this half has come
  float* partial[2] = {};           // per half and window: its units' share of the logit
};

// Half j of step s: units [64j, 64j + 64) — their four gates (+= W_hh · h), cell and output.
void half_step(Shared& sh, int j, int s) {
  const LstmBlock& b = *sh.block;
  const float* h = sh.h[s % 2];
  float* h_next = sh.h[(s + 1) % 2];
  float* g = b.gates + static_cast<size_t>(s) * kGates;
  for (int gate = 0; gate < 4; ++gate) {
    const int j0 = gate * kHidden + j * kHalf;  // 64 gates in 8 registers
    const float* panel = b.w_hh + static_cast<size_t>(j * 4 + gate) * kHidden * kHalf;
    __m256 acc[8];
    for (int r = 0; r < 8; ++r) acc[r] = _mm256_loadu_ps(g + j0 + 8 * r);
    for (int k = 0; k < kHidden; ++k) {
      const __m256 hk = _mm256_broadcast_ss(h + k);
      const float* w = panel + static_cast<size_t>(k) * kHalf;
      for (int r = 0; r < 8; ++r) acc[r] = _mm256_fmadd_ps(hk, _mm256_loadu_ps(w + 8 * r), acc[r]);
    }
    for (int r = 0; r < 8; ++r) _mm256_storeu_ps(g + j0 + 8 * r, acc[r]);
  }
  __m256 logit = _mm256_setzero_ps();
  for (int u = j * kHalf; u < (j + 1) * kHalf; u += 8) {
    const __m256 in_gate = sigmoid8(_mm256_loadu_ps(g + u));
    const __m256 forget = sigmoid8(_mm256_loadu_ps(g + kHidden + u));
    const __m256 cell = tanh8(_mm256_loadu_ps(g + 2 * kHidden + u));
    const __m256 out_gate = sigmoid8(_mm256_loadu_ps(g + 3 * kHidden + u));
    const __m256 cv = _mm256_fmadd_ps(forget, _mm256_loadu_ps(b.c + u), _mm256_mul_ps(in_gate, cell));
    const __m256 hv = _mm256_mul_ps(out_gate, tanh8(cv));
    _mm256_storeu_ps(b.c + u, cv);
    _mm256_storeu_ps(h_next + u, hv);
    logit = _mm256_fmadd_ps(_mm256_max_ps(hv, _mm256_setzero_ps()), _mm256_loadu_ps(b.out_w + u), logit);
  }
  sh.partial[j][s] = hsum(logit);
}

// Waits until half j has finished `steps` steps. Half j is the other thread's (`mine` is this thread's
// half): its unclaimed steps are taken here when that thread has not come, or has not claimed them after a
// grace. Every step this waits for is claimed, so a live thread is working on it.
void await(Shared& sh, int j, int steps, int mine) {
  std::atomic<int>& done = sh.done[j].value;
  int spins = 0;
  while (done.load(std::memory_order_acquire) < steps) {
    if (j != mine && (++spins > kGraceSpins || !sh.present[j].value.load(std::memory_order_acquire))) {
      std::atomic<int>& claimed = sh.claimed[j].value;
      int s = claimed.load(std::memory_order_acquire);
      if (s < steps && claimed.compare_exchange_strong(s, s + 1, std::memory_order_acq_rel)) {
        // Its inputs: the step before, both halves (claimed, so being finished by a live thread).
        while (sh.done[0].value.load(std::memory_order_acquire) < s ||
               sh.done[1].value.load(std::memory_order_acquire) < s)
          _mm_pause();
        half_step(sh, j, s);
        done.store(s + 1, std::memory_order_release);
        spins = 0;
        continue;
      }
    }
    _mm_pause();
  }
}

// One thread's share, preferring half `mine`: its half-steps in order, each after the other half's step
// before it (taken over when its thread is missing), then the other half's last steps.
void run(Shared& sh, int mine) {
  sh.present[mine].value.store(1, std::memory_order_release);
  const int n = sh.block->n, other = 1 - mine;
  std::atomic<int>& claimed = sh.claimed[mine].value;
  for (;;) {
    int s = claimed.load(std::memory_order_acquire);
    if (s >= n) break;
    if (!claimed.compare_exchange_strong(s, s + 1, std::memory_order_acq_rel)) continue;
    await(sh, mine, s, mine);  // the other thread took the step before over: it is finishing it
    await(sh, other, s, mine);
    half_step(sh, mine, s);
    sh.done[mine].value.store(s + 1, std::memory_order_release);
  }
  await(sh, other, n, mine);
}

}  // namespace

std::vector<float> pack_recurrent_weights(const float* w_hh) {
  std::vector<float> packed(static_cast<size_t>(kGates) * kHidden);
  float* out = packed.data();
  for (int j = 0; j < 2; ++j)
    for (int gate = 0; gate < 4; ++gate)
      for (int k = 0; k < kHidden; ++k)
        for (int u = 0; u < kHalf; ++u)
          *out++ = w_hh[static_cast<size_t>(gate * kHidden + j * kHalf + u) * kHidden + k];
  return packed;
}

void lstm_recurrence(const LstmBlock& block, int threads) {
  if (block.n <= 0) return;
  std::vector<float> partial(2 * static_cast<size_t>(block.n));
  Shared sh;
  sh.block = &block;
  std::copy(block.h, block.h + kHidden, sh.h[0]);
  sh.partial[0] = partial.data();
  sh.partial[1] = partial.data() + block.n;
  backend::cpu::parallel_for(std::min(threads, 2), 2, [&](int half) { run(sh, half); });
  std::copy(sh.h[block.n % 2], sh.h[block.n % 2] + kHidden, block.h);
  for (int s = 0; s < block.n; ++s) {
    const float logit = block.out_b + sh.partial[0][s] + sh.partial[1][s];
    block.probs[s] = 1.0f / (1.0f + std::exp(-logit));
  }
}

}  // namespace wisp::vad
