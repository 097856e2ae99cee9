// Every GEMM variant of the CPU backend — each ISA level this machine runs × float32 / bfloat16 / int8 — on
// Whisper's Linear shapes, against oneDNN's matmul (weights reordered once, like ours) and OpenBLAS's sgemm.
// A kernel stays only while it earns its place here.
//
//   build/bench/wisp_gemm_bench [--benchmark_filter=tiny] [--benchmark_repetitions=3]
//   WISP_BENCH_THREADS=2 (default: all cores this process may use)
//
// Shapes (M rows × K inputs → N outputs), per model width D (tiny 384, base 512, small 768; F = 4D):
//   encoder, M = 1500: qkv (K = D, N = 3D), fc1 (K = D, N = F), fc2 (K = F, N = D); conv1: M = 3000, K = 240
//   decoder, M = 1-5, 8 (beams, windows), 32 and 40 (8 windows of 5 beams): fc1 (K = D, N = F) and the
//   vocabulary projection (K = D, N = 51865)
// Counters: GFLOP/s (a multiply-add counted as 2) and pct_peak, the share of the measured peak of the
// variant's data type at its ISA level (peers: at the best level). Our timings include quantizing or
// converting the activations and the fp32 epilogue; oneDNN's int8 and bf16 get their inputs already
// quantized / converted (untimed), so the comparison favours oneDNN there.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "backend/buffer.h"
#include "backend/compute_type.h"
#include "backend/cpu/gemm.h"
#include "backend/cpu/isa.h"
#include "backend/cpu/peak.h"
#include "backend/cpu/threads.h"
#include "bench_common.h"

#ifdef WISP_BENCH_OPENBLAS
#include <cblas.h>
extern "C" void openblas_set_num_threads(int);
#endif
#ifdef WISP_BENCH_DNNL
#include <omp.h>

#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace {

using wisp::bench::bench_threads;
using wisp::bench::random;

using wisp::backend::ComputeType;
using wisp::backend::cpu::Isa;
namespace cpu = wisp::backend::cpu;

struct Shape {
  std::string name;
  int M, K, N;
};

std::vector<Shape> shapes() {
  std::vector<Shape> out;
  for (auto [model, D] : {std::pair{"tiny", 384}, std::pair{"base", 512}, std::pair{"small", 768}}) {
    const int F = 4 * D;
    const std::string m = model;
    out.push_back({m + "/enc_qkv", 1500, D, 3 * D});
    out.push_back({m + "/enc_fc1", 1500, D, F});
    out.push_back({m + "/enc_fc2", 1500, F, D});
    out.push_back({m + "/conv1", 3000, 240, D});
    for (int rows : {1, 2, 3, 4, 5, 8, 32, 40}) {
      out.push_back({m + "/dec_fc1_M" + std::to_string(rows), rows, D, F});
      out.push_back({m + "/dec_proj_M" + std::to_string(rows), rows, D, 51865});
    }
  }
  return out;
}

// Measured once per (type, ISA level) at the benchmark's thread count.
double peak(ComputeType t, Isa isa) {
  static std::map<std::pair<int, int>, double> cache;
  auto key = std::make_pair(static_cast<int>(t), static_cast<int>(isa));
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  return cache[key] = cpu::measure_peak(t, isa, bench_threads(), 0.3).gops;
}

void report(benchmark::State& state, const Shape& s, double peak_gops) {
  const double flops = 2.0 * s.M * s.K * s.N;
  state.counters["GFLOP/s"] = benchmark::Counter(flops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["pct_peak"] =
      benchmark::Counter(100.0 * flops / 1e9 / peak_gops, benchmark::Counter::kIsIterationInvariantRate);
}

void ours(benchmark::State& state, Shape s, ComputeType type, Isa isa) {
  const auto W = random(static_cast<size_t>(s.N) * s.K, 0.05f, 1);
  // Activations in the library's own buffers (2 MB pages when large), as the encoder keeps them.
  wisp::backend::Buffer xb(sizeof(float) * s.M * s.K), yb(sizeof(float) * s.M * s.N);
  {
    const auto x0 = random(static_cast<size_t>(s.M) * s.K, 1.0f, 2);
    std::copy(x0.begin(), x0.end(), xb.as<float>());
  }
  const std::span<const float> x(xb.as<float>(), static_cast<size_t>(s.M) * s.K);
  const std::span<float> y(yb.as<float>(), static_cast<size_t>(s.M) * s.N);
  wisp::backend::Workspace ws;
  const wisp::backend::Exec ex{bench_threads(), &ws};
  cpu::PackedF32 f32;
  cpu::PackedBf16 bf16;
  cpu::PackedI8 i8;
  if (type == ComputeType::Float32) f32 = cpu::pack_f32(s.N, s.K, W.data());
  if (type == ComputeType::Bfloat16) bf16 = cpu::pack_bf16(s.N, s.K, W.data());
  if (type == ComputeType::Int8) i8 = cpu::pack_i8(s.N, s.K, W.data());
  for (auto _ : state) {
    if (type == ComputeType::Float32)
      cpu::gemm_f32(ex, isa, x.data(), s.M, s.K, f32.view(), {}, y.data(), s.N);
    if (type == ComputeType::Bfloat16)
      cpu::gemm_bf16(ex, isa, x.data(), s.M, s.K, bf16.view(), {}, y.data(), s.N);
    if (type == ComputeType::Int8) cpu::gemm_i8(ex, isa, x.data(), s.M, s.K, i8.view(), {}, y.data(), s.N);
    benchmark::DoNotOptimize(y.data());
  }
  report(state, s, peak(type, isa));
}

#ifdef WISP_BENCH_OPENBLAS
void openblas(benchmark::State& state, Shape s) {
  const auto W = random(static_cast<size_t>(s.N) * s.K, 0.05f, 1),
             x = random(static_cast<size_t>(s.M) * s.K, 1.0f, 2);
  std::vector<float> y(static_cast<size_t>(s.M) * s.N);
  openblas_set_num_threads(bench_threads());
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s.M, s.N, s.K, 1.0f, x.data(), s.K, W.data(), s.K,
                0.0f, y.data(), s.N);
    benchmark::DoNotOptimize(y.data());
  }
  report(state, s, peak(ComputeType::Float32, cpu::cpu_info().best));
}
#endif

