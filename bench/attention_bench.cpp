// The CPU backend's attention — each ISA level this machine runs × the KV-cache type each compute type
// gets (fp32, or bf16 where the CPU has AVX-512 BF16; int4 for the batched decoder's cross-attention from
// VNNI up) — on Whisper's two attention shapes:
//
//   enc_self:  1500 query rows over 1500 keys per head, every key visible (one encoder layer of a 30-s
//              window); compute-bound: GFLOP/s counts scores and the value product (4 · Tq · Tk · head_dim
//              per head).
//   dec_self:  a decoder step's self-attention: W sequences (or beam groups) with R rows each over 100
//              earlier tokens.
//   dec_cross: a decoder step's cross-attention over 1500 audio keys for W windows in flight with R rows
//              each (beams); bound by reading the windows' keys and values: GB/s counts those bytes once
//              per window.
//
//   build/bench/wisp_attention_bench [--benchmark_filter=enc_self] [--benchmark_repetitions=3]
//   WISP_BENCH_THREADS=2 (default: all cores this process may use)
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "backend/compute_type.h"
#include "backend/cpu/attention.h"
#include "backend/cpu/isa.h"
#include "backend/cpu/threads.h"
#include "bench_common.h"

namespace {

using wisp::bench::bench_threads;
using wisp::bench::random;

using namespace wisp::backend;
using cpu::Isa;

struct Case {
  std::string name;
  int heads;          // head_dim 64
  int windows;        // jobs, each with its own cache
  int rows;           // query rows per job
  int keys = 1500;    // audio positions of a 30-s window
  bool self = false;  // a decoder step's self-attention over `keys` earlier tokens
  bool encoder() const { return rows == keys; }
  KvUse use() const { return encoder() || self ? KvUse::SelfAttention : KvUse::CrossAttentionBatched; }
};

std::vector<Case> cases() {
  std::vector<Case> out;
  for (auto [model, heads] : {std::pair{"tiny", 6}, std::pair{"base", 8}, std::pair{"small", 12}}) {
    const std::string m = model;
    out.push_back({m + "/enc_self", heads, 1, 1500});
    for (auto [w, r] : {std::pair{1, 1}, std::pair{8, 1}, std::pair{1, 5}, std::pair{8, 5}})
      out.push_back({m + "/dec_cross_W" + std::to_string(w) + "_R" + std::to_string(r), heads, w, r});
    for (auto [w, r] : {std::pair{8, 1}, std::pair{1, 5}, std::pair{8, 5}})
      out.push_back({m + "/dec_self_W" + std::to_string(w) + "_R" + std::to_string(r) + "_K100", heads, w, r,
                     100, true});
  }
  return out;
}

void run(benchmark::State& state, Case c, ComputeType type, Isa isa) {
  const int D = c.heads * 64;
  auto backend = make_cpu_backend(type, isa);
  Workspace ws;
  Exec ex{bench_threads(), &ws};
  const auto kv = random(static_cast<size_t>(c.keys) * D, 1.0f, 1),
             q = random(static_cast<size_t>(c.rows) * D, 1.0f, 2);
  std::vector<std::unique_ptr<KvCache>> caches;
  std::vector<std::vector<float>> outs;
  std::vector<AttentionJob> jobs;
  for (int w = 0; w < c.windows; ++w) {
    caches.push_back(backend->make_kv_cache(c.keys, D, c.heads, c.use()));
    backend->kv_write(ex, *caches.back(), 0, f32_view(kv.data(), c.keys, D), f32_view(kv.data(), c.keys, D));
    outs.emplace_back(static_cast<size_t>(c.rows) * D);
  }
  for (int w = 0; w < c.windows; ++w)
    jobs.push_back({f32_view(q.data(), c.rows, D), caches[w].get(), c.keys, 0,
                    f32_view(outs[w].data(), c.rows, D), nullptr});
  const AttentionShape shape{c.heads, 64, false};
  for (auto _ : state) {
    backend->attention(ex, jobs.data(), c.windows, shape);
    benchmark::DoNotOptimize(outs[0].data());
  }
  const double flops = 4.0 * c.windows * c.rows * c.keys * 64.0 * c.heads;
  state.counters["GFLOP/s"] = benchmark::Counter(flops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  if (!c.encoder()) {
    // int4, int8, bf16 or fp32, as the backend chose for this level and type (the scales not counted)
    const cpu::KvFormat format = static_cast<const cpu::CpuKvCache&>(*caches[0]).format;
    const double elem = format == cpu::KvFormat::I4     ? 0.5
                        : format == cpu::KvFormat::I8   ? 1
                        : format == cpu::KvFormat::Bf16 ? 2
                                                        : 4;
    const double bytes = 2.0 * c.windows * c.keys * D * elem;  // keys and values, read once per window
    state.counters["GB/s"] = benchmark::Counter(bytes / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  }
}

int register_all() {
  for (const Case& c : cases())
    for (int i = 0; i < cpu::kIsaCount; ++i) {
      const auto isa = static_cast<Isa>(i);
      if (!cpu::isa_supported(isa)) continue;
      for (ComputeType t : {ComputeType::Float32, ComputeType::Int8})
        benchmark::RegisterBenchmark((c.name + "/" + compute_type_name(t) + "_" + cpu::isa_name(isa)).c_str(),
                                     run, c, t, isa)
            ->UseRealTime()
            ->Unit(benchmark::kMicrosecond);
    }
  return 0;
}

const int registered = register_all();

}  // namespace

BENCHMARK_MAIN();
