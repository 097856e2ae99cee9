#include "backend/cpu/attention.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "backend/cpu/elementwise.h"
#include "backend/cpu/gemm.h"
#include "backend/cpu/gemm_kernels.h"
#include "backend/cpu/threads.h"
#include "core/error.h"

namespace wisp::backend::cpu {
namespace {

constexpr int kQueryBlock = 64;  // query rows per task

int round_up(int x, int m) { return (x + m - 1) / m * m; }

// Element offsets inside one head's packed matrices (see gemm.h for the layouts).
size_t key_offset(const CpuKvCache& kv, int key, int d) {
  if (!kv.bf16) return (static_cast<size_t>(key / 16) * kv.key_depth + d) * 16 + key % 16;
  return ((static_cast<size_t>(key / 16) * (kv.key_depth / 2) + d / 2) * 16 + key % 16) * 2 + d % 2;
}
size_t value_offset(const CpuKvCache& kv, int key, int d) {
  if (!kv.bf16) return (static_cast<size_t>(d / 16) * kv.value_depth + key) * 16 + d % 16;
  return ((static_cast<size_t>(d / 16) * (kv.value_depth / 2) + key / 2) * 16 + d % 16) * 2 + key % 2;
}

}  // namespace

CpuKvCache::CpuKvCache(int cap, int dim_, int heads, bool use_bf16) : bf16(use_bf16) {
  capacity = cap;
  dim = dim_;
  n_head = heads;
  head_dim = dim / n_head;
  const int keys_p = round_up(capacity, 16), dims_p = round_up(head_dim, 16);
  key_depth = bf16 ? round_up(head_dim, 32) : head_dim;
  value_depth = bf16 ? round_up(capacity, 32) : capacity;
  key_head_elems = static_cast<size_t>(keys_p) * key_depth;
  value_head_elems = static_cast<size_t>(dims_p) * value_depth;
  const size_t elem = bf16 ? 2 : 4;
  // Zeroed: positions past the written length are read (times a zero weight) and must be finite.
  keys.resize(key_head_elems * n_head * elem);
  values.resize(value_head_elems * n_head * elem);
}

void kv_write(Exec& ex, CpuKvCache& kv, int position, TensorView k, TensorView v) {
  if (position < 0 || position + k.rows > kv.capacity || k.rows != v.rows || k.cols != kv.dim ||
      v.cols != kv.dim)
    throw Error(ErrorKind::Internal, "kv_write outside the cache");
  const int L = k.rows, dh = kv.head_dim;
  parallel_for(L * kv.dim >= (1 << 16) ? ex.threads : 1, kv.n_head, [&](int h) {
    for (int t = 0; t < L; ++t) {
      const float* kr = k.as<float>() + static_cast<int64_t>(t) * k.row_stride + h * dh;
      const float* vr = v.as<float>() + static_cast<int64_t>(t) * v.row_stride + h * dh;
      const int key = position + t;
      if (kv.bf16) {
        uint16_t* K = kv.keys.as<uint16_t>() + h * kv.key_head_elems;
        uint16_t* V = kv.values.as<uint16_t>() + h * kv.value_head_elems;
        for (int d = 0; d < dh; ++d) {
          K[key_offset(kv, key, d)] = float_to_bf16(kr[d]);
          V[value_offset(kv, key, d)] = float_to_bf16(vr[d]);
        }
      } else {
        float* K = kv.keys.as<float>() + h * kv.key_head_elems;
        float* V = kv.values.as<float>() + h * kv.value_head_elems;
        for (int d = 0; d < dh; ++d) {
          K[key_offset(kv, key, d)] = kr[d];
          V[value_offset(kv, key, d)] = vr[d];
        }
      }
    }
  });
}

void kv_copy(const CpuKvCache& src, CpuKvCache& dst, int length) {
  if (src.bf16 != dst.bf16 || src.dim != dst.dim || src.capacity != dst.capacity || length > src.capacity)
    throw Error(ErrorKind::Internal, "kv_copy between different caches");
  if (length <= 0) return;
  const size_t elem = src.bf16 ? 2 : 4;
  // Keys: whole 16-key panels up to the length, contiguous per head.
  const size_t key_bytes = static_cast<size_t>((length + 15) / 16) * 16 * src.key_depth * elem;
  // Values: per 16-dim panel, the first `length` keys (rounded up to a pair).
  const size_t value_bytes = static_cast<size_t>(round_up(length, 2)) * 16 * elem;
  const size_t value_panel_bytes = static_cast<size_t>(src.value_depth) * 16 * elem;
  const int panels = (src.head_dim + 15) / 16;
  for (int h = 0; h < src.n_head; ++h) {
    std::memcpy(dst.keys.as<char>() + h * src.key_head_elems * elem,
                src.keys.as<char>() + h * src.key_head_elems * elem, key_bytes);
    for (int p = 0; p < panels; ++p) {
      const size_t off = h * src.value_head_elems * elem + p * value_panel_bytes;
      std::memcpy(dst.values.as<char>() + off, src.values.as<char>() + off, value_bytes);
    }
  }
}

void attention(Exec& ex, Isa isa, const AttentionJob* jobs, int n_jobs, const AttentionShape& shape) {
  // Tasks: (job, head, query block).
  std::vector<int> first_task(n_jobs + 1, 0);
  int max_kv = 1;
  for (int j = 0; j < n_jobs; ++j) {
    const AttentionJob& job = jobs[j];
    const auto& kv = static_cast<const CpuKvCache&>(*job.kv);
    if (job.kv_len < 1 || job.kv_len > kv.capacity || kv.n_head != shape.n_head ||
        kv.head_dim != shape.head_dim || job.q.cols != kv.dim || job.out.cols != kv.dim ||
        job.out.rows != job.q.rows)
      throw Error(ErrorKind::Internal, "attention job does not fit its cache");
    max_kv = std::max(max_kv, job.kv_len);
    first_task[j + 1] = first_task[j] + shape.n_head * ((job.q.rows + kQueryBlock - 1) / kQueryBlock);
  }
  const int n_tasks = first_task[n_jobs];
  if (n_tasks == 0) return;
  const bool bf16 = static_cast<const CpuKvCache&>(*jobs[0].kv).bf16;
  const int dh = shape.head_dim;
  const float scale = 1.0f / std::sqrt(static_cast<float>(dh));

  // Scratch per thread: scores (rows × kv) fp32, and for bf16 the query and probability rows as bf16.
  const int kv_p = round_up(max_kv, 32), rows_p = kQueryBlock;  // rows padded for AMX tiles
  const size_t scores_elems = static_cast<size_t>(rows_p) * kv_p;
  const size_t q16_elems = static_cast<size_t>(rows_p) * round_up(dh, 32);
  const size_t per_thread = scores_elems * 4 + (bf16 ? (q16_elems + scores_elems) * 2 : 0) + 256;
  char* scratch = ex.ws->get<char>(Workspace::kAttention, per_thread * std::max(1, ex.threads));

  const Bf16Kernel bf16_gemm = bf16_kernel(isa);
  const F32Kernel f32_gemm = f32_kernel(isa);

  parallel_for(ex.threads, n_tasks, [&](int t) {
    const int j =
        static_cast<int>(std::upper_bound(first_task.begin(), first_task.end(), t) - first_task.begin()) - 1;
    const AttentionJob& job = jobs[j];
    const auto& kv = static_cast<const CpuKvCache&>(*job.kv);
    const int blocks = (job.q.rows + kQueryBlock - 1) / kQueryBlock;
    const int h = (t - first_task[j]) / blocks, qb = (t - first_task[j]) % blocks;
    const int r0 = qb * kQueryBlock, rows = std::min(kQueryBlock, job.q.rows - r0);
    const int L = job.kv_len, Lp16 = round_up(L, 16);
    char* mine = scratch + per_thread * static_cast<size_t>(omp_get_thread_num());
    float* S = reinterpret_cast<float*>(mine);
    const int ld_s = round_up(L, 32);
    const float* q = job.q.as<float>() + static_cast<int64_t>(r0) * job.q.row_stride + h * dh;
    float* out = job.out.as<float>() + static_cast<int64_t>(r0) * job.out.row_stride + h * dh;

    // scores(rows, L) = q_h · K_hᵀ
    if (bf16) {
      uint16_t* q16 = reinterpret_cast<uint16_t*>(mine + scores_elems * 4);
      const int qk = kv.key_depth;
      convert_rows_bf16(q, rows, dh, static_cast<int>(job.q.row_stride), q16, qk);
      std::memset(q16 + static_cast<size_t>(rows) * qk, 0, sizeof(uint16_t) * (rows_p - rows) * qk);
      Bf16Block b;
      b.a = q16;
      b.lda = qk;
      b.w = {kv.keys.as<uint16_t>() + h * kv.key_head_elems, L, dh, Lp16, qk};
      b.y = S;
      b.ldy = ld_s;
      b.M = rows;
      bf16_gemm(b, 0, rows, 0, Lp16);
    } else {
      F32Block b;
      b.a = q;
      b.lda = static_cast<int>(job.q.row_stride);
      b.w = {kv.keys.as<float>() + h * kv.key_head_elems, L, dh, Lp16, dh};
      b.y = S;
      b.ldy = ld_s;
      b.M = rows;
      f32_gemm(b, 0, rows, 0, Lp16);
    }
    // Softmax of the scaled scores; causal rows see keys up to their own position.
    for (int i = 0; i < rows; ++i) {
      float* s = S + static_cast<size_t>(i) * ld_s;
      const int visible = shape.causal ? std::min(L, job.q_offset + r0 + i + 1) : L;
      scale_inplace(s, static_cast<size_t>(visible), scale);
      std::fill(s + visible, s + ld_s, -INFINITY);
      softmax_row(s, visible);
      std::fill(s + visible, s + ld_s, 0.0f);
      if (job.sink && job.sink->heads[h])
        std::memcpy(
            job.sink->probs + h * job.sink->head_stride + static_cast<int64_t>(r0 + i) * job.sink->row_stride,
            s, sizeof(float) * L);
    }
    // out_h(rows, dh) = P · V_h
    if (bf16) {
      uint16_t* p16 = reinterpret_cast<uint16_t*>(mine + scores_elems * 4 + q16_elems * 2);
      convert_rows_bf16(S, rows, ld_s, ld_s, p16, ld_s);
      std::memset(p16 + static_cast<size_t>(rows) * ld_s, 0, sizeof(uint16_t) * (rows_p - rows) * ld_s);
      Bf16Block b;
      b.a = p16;
      b.lda = ld_s;
      b.w = {kv.values.as<uint16_t>() + h * kv.value_head_elems, dh, L, round_up(dh, 16), ld_s};
      b.w.panel_depth = kv.value_depth;
      b.y = out;
      b.ldy = static_cast<int>(job.out.row_stride);
      b.M = rows;
      bf16_gemm(b, 0, rows, 0, round_up(dh, 16));
    } else {
      F32Block b;
      b.a = S;
      b.lda = ld_s;
      b.w = {kv.values.as<float>() + h * kv.value_head_elems, dh, L, round_up(dh, 16), L};
      b.w.panel_depth = kv.value_depth;
      b.y = out;
      b.ldy = static_cast<int>(job.out.row_stride);
      b.M = rows;
      f32_gemm(b, 0, rows, 0, round_up(dh, 16));
    }
  });
}

}  // namespace wisp::backend::cpu