#ifdef WISP_BENCH_DNNL
// dst(M, N) = src(M, K) · weights(K, N), weights in the layout oneDNN prefers (reordered once).
void onednn(benchmark::State& state, Shape s, ComputeType type) {
  using namespace dnnl;
  using dt = memory::data_type;
  omp_set_num_threads(bench_threads());
  engine eng(engine::kind::cpu, 0);
  stream strm(eng);
  const dt src_t = type == ComputeType::Int8 ? dt::u8 : type == ComputeType::Bfloat16 ? dt::bf16 : dt::f32;
  const dt wei_t = type == ComputeType::Int8 ? dt::s8 : src_t;
  const dt dst_t = type == ComputeType::Int8 ? dt::s32 : dt::f32;
  const memory::dims sd{s.M, s.K}, wd{s.K, s.N}, dd{s.M, s.N};
  auto src_md = memory::desc(sd, src_t, memory::format_tag::ab);
  auto wei_any = memory::desc(wd, wei_t, memory::format_tag::any);
  auto dst_md = memory::desc(dd, dst_t, memory::format_tag::ab);
  matmul::primitive_desc pd;
  try {
    pd = matmul::primitive_desc(matmul::desc(src_md, wei_any, dst_md), eng);
  } catch (const dnnl::error& e) {
    state.SkipWithError(e.what());
    return;
  }
  memory src(src_md, eng), dst(dst_md, eng), wei(pd.weights_desc(), eng);
  {  // weights: f32 (K, N) → the requested type in oneDNN's layout
    const auto W = random(static_cast<size_t>(s.N) * s.K, 0.05f, 1);
    std::vector<float> wkn(W.size());
    for (int n = 0; n < s.N; ++n)
      for (int k = 0; k < s.K; ++k)
        wkn[static_cast<size_t>(k) * s.N + n] = W[static_cast<size_t>(n) * s.K + k];
    memory wf32({wd, dt::f32, memory::format_tag::ab}, eng, wkn.data());
    if (type == ComputeType::Int8) {
      primitive_attr attr;
      attr.set_output_scales(0, {127.0f / 0.25f});
      reorder(reorder::primitive_desc(wf32, wei, attr)).execute(strm, wf32, wei);
    } else {
      reorder(wf32, wei).execute(strm, wf32, wei);
    }
    const auto x = random(static_cast<size_t>(s.M) * s.K, 1.0f, 2);
    memory xf32({sd, dt::f32, memory::format_tag::ab}, eng, const_cast<float*>(x.data()));
    reorder(xf32, src).execute(strm, xf32, src);
    strm.wait();
  }
  matmul mm(pd);
  for (auto _ : state) {
    mm.execute(strm, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}});
    strm.wait();
  }
  report(state, s, peak(type, cpu::cpu_info().best));
}
#endif

const char* type_name(ComputeType t) { return wisp::backend::compute_type_name(t); }

int register_all() {
  for (const Shape& s : shapes()) {
    for (int i = 0; i < cpu::kIsaCount; ++i) {
      const auto isa = static_cast<Isa>(i);
      if (!cpu::isa_supported(isa)) continue;
      for (ComputeType t : {ComputeType::Float32, ComputeType::Bfloat16, ComputeType::Int8})
        benchmark::RegisterBenchmark((s.name + "/wisp_" + type_name(t) + "_" + cpu::isa_name(isa)).c_str(),
                                     ours, s, t, isa)
            ->UseRealTime()
            ->Unit(benchmark::kMicrosecond);
    }
#ifdef WISP_BENCH_DNNL
    for (ComputeType t : {ComputeType::Float32, ComputeType::Bfloat16, ComputeType::Int8})
      benchmark::RegisterBenchmark((s.name + "/onednn_" + type_name(t)).c_str(), onednn, s, t)
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
#endif
#ifdef WISP_BENCH_OPENBLAS
    benchmark::RegisterBenchmark((s.name + "/openblas_float32").c_str(), openblas, s)
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
#endif
  }
  return 0;
}

const int registered = register_all();

}  // namespace

BENCHMARK_MAIN();
