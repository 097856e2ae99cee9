// Quantized and reduced-precision matrix products for Linear layers, y(M,N) = x(M,K) · Wᵀ (+ epilogue),
// with W packed once at load:
//
//   int8 (CTranslate2's scheme): W quantized per output channel, w[n][k] ≈ q[n][k] · scale[n]; x quantized
//   per row on the fly, x[m][k] ≈ p[m][k] · xscale[m]; int32 dot products; y = dot · xscale · scale.
//   bf16: W and x rounded to bfloat16 (nearest even), products accumulated in fp32.
//
//   fp32: as it is, fp32 FMA.
//
// Packed layouts serve every kernel of their type: 16 output columns per panel, consecutive k interleaved
// so that one 64-byte row holds 16 columns × (4 int8 | 2 bf16 | 1 fp32) — the operand of vpdpbusd /
// vdpbf16ps / vfmadd and one row of an AMX B tile, so 16 such rows are one 1 KB tile:
//   PackedI8   [Np/16][Kp/4][16][4] int8,  Kp = K rounded up to 64, Np = N rounded up to 16
//   PackedBf16 [Np/16][Kp/2][16][2] bf16,  Kp = K rounded up to 32
//   PackedF32  [Np/16][Kp][16]      fp32,  Kp = K
// Padding holds zeros, so it adds nothing to any product.
#pragma once

#include <cstdint>
#include <functional>

#include "backend/backend.h"
#include "backend/buffer.h"
#include "backend/cpu/isa.h"
#include "backend/exec.h"

namespace wisp::backend::cpu {

// A packed matrix as the kernels read it. PackedI8 / PackedBf16 own one; attention lays its keys and values
// out the same way in scratch memory and multiplies them with the same kernels.
struct PackedView {
  const void* data = nullptr;
  int N = 0, K = 0, Np = 0, Kp = 0;
  const float* scale = nullptr;  // int8: (Np), w[n][k] ≈ q[n][k] · scale[n]
  const int32_t* col_sum =
      nullptr;  // int8: (Np), Σ_k q[n][k], for kernels that shift x to unsigned (x + 128)
  // Depth of one panel in memory, when more is stored than multiplied (a KV cache: capacity > length);
  // 0 means Kp.
  int panel_depth = 0;
  size_t panel_elems() const { return static_cast<size_t>(panel_depth ? panel_depth : Kp) * 16; }
};

struct PackedI8 {
  int N = 0, K = 0, Np = 0, Kp = 0;
  Buffer data;     // int8, layout above
  Buffer scale;    // float (Np)
  Buffer col_sum;  // int32 (Np)
  PackedView view() const { return {data.data(), N, K, Np, Kp, scale.as<float>(), col_sum.as<int32_t>()}; }
};

struct PackedBf16 {
  int N = 0, K = 0, Np = 0, Kp = 0;
  Buffer data;  // uint16 bfloat16, layout above
  PackedView view() const { return {data.data(), N, K, Np, Kp}; }
};

struct PackedF32 {
  int N = 0, K = 0, Np = 0, Kp = 0;
  Buffer data;  // float, layout above
  PackedView view() const { return {data.data(), N, K, Np, Kp}; }
};

// Rows of W come from `row(n, out)`, which writes W[n][0..K) as floats (from whatever type the file
// stores); packing runs on up to `threads` threads, a 16-row panel per task.
using RowSource = std::function<void(int n, float* out)>;
// Float weights quantized here, per row (symmetric, max |w| ↦ 127).
PackedI8 pack_i8(int N, int K, const RowSource& row, int threads = 1);
PackedBf16 pack_bf16(int N, int K, const RowSource& row, int threads = 1);
PackedF32 pack_f32(int N, int K, const RowSource& row, int threads = 1);
// The same from a dense W(N, K).
PackedI8 pack_i8(int N, int K, const float* W);
PackedBf16 pack_bf16(int N, int K, const float* W);
PackedF32 pack_f32(int N, int K, const float* W);
// From int8 weights with their own per-row scales (CTranslate2 int8: w = q / ct2_scale): kept as they are.
PackedI8 pack_i8_quantized(int N, int K, const int8_t* Q, const float* ct2_scale);

using backend::Epilogue;
using backend::Exec;

// y(M, N) with row stride ldy, from x(M, K) with row stride ldx. `isa` picks the kernel (any level the
// machine supports; see isa.h). With `norm`, each row of x is layer-normalised on its way to the int8 or
// bf16 operand (y = LayerNorm(x) · Wᵀ, bit for bit as layer_norm_row then the product).
struct RowNorm {
  const float* gamma = nullptr;
  const float* beta = nullptr;
};
void gemm_i8(const Exec& ex, Isa isa, const float* x, int M, int ldx, const PackedView& w, const Epilogue& ep,
             float* y, int ldy, const RowNorm* norm = nullptr);
void gemm_bf16(const Exec& ex, Isa isa, const float* x, int M, int ldx, const PackedView& w,
               const Epilogue& ep, float* y, int ldy, const RowNorm* norm = nullptr);
void gemm_f32(const Exec& ex, Isa isa, const float* x, int M, int ldx, const PackedView& w,
              const Epilogue& ep, float* y, int ldy);
// gemm_bf16 whose operand rows are made on the way: row(r, out) writes row r of x (K floats) into `out`,
// a thread's buffer in L1, which is then converted as gemm_bf16 converts x — the same bf16 operand, so the
// same result, without x in memory (a convolution's im2col rows: conv_im2col.h).
using OperandRow = std::function<void(int r, float* out)>;
void gemm_bf16_rows(const Exec& ex, Isa isa, int M, const OperandRow& row, const PackedView& w,
                    const Epilogue& ep, float* y, int ldy);

// The int8 operand of gemm_i8 for rows [m0, m0 + rows) of x: layer-normalised with `norm` if given, then
// quantize_rows_i8 (its AVX-512 twin where `isa` has AVX-512, the same bytes) into q + (m0 + r) · ldq and
// scale + m0 + r. `shift`: unsigned (x + 128) for the VNNI kernel.
void quantize_operand_rows(Isa isa, const float* x, int ldx, int m0, int rows, int K, const RowNorm* norm,
                           int8_t* q, int ldq, float* scale, bool shift);

// The same products computed plainly (scalar loops over the same quantized / rounded operands): the oracle
// the kernels are tested against.
void gemm_i8_reference(const float* x, int M, int ldx, const PackedView& w, const Epilogue& ep, float* y,
                       int ldy);
void gemm_bf16_reference(const float* x, int M, int ldx, const PackedView& w, const Epilogue& ep, float* y,
                         int ldy);
void gemm_f32_reference(const float* x, int M, int ldx, const PackedView& w, const Epilogue& ep, float* y,
                        int ldy);

// Helpers shared with the kernels and tests.
uint16_t float_to_bf16(float f);  // round to nearest even; NaN stays NaN
float bf16_to_float(uint16_t h);
// Per-row symmetric int8 quantization of x(M, K) into q (M rows of `ldq` bytes, zero-padded past K):
// q = round(x / s), s = max|x| / 127 (1 for an all-zero row). `shift` adds 128 (unsigned operand for
// vpdpbusd). Returns s per row in `scale`.
void quantize_rows_i8(const float* x, int M, int K, int ldx, int8_t* q, int ldq, float* scale, bool shift);
// bf16 copy of x(M, K) into rows of `ldq` elements, zero-padded past K.
void convert_rows_bf16(const float* x, int M, int K, int ldx, uint16_t* q, int ldq);

}  // namespace wisp::backend::cpu
