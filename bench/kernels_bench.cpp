// Kernel benchmarks (Google Benchmark): each hand-written kernel against the library path it replaces,
// on the shapes wisp runs. A kernel stays only while it wins here.
//   build/bench/wisp_kernel_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <immintrin.h>

#include <random>
#include <vector>

#include "kernels/ops.h"

namespace {

struct Operands {
  std::vector<float> x, w, b, y;
  std::vector<uint16_t> w16;
  Operands(int M, int K, int N)
      : x(static_cast<size_t>(M) * K),
        w(static_cast<size_t>(N) * K),
        b(N),
        y(static_cast<size_t>(M) * N),
        w16(w.size()) {
    std::mt19937 rng(1);
    std::normal_distribution<float> d(0.0f, 0.05f);
    for (auto& v : x) v = d(rng);
    for (size_t i = 0; i < w.size(); ++i) {
      w16[i] = _cvtss_sh(d(rng), 0);
      w[i] = _cvtsh_ss(w16[i]);
    }
  }
};

// y(M, N) = x(M, K) · Wᵀ: decoder steps (M = beams) on the output projection (N = vocabulary) and on a layer.
void BM_LinearBlasF32(benchmark::State& state) {
  const int M = static_cast<int>(state.range(0)), K = static_cast<int>(state.range(1)),
            N = static_cast<int>(state.range(2));
  Operands o(M, K, N);
  for (auto _ : state) {
    wisp::kernels::gemm(false, true, M, N, K, 1.0f, o.x.data(), K, o.w.data(), K, 0.0f, o.y.data(), N);
    benchmark::DoNotOptimize(o.y.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(o.w.size()) * 4);
}

void BM_LinearStreamF16(benchmark::State& state) {
  const int M = static_cast<int>(state.range(0)), K = static_cast<int>(state.range(1)),
            N = static_cast<int>(state.range(2));
  Operands o(M, K, N);
  for (auto _ : state) {
    wisp::kernels::linear_f16(o.x.data(), M, K, o.w16.data(), nullptr, N, o.y.data());
    benchmark::DoNotOptimize(o.y.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(o.w16.size()) * 2);
}

void Shapes(benchmark::internal::Benchmark* b) {
  for (int M : {1, 5}) {
    b->Args({M, 384, 51864});  // tiny.en output projection
    b->Args({M, 384, 1536});   // tiny decoder MLP up-projection
    b->Args({M, 512, 51865});  // base output projection
  }
}

BENCHMARK(BM_LinearBlasF32)->Apply(Shapes)->UseRealTime();
BENCHMARK(BM_LinearStreamF16)->Apply(Shapes)->UseRealTime();

// softmax over encoder attention rows (1500 keys)
void BM_SoftmaxRows(benchmark::State& state) {
  std::vector<float> x(static_cast<size_t>(1500) * 1500);
  std::mt19937 rng(2);
  std::normal_distribution<float> d(0.0f, 3.0f);
  for (auto& v : x) v = d(rng);
  std::vector<float> work = x;
  for (auto _ : state) {
    state.PauseTiming();
    work = x;
    state.ResumeTiming();
    if (state.range(0))
      wisp::kernels::softmax_rows(work.data(), 1500, 1500);
    else
      wisp::kernels::ref::softmax_rows(work.data(), 1500, 1500);
  }
}
BENCHMARK(BM_SoftmaxRows)->Arg(0)->Arg(1)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  wisp::kernels::set_num_threads(2);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
