// A Transformer block's MLP with its residual, x += fc2(GELU(fc1(LayerNorm(x)))), in one pass over bands
// of 32 rows: a band is normalised and quantized, multiplied by fc1 into a hidden band that stays in the
// thread's cache, quantized again and multiplied by fc2 into x. The (M, 4·D) fp32 hidden activations are
// never written out and read back, which for Whisper's shallow products costs more than the tiles' work.
// Each band runs the same kernels on the same operands as the two separate products, so the result is
// theirs to the bit.
#pragma once

#include "backend/cpu/gemm.h"

namespace wisp::backend::cpu {

// Whether the fused pass pays for these weights on this ISA level (one the machine runs): int8 on AMX, with
// fc1 and fc2 small enough to stay in L2 while every band reads them again. The shapes are the caller's to
// check.
bool mlp_i8_fuses(Isa isa, int M, const PackedView& fc1, const PackedView& fc2);

// x (M, D), row stride ldx, in place; fc1 (F, D) with bias1 (F) and GELU, fc2 (D, F) with bias2 (D) (either
// bias may be null). Only where mlp_i8_fuses.
void mlp_i8(const Exec& ex, Isa isa, float* x, int M, int ldx, const RowNorm& norm, const PackedView& fc1,
            const float* bias1, const PackedView& fc2, const float* bias2);

}  // namespace wisp::backend::cpu
