// Attention on the CPU: keys and values live in a KV cache laid out as packed GEMM operands, so scores
// and outputs are computed by the same block kernels as the Linear layers.
//
// Per head h (head_dim d, capacity C):
//   keys   as a packed (N = C keys, K = d) matrix: scores(Tq, keys) = q_h · K_hᵀ
//   values as a packed (N = d, K = C keys) matrix (V_hᵀ): out_h(Tq, d) = P · V_h
// in fp32 (PackedF32 layout) or bf16 (PackedBf16 layout). Fused by query blocks: a block's scores,
// softmax and output are computed in one task (a few hundred KB of scratch per thread); the full
// Tq × Tk matrix of a head never exists.
#pragma once

#include "backend/backend.h"
#include "backend/buffer.h"
#include "backend/cpu/isa.h"

namespace wisp::backend::cpu {

// How a cache stores its keys and values: fp32 or bf16 packed panels, or int8 or int4 with per-position
// scales (attention_kernels.h; head_dim 64, from AVX-512 VNNI up).
enum class KvFormat { F32, Bf16, I8, I4 };

class CpuKvCache final : public KvCache {
 public:
  CpuKvCache(int capacity, int dim, int n_head, KvFormat format);
  KvFormat format = KvFormat::F32;
  bool bf16() const { return format == KvFormat::Bf16; }
  int head_dim = 0;
  // Per head: keys [Cp/16][kd][16](×2 interleaved for bf16), values [dp/16][vd][16](×2).
  int key_depth = 0;  // K of the key matrix: head_dim (fp32) or head_dim rounded up to 32 (bf16)
  int value_depth =
      0;  // panel depth of the value matrix: capacity (fp32) or capacity rounded up to 32 (bf16)
  size_t key_head_elems = 0, value_head_elems = 0;
  // Keys, then values, in one allocation: a window's cache of one layer (1-5 MB) then mostly lies in 2 MB
  // pages (buffer.cpp), which a decoder step reads from end to end for every window in flight.
  Buffer storage;
  size_t values_offset = 0;  // bytes
  bool quantized() const { return format == KvFormat::I8 || format == KvFormat::I4; }
  // I8, I4 (key_head_elems, value_head_elems in bytes): after the values, the keys' scales [n_head][capacity
  // rounded up to 16], then the values' scales [n_head][value_depth] (zeros past the written positions).
  size_t key_scales_offset = 0, value_scales_offset = 0;  // bytes
  float* key_scales(int h) {
    return reinterpret_cast<float*>(storage.as<char>() + key_scales_offset) + h * key_scale_stride();
  }
  const float* key_scales(int h) const {
    return reinterpret_cast<const float*>(storage.as<char>() + key_scales_offset) + h * key_scale_stride();
  }
  float* value_scales(int h) {
    return reinterpret_cast<float*>(storage.as<char>() + value_scales_offset) + h * value_depth;
  }
  const float* value_scales(int h) const {
    return reinterpret_cast<const float*>(storage.as<char>() + value_scales_offset) + h * value_depth;
  }
  int key_scale_stride() const { return (capacity + 15) / 16 * 16; }
  template <typename T>
  T* keys() {
    return storage.as<T>();
  }
  template <typename T>
  const T* keys() const {
    return storage.as<T>();
  }
  template <typename T>
  T* values() {
    return reinterpret_cast<T*>(storage.as<char>() + values_offset);
  }
  template <typename T>
  const T* values() const {
    return reinterpret_cast<const T*>(storage.as<char>() + values_offset);
  }
};

void kv_write(Exec& ex, CpuKvCache& kv, int position, TensorView k, TensorView v);
void kv_copy(const CpuKvCache& src, CpuKvCache& dst, int length);
void attention(Exec& ex, Isa isa, const AttentionJob* jobs, int n_jobs, const AttentionShape& shape);

}  // namespace wisp::backend::cpu
