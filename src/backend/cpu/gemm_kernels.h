// Internal to the CPU backend: the per-ISA block kernels behind gemm.h, one translation unit each, built
// with that ISA's flags. Each computes rows [m0, m1) × columns [n0, n1) of y from activations that the
// dispatcher (gemm.cpp) has already quantized or converted; n0 is a multiple of 32 and n1 of 16 (or Np).
#pragma once

#include <cstdint>

#include "backend/cpu/gemm.h"

namespace wisp::backend::cpu {

struct I8Block {
  const int8_t* a = nullptr;  // (Mp, Kp) quantized rows; unsigned (x + 128) for the VNNI kernel
  int lda = 0;                // bytes per row (Kp)
  const float* a_scale = nullptr;
  PackedView w;  // int8
  Epilogue ep;
  float* y = nullptr;
  int ldy = 0, M = 0;
};

struct Bf16Block {
  const uint16_t* a = nullptr;  // (Mp, Kp) bf16 rows
  int lda = 0;                  // elements per row (Kp)
  PackedView w;                 // bf16
  Epilogue ep;
  float* y = nullptr;
  int ldy = 0, M = 0;
};

// int8: signed activations (sign trick with vpmaddubsw), AVX2.
void gemm_i8_avx2(const I8Block& b, int m0, int m1, int n0, int n1);
// int8: unsigned activations (x + 128) with vpdpbusd; the column sums undo the shift.
void gemm_i8_avx512_vnni(const I8Block& b, int m0, int m1, int n0, int n1);
// int8: signed activations with AMX tiles (tdpbssd); rows are read in 16-row tiles, so a must hold
// rows up to m1 rounded up to 16 (zeros past M).
void gemm_i8_amx(const I8Block& b, int m0, int m1, int n0, int n1);

// bf16: widened to fp32 and multiplied with FMA (any AVX2 CPU).
void gemm_bf16_avx2(const Bf16Block& b, int m0, int m1, int n0, int n1);
// bf16: vdpbf16ps.
void gemm_bf16_avx512_bf16(const Bf16Block& b, int m0, int m1, int n0, int n1);
// bf16: AMX tiles (tdpbf16ps); same row padding as gemm_i8_amx.
void gemm_bf16_amx(const Bf16Block& b, int m0, int m1, int n0, int n1);

struct F32Block {
  const float* a = nullptr;  // (M, K) rows, read in place
  int lda = 0;               // elements per row
  PackedView w;              // fp32
  Epilogue ep;
  float* y = nullptr;
  int ldy = 0, M = 0;
};

// fp32: FMA, 8 or 16 lanes.
void gemm_f32_avx2(const F32Block& b, int m0, int m1, int n0, int n1);
void gemm_f32_avx512(const F32Block& b, int m0, int m1, int n0, int n1);

// The symmetric int8 scale of a row whose largest magnitude is amax: returns 127 / amax (what x is
// multiplied by before rounding) and stores amax / 127 in *scale (1 for an all-zero row). One definition
// for every quantize_rows_i8 variant, so that they agree to the bit.
inline float row_quant_inverse(float amax, float* scale) {
  *scale = amax > 0.0f ? amax / 127.0f : 1.0f;
  return amax > 0.0f ? 127.0f / amax : 0.0f;
}

// quantize_rows_i8 and convert_rows_bf16 (gemm.h) on AVX-512 (pack_avx512.cpp): the same bytes out.
void quantize_rows_i8_avx512(const float* x, int M, int K, int ldx, int8_t* q, int ldq, float* scale,
                             bool shift);
void convert_rows_bf16_avx512(const float* x, int M, int K, int ldx, uint16_t* q, int ldq);

using F32Kernel = void (*)(const F32Block&, int, int, int, int);
F32Kernel f32_kernel(Isa isa);
using I8Kernel = void (*)(const I8Block&, int, int, int, int);
using Bf16Kernel = void (*)(const Bf16Block&, int, int, int, int);
// The kernel for an ISA level the machine runs, and whether it wants unsigned (x + 128) activations.
I8Kernel i8_kernel(Isa isa, bool* unsigned_activations);
Bf16Kernel bf16_kernel(Isa isa);

}  // namespace wisp::backend::cpu
