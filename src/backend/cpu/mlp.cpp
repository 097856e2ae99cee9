#include "backend/cpu/mlp.h"

#include <algorithm>
#include <cstring>

#include "backend/cpu/gemm_kernels.h"
#include "backend/cpu/threads.h"

namespace wisp::backend::cpu {
namespace {

constexpr int kBandRows = 32;  // the AMX kernel's row block
// Both weights are read again by every band: they must stay in a 2 MB L2 next to a band's operands and
// hidden rows (tiny: 2 × 0.6 MB fuses; base: 2 × 1 MB does not).
constexpr size_t kWeightBudget = size_t{3} << 19;  // 1.5 MB

size_t align64(size_t bytes) { return (bytes + 63) / 64 * 64; }

}  // namespace

bool mlp_i8_fuses(Isa isa, int M, const PackedView& fc1, const PackedView& fc2) {
  const size_t weights = static_cast<size_t>(fc1.Np) * fc1.Kp + static_cast<size_t>(fc2.Np) * fc2.Kp;
  return isa == Isa::Amx && M >= 4 * kBandRows && weights <= kWeightBudget;
}

void mlp_i8(const Exec& ex, Isa isa, float* x, int M, int ldx, const RowNorm& norm, const PackedView& fc1,
            const float* bias1, const PackedView& fc2, const float* bias2) {
  // Per thread: the band's int8 rows for fc1 and their scales, its hidden rows (fp32), the same for fc2.
  const size_t q1_bytes = align64(static_cast<size_t>(kBandRows) * fc1.Kp);
  const size_t q2_bytes = align64(static_cast<size_t>(kBandRows) * fc2.Kp);
  const size_t h_bytes = align64(sizeof(float) * kBandRows * fc1.Np);
  const size_t scale_bytes = align64(sizeof(float) * kBandRows);
  const size_t per_thread = q1_bytes + q2_bytes + h_bytes + 2 * scale_bytes;
  char* scratch = ex.ws->get<char>(Workspace::kMlp, per_thread * std::max(1, ex.threads));

  const Epilogue ep1{.bias = bias1, .gelu = true};
  const Epilogue ep2{.bias = bias2, .accumulate = true};
  const int bands = (M + kBandRows - 1) / kBandRows;
  parallel_for_slots(ex.threads, bands, [&](int band, int slot) {
    char* mine = scratch + per_thread * static_cast<size_t>(slot);
    auto* q1 = reinterpret_cast<int8_t*>(mine);
    auto* q2 = reinterpret_cast<int8_t*>(mine + q1_bytes);
    auto* h = reinterpret_cast<float*>(mine + q1_bytes + q2_bytes);
    auto* s1 = reinterpret_cast<float*>(mine + q1_bytes + q2_bytes + h_bytes);
    float* s2 = s1 + scale_bytes / sizeof(float);
    const int m0 = band * kBandRows, rows = std::min(kBandRows, M - m0);
    float* xb = x + static_cast<size_t>(m0) * ldx;
    // The kernel reads whole 16-row tiles past 16 rows: rows up to the next 16 hold zeros.
    const int rows16 = (rows + 15) / 16 * 16;

    quantize_operand_rows(isa, xb, ldx, 0, rows, fc1.K, &norm, q1, fc1.Kp, s1, false);
    std::memset(q1 + static_cast<size_t>(rows) * fc1.Kp, 0, static_cast<size_t>(rows16 - rows) * fc1.Kp);
    gemm_i8_amx(
        {.a = q1, .lda = fc1.Kp, .a_scale = s1, .w = fc1, .ep = ep1, .y = h, .ldy = fc1.Np, .M = rows}, 0,
        rows, 0, fc1.Np);

    quantize_operand_rows(isa, h, fc1.Np, 0, rows, fc2.K, nullptr, q2, fc2.Kp, s2, false);
    std::memset(q2 + static_cast<size_t>(rows) * fc2.Kp, 0, static_cast<size_t>(rows16 - rows) * fc2.Kp);
    gemm_i8_amx({.a = q2, .lda = fc2.Kp, .a_scale = s2, .w = fc2, .ep = ep2, .y = xb, .ldy = ldx, .M = rows},
                0, rows, 0, fc2.Np);
  });
}

}  // namespace wisp::backend::cpu
