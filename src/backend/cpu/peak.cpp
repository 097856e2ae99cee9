#include "backend/cpu/peak.h"

#include <immintrin.h>

#include <atomic>
#include <chrono>

#include "backend/cpu/threads.h"

namespace wisp::backend::cpu {
namespace {

// Something the compiler cannot prove unused.
std::atomic<double> g_sink{0};

}  // namespace

// 12 independent accumulators: more than FMA latency × throughput on any current core.
double peak_loop_fma256(long iters) {
  __m256 a[12];
  for (int i = 0; i < 12; ++i) a[i] = _mm256_set1_ps(0.001f * i);
  const __m256 b = _mm256_set1_ps(0.999f), c = _mm256_set1_ps(1e-4f);
  for (long it = 0; it < iters; ++it)
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) a[i] = _mm256_fmadd_ps(a[i], b, c);
  __m256 s = a[0];
  for (int i = 1; i < 12; ++i) s = _mm256_add_ps(s, a[i]);
  g_sink.store(_mm256_cvtss_f32(s), std::memory_order_relaxed);
  return static_cast<double>(iters) * 12 * 8 * 2;
}

// The int8 sequence of the AVX2 kernel: sign, maddubs, madd, add per 8 lanes × 4 pairs.
double peak_loop_maddubs256(long iters) {
  __m256i a[8];
  for (int i = 0; i < 8; ++i) a[i] = _mm256_setzero_si256();
  const __m256i x = _mm256_set1_epi8(3), w = _mm256_set1_epi8(-2), ones = _mm256_set1_epi16(1);
  for (long it = 0; it < iters; ++it)
#pragma GCC unroll 8
    for (int i = 0; i < 8; ++i)
      a[i] = _mm256_add_epi32(
          a[i],
          _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(w, x)), ones));
  __m256i s = a[0];
  for (int i = 1; i < 8; ++i) s = _mm256_add_epi32(s, a[i]);
  g_sink.store(_mm256_extract_epi32(s, 0), std::memory_order_relaxed);
  return static_cast<double>(iters) * 8 * 32 * 2;
}

PeakProbe measure_peak(ComputeType type, Isa isa, int threads, double seconds) {
  PeakProbe p;
  if (!isa_supported(isa)) return p;  // (also makes sure the probe, and so the AMX permission, came first)
  double (*loop)(long) = nullptr;
  const bool avx512 = static_cast<int>(isa) >= static_cast<int>(Isa::Avx512);
  switch (type) {
    case ComputeType::Int8:
      if (isa == Isa::Amx) {
        loop = &peak_loop_amx_int8;
        p.instruction = "tdpbssd (AMX int8)";
      } else if (isa == Isa::Avx512Vnni || isa == Isa::Avx512Bf16) {
        loop = &peak_loop_vnni512;
        p.instruction = "vpdpbusd (AVX-512 VNNI)";
      } else {
        loop = &peak_loop_maddubs256;
        p.instruction = "vpmaddubsw+vpmaddwd (AVX2)";
      }
      break;
    case ComputeType::Bfloat16:
      if (isa == Isa::Amx) {
        loop = &peak_loop_amx_bf16;
        p.instruction = "tdpbf16ps (AMX bf16)";
        break;
      }
      if (isa == Isa::Avx512Bf16) {
        loop = &peak_loop_bf16_512;
        p.instruction = "vdpbf16ps (AVX-512 BF16)";
        break;
      }
      [[fallthrough]];  // bf16 widened to fp32: the FMA rate
    case ComputeType::Float32:
    case ComputeType::Auto:
      loop = avx512 ? &peak_loop_fma512 : &peak_loop_fma256;
      p.instruction = avx512 ? "vfmadd (AVX-512 fp32)" : "vfmadd (AVX2 fp32)";
      break;
  }
  // Calibrate on one thread, then time every thread running the same number of rounds.
  using Clock = std::chrono::steady_clock;
  long iters = 1000;
  for (;;) {
    const auto t0 = Clock::now();
    loop(iters);
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    if (s > seconds / 10 || iters > (1L << 40)) {
      iters = static_cast<long>(iters * (seconds / 2) / std::max(s, 1e-9)) + 1;
      break;
    }
    iters *= 4;
  }
  double best = 0;
  for (int rep = 0; rep < 2; ++rep) {
    std::atomic<double> ops{0};
    const auto t0 = Clock::now();
    parallel_for(threads, threads, [&](int) {
      const double o = loop(iters);
      double cur = ops.load();
      while (!ops.compare_exchange_weak(cur, cur + o)) {
      }
    });
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    best = std::max(best, ops.load() / s / 1e9);
  }
  p.gops = best;
  return p;
}

}  // namespace wisp::backend::cpu
