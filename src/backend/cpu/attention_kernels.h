// Internal to the CPU backend: attention pieces with ISA-specific code, each in its own translation unit.
#pragma once

#include <cstddef>
#include <cstdint>

namespace wisp::backend::cpu {

// bf16 attention needs AVX-512 BF16 (the caches are bf16 only on such CPUs).
//
// Softmax of scale · S over the first visible[i] entries of each row, without normalising: P = exp(scale ·
// (s − shift)) as bf16 (zeros from visible[i] up to ld_p), inv_sum[i] = 1 / Σ P, with shift 0 or, where
// exp(scale · s) would overflow or every term underflow, the row's maximum. With `probs`, the normalised
// fp32 probabilities of all L entries of row i also go to probs + i · probs_ld (S is overwritten then).
void softmax_rows_to_bf16(float* S, int ld_s, int rows, int L, const int* visible, float scale, uint16_t* P,
                          int ld_p, float* inv_sum, float* probs, int64_t probs_ld);

// One head's keys and values for positions [position, position + n) from fp32 rows (row strides in
// elements), into the packed bf16 layouts of attention.h.
void kv_write_head_bf16(const float* k, int64_t ldk, const float* v, int64_t ldv, int n, int position,
                        int head_dim, int key_depth, int value_depth, uint16_t* keys, uint16_t* values);

// int8 caches (head_dim 64; the decoder's cross-attention in the batched mode, written once per window and
// read by every decoder step), on CPUs with AVX-512 VNNI. Per head, with one fp32 scale per position for the
// keys and one for the values (x ≈ q · scale, |q| ≤ 127):
//   keys   [key/16][d/4][16][4], stored as q + 128 (unsigned): a 16-key panel is one AMX B tile of the
//          product q · kᵀ, and its row g the 16 keys' dims 4g..4g+3 for vpdpbusd;
//   values [d/16][key/4][16][4] (value_depth keys, a multiple of 64): a 16-dim panel of 64 keys is one B tile
//          of the product P · v, a row 16 dims of 4 keys.
// Positions [position, position + n) from fp32 rows (row strides in elements); AVX-512 F/BW/DQ.
void kv_write_head_i8(const float* k, int64_t ldk, const float* v, int64_t ldv, int n, int position,
                      int value_depth, uint8_t* keys, int8_t* values, float* key_scale, float* value_scale);
// int4 caches (the same use, half the bytes): the int8 layouts' bytes (keys and values both + 8, |q| ≤ 7),
// two to a byte. Per head:
//   keys   [key/32][d/4][16][4]: a 32-key block's two 16-key panels, the second in the high nibbles;
//   values [d/16][key/8][16][4] (value_depth keys, a multiple of 64): a panel's rows of 4 positions, each odd
//          row in the high nibbles of the even row before it.
void kv_write_head_i4(const float* k, int64_t ldk, const float* v, int64_t ldv, int n, int position,
                      int value_depth, uint8_t* keys, uint8_t* values, float* key_scale, float* value_scale);
// One head's block of query rows against an int8 cache: out_h(rows, 64) = softmax(scale · q_h · K_hᵀ) · V_h
// over keys [0, visible[i]) of L for row i; with `probs`, row i's probabilities over all L keys go to probs
// + i · probs_ld. The query rows and the probabilities are multiplied in 15- and 16-bit fixed point (a high
// and a low byte each), so the error is the cache's own rounding.
struct I8HeadJob {
  const float* q = nullptr;  // (rows, 64), row stride ldq
  int64_t ldq = 0;
  int rows = 0;  // ≤ 64
  const int* visible = nullptr;
  int L = 0;
  const void* keys = nullptr;  // the head's keys, values and their scales (layouts above)
  const void* values = nullptr;
  const float* key_scale = nullptr;
  const float* value_scale = nullptr;
  int value_depth = 0;
  float scale = 0.0f;
  float* out = nullptr;  // (rows, 64), row stride ldo
  int64_t ldo = 0;
  float* probs = nullptr;
  int64_t probs_ld = 0;
};
// Scratch for a job of `rows` query rows over L keys.
size_t attention_i8_scratch_bytes(int rows, int L);
// The same numbers from both (exact integer products): AMX tiles, or AVX-512 VNNI.
void attention_head_i8_amx(const I8HeadJob& job, void* scratch);
void attention_head_i8_vnni(const I8HeadJob& job, void* scratch);
// The same over an int4 cache (keys and values in the int4 layouts): AMX tiles, or AVX-512 VNNI; the same
// numbers as the int8 kernels give over the head's nibbles as bytes.
void attention_head_i4_amx(const I8HeadJob& job, void* scratch);
void attention_head_i4_vnni(const I8HeadJob& job, void* scratch);

// AMX, head_dim 64: S(rows, ceil16(L)) = Q · Kᵀ with Q as bf16 rows of 64 (ldq elements apart) and K one
// head's packed keys (key_depth 64). Past 16 rows, rows up to the next multiple of 16 are read too (each
// row's scores depend on that row alone: their values are never used, but they must be there to read).
// Writes whole 16-key panels.
void scores_amx_d64(const uint16_t* q, int ldq, int rows, const uint16_t* keys, int L, float* S, int ld_s);
// The same products fused with softmax_rows_to_bf16's first pass: P (rows, ld_p) and inv_sum as it gives
// them without a shift, to the bit, the scores passing through L1 a chunk at a time instead of a whole row
// block through L2. False when a row's sum leaves the range where no shift is needed (P is then partly
// written: run the two passes). `scratch`: scores_softmax_amx_scratch_floats() floats.
bool scores_softmax_amx_d64(const uint16_t* q, int ldq, int rows, const uint16_t* keys, int L,
                            const int* visible, float scale, uint16_t* P, int ld_p, float* inv_sum,
                            float* scratch);
constexpr int kScoresChunk = 128;  // keys per chunk of the fused kernel
constexpr size_t scores_softmax_amx_scratch_floats() { return 2 * 32 * kScoresChunk + 64 * 64; }

}  // namespace wisp::backend::cpu
