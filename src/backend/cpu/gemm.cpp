// Dispatch for gemm.h: quantize or convert the activations once, then hand blocks of the output to the
// kernel of the requested ISA level on the context's threads.
#include "backend/cpu/gemm.h"

#include <algorithm>
#include <vector>

#include "backend/cpu/elementwise.h"
#include "backend/cpu/gemm_kernels.h"
#include "backend/cpu/threads.h"

namespace wisp::backend::cpu {
namespace {

constexpr int kBlockRows = 96;  // a multiple of every kernel's row tile (AMX 32, VNNI/BF16 6, AVX2 4)
constexpr int kBlockCols = 64;  // a multiple of every kernel's column tile (16, 32, 64)
constexpr int kQuantRows = 64;  // rows per quantization task

int round_up(int x, int m) { return (x + m - 1) / m * m; }

// A level the machine runs (asking for more falls back to the best it has). The probe also obtains the
// AMX permission, so this must run before any tile instruction.
Isa runnable(Isa isa) { return isa_supported(isa) ? isa : cpu_info().best; }

// Rows [m0, m0 + rows) of x to the kernels' operand, by `convert(src, n, ld_src, dst)` on n rows: as they
// are, or layer-normalised one at a time through a buffer on the stack (rows of Whisper's widths, ≤ 1280;
// wider ones through the heap).
template <typename Convert>
void operand_rows(Isa isa, const float* x, int ldx, int m0, int rows, int K, const RowNorm* norm,
                  Convert&& convert) {
  const float* src = x + static_cast<size_t>(m0) * ldx;
  if (!norm) {
    convert(src, rows, ldx, 0);
    return;
  }
  constexpr int kStackCols = 2048;
  alignas(64) float stack[kStackCols];
  const bool avx512 = static_cast<int>(isa) >= static_cast<int>(Isa::Avx512);
  std::vector<float> heap(K > kStackCols ? K : 0);
  float* buf = K > kStackCols ? heap.data() : stack;
  for (int r = 0; r < rows; ++r) {
    (avx512 ? layer_norm_row_avx512 : layer_norm_row)(src + static_cast<size_t>(r) * ldx, K, norm->gamma,
                                                      norm->beta, buf);
    convert(buf, 1, K, r);
  }
}

// Tasks: output blocks, column-block major, so that threads working at the same time share weight panels.
template <typename Run>
void for_blocks(const Exec& ex, int M, int Np, Run&& run) {
  const int mb = (M + kBlockRows - 1) / kBlockRows, nb = (Np + kBlockCols - 1) / kBlockCols;
  parallel_for(ex.threads, mb * nb, [&](int t) {
    const int n0 = (t / mb) * kBlockCols, m0 = (t % mb) * kBlockRows;
    run(m0, std::min(M, m0 + kBlockRows), n0, std::min(Np, n0 + kBlockCols));
  });
}

// Tasks for the AMX kernels: bands of 32 rows across many columns, which the kernel writes row after row.
// The tiles multiply a shallow product (Whisper's K = 384-1280) faster than its fp32 output can be
// written, so the output's writes set the pace, and long runs of a row keep them sequential (a 2-core
// Xeon, one thread, tiny's qkv shape: 1.66 → 2.64 TOP/s against 32-column strips). A band's columns are
// capped so that their weights (read again for every band) stay in half of a 2 MB L2, and the bands of
// one column range run one after another; columns are split further to leave each thread a few tasks.
// A few rows (a decoder step: beams of several windows) times weights larger than the cores' L2 together
// (the vocabulary projection: 20 MB for tiny.en) go in one task per column range, every band of it on the
// same thread: the weights come from memory, and the later bands read them from that core's L2 (as
// separate tasks on two cores, each read them from memory). wisp_gemm_bench, int8 AMX, 40 rows: tiny's
// dec_proj 886-962 -> 809-833 us, base's 1121-1185 -> 1005-1037 us. Smaller weights stay in the caches,
// and their 32-row tasks balance better (tiny's dec_fc1 at 40 rows in one task per range: 22.6-24.4 ->
// 26.7-28.7 us).
template <typename Run>
void for_bands(const Exec& ex, int M, int Np, size_t column_bytes, Run&& run) {
  constexpr int kBandRows = 32, kSharedBandRows = 128, kTasksPerThread = 4;
  constexpr size_t kBandWeightBytes = size_t{1} << 20, kStreamedWeightBytes = size_t{4} << 20;
  const bool streamed = static_cast<size_t>(Np) * column_bytes > kStreamedWeightBytes;
  const int task_rows = streamed && M <= kSharedBandRows ? std::max(M, 1) : kBandRows;
  const int mb = (M + task_rows - 1) / task_rows, col_blocks = (Np + 31) / 32;
  const int fit = static_cast<int>(std::max<size_t>(1, kBandWeightBytes / (32 * column_bytes)));
  const int splits = std::clamp((kTasksPerThread * std::max(1, ex.threads) + mb - 1) / mb,
                                (col_blocks + fit - 1) / fit, col_blocks);
  const int band_cols = (col_blocks + splits - 1) / splits * 32;
  const int nb = (Np + band_cols - 1) / band_cols;
  parallel_for(ex.threads, mb * nb, [&](int t) {
    const int n0 = (t / mb) * band_cols, m0 = (t % mb) * task_rows;
    run(m0, std::min(M, m0 + task_rows), n0, std::min(Np, n0 + band_cols));
  });
}

}  // namespace

void quantize_operand_rows(Isa isa, const float* x, int ldx, int m0, int rows, int K, const RowNorm* norm,
                           int8_t* q, int ldq, float* scale, bool shift) {
  const bool avx512 = static_cast<int>(isa) >= static_cast<int>(Isa::Avx512);
  operand_rows(isa, x, ldx, m0, rows, K, norm, [&](const float* src, int n, int ld, int r) {
    (avx512 ? quantize_rows_i8_avx512 : quantize_rows_i8)(
        src, n, K, ld, q + static_cast<size_t>(m0 + r) * ldq, ldq, scale + m0 + r, shift);
  });
}

I8Kernel i8_kernel(Isa isa, bool* unsigned_activations) {
  *unsigned_activations = false;
  switch (runnable(isa)) {
    case Isa::Amx:
      return &gemm_i8_amx;
    case Isa::Avx512Bf16:
    case Isa::Avx512Vnni:
      *unsigned_activations = true;
      return &gemm_i8_avx512_vnni;
    case Isa::Avx512:
    case Isa::Avx2:
      break;
  }
  return &gemm_i8_avx2;
}

Bf16Kernel bf16_kernel(Isa isa) {
  switch (runnable(isa)) {
    case Isa::Amx:
      return &gemm_bf16_amx;
    case Isa::Avx512Bf16:
      return &gemm_bf16_avx512_bf16;
    default:
      return &gemm_bf16_avx2;
  }
}

F32Kernel f32_kernel(Isa isa) {
  return static_cast<int>(runnable(isa)) >= static_cast<int>(Isa::Avx512) ? &gemm_f32_avx512 : &gemm_f32_avx2;
}

void gemm_f32(const Exec& ex, Isa isa, const float* x, int M, int ldx, const PackedView& w,
              const Epilogue& ep, float* y, int ldy) {
  if (M <= 0 || w.N <= 0) return;
  F32Block b;
  b.a = x;
  b.lda = ldx;
  b.w = w;
  b.ep = ep;
  b.y = y;
  b.ldy = ldy;
  b.M = M;
  const F32Kernel kernel = f32_kernel(isa);
  for_blocks(ex, M, w.Np, [&](int m0, int m1, int n0, int n1) { kernel(b, m0, m1, n0, n1); });
}

void gemm_i8(const Exec& ex, Isa isa, const float* x, int M, int ldx, const PackedView& w, const Epilogue& ep,
             float* y, int ldy, const RowNorm* norm) {
  if (M <= 0 || w.N <= 0) return;
  isa = runnable(isa);
  // AMX runs a few rows in tiles of that many rows (amx_tiles.h), and from 3 rows on that beats vpdpbusd;
  // below, the tile instructions' fixed costs do not pay (kernel bench, dec_fc1 of tiny / base: M = 1
  // 8.2 / 14.9 µs AMX against 6.5 / 12.0 VNNI, M = 2 9.1-10.3 / 13.6-14.9 against 8.0-8.2 / 12.8-14.4,
  // M = 3 9.7 / 14.3-14.7 against 10.1-11.3 / 15.6-17.7, M = 5 10.4 / 15.8 against 13.8 / 22.8).
  if (isa == Isa::Amx && M < 3) isa = Isa::Avx512Bf16;
  const int Mp = round_up(M, 32);
  int8_t* q = ex.ws->get<int8_t>(Workspace::kActQuant, static_cast<size_t>(Mp) * w.Kp);
  float* scale = ex.ws->get<float>(Workspace::kActScale, static_cast<size_t>(Mp));
  bool shift = false;
  const I8Kernel kernel = i8_kernel(isa, &shift);
  const bool amx = isa == Isa::Amx;
  parallel_for(ex.threads, (M + kQuantRows - 1) / kQuantRows, [&](int t) {
    const int m0 = t * kQuantRows;
    quantize_operand_rows(isa, x, ldx, m0, std::min(kQuantRows, M - m0), w.K, norm, q, w.Kp, scale, shift);
  });
  if (amx) std::fill(q + static_cast<size_t>(M) * w.Kp, q + static_cast<size_t>(Mp) * w.Kp, int8_t{0});

  const I8Block b{.a = q, .lda = w.Kp, .a_scale = scale, .w = w, .ep = ep, .y = y, .ldy = ldy, .M = M};
  if (amx)
    for_bands(ex, M, w.Np, static_cast<size_t>(w.Kp),
              [&](int m0, int m1, int n0, int n1) { kernel(b, m0, m1, n0, n1); });
  else
    for_blocks(ex, M, w.Np, [&](int m0, int m1, int n0, int n1) { kernel(b, m0, m1, n0, n1); });
}

namespace {

// The bf16 product of a converted operand q (M rows of w.Kp, zeros past them up to a multiple of 32).
void run_bf16(const Exec& ex, Isa isa, const uint16_t* q, int M, const PackedView& w, const Epilogue& ep,
              float* y, int ldy) {
  Bf16Block b;
  b.a = q;
  b.lda = w.Kp;
  b.w = w;
  b.ep = ep;
  b.y = y;
  b.ldy = ldy;
  b.M = M;
  const Bf16Kernel kernel = bf16_kernel(isa);
  if (isa == Isa::Amx)
    for_bands(ex, M, w.Np, static_cast<size_t>(w.Kp) * 2,
              [&](int m0, int m1, int n0, int n1) { kernel(b, m0, m1, n0, n1); });
  else
    for_blocks(ex, M, w.Np, [&](int m0, int m1, int n0, int n1) { kernel(b, m0, m1, n0, n1); });
}

using ConvertRows = void (*)(const float*, int, int, int, uint16_t*, int);

// The bf16 operand, made by fill(convert, q, m0, rows) for blocks of rows on the context's threads (M rows of
// w.Kp, zeros past them up to a multiple of 32), then the product.
template <typename Fill>
void bf16_product(const Exec& ex, Isa isa, int M, const PackedView& w, const Epilogue& ep, float* y, int ldy,
                  Fill&& fill) {
  if (M <= 0 || w.N <= 0) return;
  isa = runnable(isa);
  const ConvertRows convert =
      static_cast<int>(isa) >= static_cast<int>(Isa::Avx512) ? convert_rows_bf16_avx512 : convert_rows_bf16;
  const int Mp = round_up(M, 32);
  uint16_t* q = ex.ws->get<uint16_t>(Workspace::kActQuant, static_cast<size_t>(Mp) * w.Kp);
  parallel_for(ex.threads, (M + kQuantRows - 1) / kQuantRows, [&](int t) {
    const int m0 = t * kQuantRows;
    fill(convert, q, m0, std::min(kQuantRows, M - m0));
  });
  std::fill(q + static_cast<size_t>(M) * w.Kp, q + static_cast<size_t>(Mp) * w.Kp, uint16_t{0});
  run_bf16(ex, isa, q, M, w, ep, y, ldy);
}

}  // namespace

void gemm_bf16(const Exec& ex, Isa isa, const float* x, int M, int ldx, const PackedView& w,
               const Epilogue& ep, float* y, int ldy, const RowNorm* norm) {
  bf16_product(ex, isa, M, w, ep, y, ldy, [&](ConvertRows convert, uint16_t* q, int m0, int rows) {
    operand_rows(isa, x, ldx, m0, rows, w.K, norm, [&](const float* src, int n, int ld, int r) {
      convert(src, n, w.K, ld, q + static_cast<size_t>(m0 + r) * w.Kp, w.Kp);
    });
  });
}

void gemm_bf16_rows(const Exec& ex, Isa isa, int M, const OperandRow& row, const PackedView& w,
                    const Epilogue& ep, float* y, int ldy) {
  bf16_product(ex, isa, M, w, ep, y, ldy, [&](ConvertRows convert, uint16_t* q, int m0, int rows) {
    thread_local std::vector<float> buf;
    if (buf.size() < static_cast<size_t>(w.K)) buf.resize(static_cast<size_t>(w.K));
    for (int r = m0; r < m0 + rows; ++r) {
      row(r, buf.data());
      convert(buf.data(), 1, w.K, w.K, q + static_cast<size_t>(r) * w.Kp, w.Kp);
    }
  });
}

}  // namespace wisp::backend::cpu
