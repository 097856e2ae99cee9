// Internal to the CPU backend: attention pieces with ISA-specific code, each in its own translation unit.
#pragma once

#include <cstddef>
#include <cstdint>

namespace wisp::backend::cpu {

// bf16 attention needs AVX-512 BF16 (the caches are bf16 only on such CPUs).
//
// Softmax of scale · S over the first visible[i] entries of each row, without normalising: P = exp(scale ·
// (s − max)) as bf16 (zeros from visible[i] up to ld_p), inv_sum[i] = 1 / Σ P. With `probs`, the normalised
// fp32 probabilities of all L entries of row i also go to probs + i · probs_ld (S is overwritten then).
void softmax_rows_to_bf16(float* S, int ld_s, int rows, int L, const int* visible, float scale, uint16_t* P,
                          int ld_p, float* inv_sum, float* probs, int64_t probs_ld);

// One head's keys and values for positions [position, position + n) from fp32 rows (row strides in
// elements), into the packed bf16 layouts of attention.h.
void kv_write_head_bf16(const float* k, int64_t ldk, const float* v, int64_t ldv, int n, int position,
                        int head_dim, int key_depth, int value_depth, uint16_t* keys, uint16_t* values);

// AMX, head_dim 64: S(rows, ceil16(L)) = Q · Kᵀ with Q as bf16 rows (ld 64 elements, rows padded with
// zeros to a multiple of 16) and K one head's packed keys (key_depth 64). Writes whole 16-key panels.
void scores_amx_d64(const uint16_t* q, int rows, const uint16_t* keys, int L, float* S, int ld_s);

}  // namespace wisp::backend::cpu
