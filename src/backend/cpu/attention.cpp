#include "backend/cpu/attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "backend/cpu/attention_kernels.h"
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
  if (!kv.bf16()) return (static_cast<size_t>(key / 16) * kv.key_depth + d) * 16 + key % 16;
  return ((static_cast<size_t>(key / 16) * (kv.key_depth / 2) + d / 2) * 16 + key % 16) * 2 + d % 2;
}
size_t value_offset(const CpuKvCache& kv, int key, int d) {
  if (!kv.bf16()) return (static_cast<size_t>(d / 16) * kv.value_depth + key) * 16 + d % 16;
  return ((static_cast<size_t>(d / 16) * (kv.value_depth / 2) + key / 2) * 16 + d % 16) * 2 + key % 2;
}

// Task t of an attention call: its job, head and block of query rows, the keys each row sees (all, or when
// causal up to its own position) and where its probabilities go (null when not asked for).
struct Task {
  const AttentionJob* job = nullptr;
  int h = 0, r0 = 0, rows = 0;
  int visible[kQueryBlock];
  float* probs = nullptr;
};
Task locate(const AttentionJob* jobs, const std::vector<int>& first_task, const AttentionShape& shape,
            int t) {
  Task k;
  const int j =
      static_cast<int>(std::upper_bound(first_task.begin(), first_task.end(), t) - first_task.begin()) - 1;
  const AttentionJob& job = jobs[j];
  k.job = &job;
  const int blocks = (job.q.rows + kQueryBlock - 1) / kQueryBlock;
  k.h = (t - first_task[j]) / blocks;
  k.r0 = (t - first_task[j]) % blocks * kQueryBlock;
  k.rows = std::min(kQueryBlock, job.q.rows - k.r0);
  for (int i = 0; i < k.rows; ++i)
    k.visible[i] = shape.causal ? std::min(job.kv_len, job.q_offset + k.r0 + i + 1) : job.kv_len;
  if (job.sink && job.sink->heads[k.h])
    k.probs =
        job.sink->probs + k.h * job.sink->head_stride + static_cast<int64_t>(k.r0) * job.sink->row_stride;
  return k;
}

void check_write(const CpuKvCache& kv, int position, TensorView k, TensorView v) {
  if (position < 0 || position + k.rows > kv.capacity || k.rows != v.rows || k.cols != kv.dim ||
      v.cols != kv.dim)
    throw Error(ErrorKind::Internal, "kv_write outside the cache");
}

// Head h of rows k, v (L, dim) to positions [position, position + L).
void write_head(CpuKvCache& kv, int h, int position, TensorView k, TensorView v) {
  const int L = k.rows, dh = kv.head_dim;
  const float* kh = k.as<float>() + h * dh;
  const float* vh = v.as<float>() + h * dh;
  if (kv.format == KvFormat::I4) {
    kv_write_head_i4(kh, k.row_stride, vh, v.row_stride, L, position, kv.value_depth,
                     kv.keys<uint8_t>() + h * kv.key_head_elems,
                     kv.values<uint8_t>() + h * kv.value_head_elems, kv.key_scales(h), kv.value_scales(h));
    return;
  }
  if (kv.format == KvFormat::I8) {
    kv_write_head_i8(kh, k.row_stride, vh, v.row_stride, L, position, kv.value_depth,
                     kv.keys<uint8_t>() + h * kv.key_head_elems,
                     kv.values<int8_t>() + h * kv.value_head_elems, kv.key_scales(h), kv.value_scales(h));
    return;
  }
  if (kv.bf16()) {
    kv_write_head_bf16(kh, k.row_stride, vh, v.row_stride, L, position, dh, kv.key_depth, kv.value_depth,
                       kv.keys<uint16_t>() + h * kv.key_head_elems,
                       kv.values<uint16_t>() + h * kv.value_head_elems);
    return;
  }
  float* K = kv.keys<float>() + h * kv.key_head_elems;
  float* V = kv.values<float>() + h * kv.value_head_elems;
  for (int t = 0; t < L; ++t) {
    const float* kr = kh + static_cast<int64_t>(t) * k.row_stride;
    const float* vr = vh + static_cast<int64_t>(t) * v.row_stride;
    const int key = position + t;
    for (int d = 0; d < dh; ++d) {
      K[key_offset(kv, key, d)] = kr[d];
      V[value_offset(kv, key, d)] = vr[d];
    }
  }
}

// A task's share of its job's new keys and values: its head's, where the job is one query block (else they
// were written before the tasks started).
void append_head(const AttentionJob& job, int h) {
  const KvWrite* w = job.append;
  if (w && job.q.rows <= kQueryBlock)
    write_head(static_cast<CpuKvCache&>(*w->kv), h, w->position, w->k, w->v);
}

// body(task, slot) for tasks [0, n_tasks), consecutive tasks taken as one where a call has many small ones:
// a decoder step's, one head of one or a few query rows each (task t + 1 is mostly the next head of t's
// job). The thread then goes on from one head's cache to the next one's, which follows it in memory, with
// the kernels' prefetches running on across them, and fewer tasks are handed out. At least
// kGroupsPerThread groups per thread for balance, at most a job's heads per group. (8-window base greedy
// step: 2.91 → 2.80 ms.)
template <typename Body>
void for_task_groups(const Exec& ex, int n_tasks, int max_rows, int n_head, Body&& body) {
  constexpr int kGroupsPerThread = 4, kFewRows = 8;
  const int groups_wanted = kGroupsPerThread * std::max(1, ex.threads);
  const int G = max_rows <= kFewRows ? std::clamp(n_tasks / groups_wanted, 1, std::max(1, n_head)) : 1;
  parallel_for_slots(ex.threads, (n_tasks + G - 1) / G, [&](int g, int slot) {
    for (int t = g * G; t < std::min(n_tasks, (g + 1) * G); ++t) body(t, slot);
  });
}

// Rows from which an AMX machine multiplies an int4 head by its AMX kernel: below it the VNNI kernel is
// faster.
constexpr int kI4AmxRows = 3;

// Tasks over int8 or int4 caches: the whole of each in the AMX or the VNNI kernel.
// Scratch per thread for blocks of up to max_rows query rows (a decoder step's few, not kQueryBlock).
void attention_i8(Exec& ex, Isa isa, const AttentionJob* jobs, const std::vector<int>& first_task,
                  int max_rows, int max_kv, const AttentionShape& shape, float scale) {
  const bool i4 = static_cast<const CpuKvCache&>(*jobs[0].kv).format == KvFormat::I4;
  const bool amx = isa == Isa::Amx;
  const int n_tasks = first_task.back();
  const size_t per_thread = attention_i8_scratch_bytes(max_rows, max_kv);
  char* scratch = ex.ws->get<char>(Workspace::kAttention, per_thread * std::max(1, ex.threads));
  const int dh = shape.head_dim;
  for_task_groups(ex, n_tasks, max_rows, shape.n_head, [&](int t, int slot) {
    const Task k = locate(jobs, first_task, shape, t);
    const AttentionJob& job = *k.job;
    append_head(job, k.h);
    const auto& kv = static_cast<const CpuKvCache&>(*job.kv);
    I8HeadJob h;
    h.q = job.q.as<float>() + static_cast<int64_t>(k.r0) * job.q.row_stride + k.h * dh;
    h.ldq = job.q.row_stride;
    h.rows = k.rows;
    h.visible = k.visible;
    h.L = job.kv_len;
    h.keys = kv.keys<uint8_t>() + k.h * kv.key_head_elems;
    h.values = kv.values<uint8_t>() + k.h * kv.value_head_elems;
    h.key_scale = kv.key_scales(k.h);
    h.value_scale = kv.value_scales(k.h);
    h.value_depth = kv.value_depth;
    h.scale = scale;
    h.out = job.out.as<float>() + static_cast<int64_t>(k.r0) * job.out.row_stride + k.h * dh;
    h.ldo = job.out.row_stride;
    h.probs = k.probs;
    h.probs_ld = k.probs ? job.sink->row_stride : 0;
    void* mine = scratch + per_thread * static_cast<size_t>(slot);
    if (!i4) return amx ? attention_head_i8_amx(h, mine) : attention_head_i8_vnni(h, mine);
    return amx && h.rows >= kI4AmxRows ? attention_head_i4_amx(h, mine) : attention_head_i4_vnni(h, mine);
  });
}

}  // namespace

CpuKvCache::CpuKvCache(int cap, int dim_, int heads, KvFormat fmt) : format(fmt) {
  capacity = cap;
  dim = dim_;
  n_head = heads;
  head_dim = dim / n_head;
  const int keys_p = round_up(capacity, 16), dims_p = round_up(head_dim, 16);
  if (quantized()) {
    if (head_dim != 64) throw Error(ErrorKind::Internal, "int8 and int4 KV caches need head_dim 64");
    key_depth = 64;
    value_depth = round_up(capacity, 64);
    // bytes: int8 64 per position, int4 32 (keys in blocks of 32)
    key_head_elems =
        format == KvFormat::I8 ? static_cast<size_t>(keys_p) * 64 : round_up(capacity, 32) * 32ul;
    value_head_elems = static_cast<size_t>(value_depth) * (format == KvFormat::I8 ? 64 : 32);
    values_offset = key_head_elems * n_head;
    key_scales_offset = values_offset + value_head_elems * n_head;
    value_scales_offset = key_scales_offset + sizeof(float) * keys_p * n_head;
    storage.resize(value_scales_offset + sizeof(float) * value_depth * n_head);
    return;
  }
  key_depth = bf16() ? round_up(head_dim, 32) : head_dim;
  value_depth = bf16() ? round_up(capacity, 32) : capacity;
  key_head_elems = static_cast<size_t>(keys_p) * key_depth;
  value_head_elems = static_cast<size_t>(dims_p) * value_depth;
  const size_t elem = bf16() ? 2 : 4;
  // Zeroed: positions past the written length are read (times a zero weight) and must be finite.
  values_offset = key_head_elems * n_head * elem;  // a multiple of 1 KB: whole 16-key panels
  storage.resize(values_offset + value_head_elems * n_head * elem);
}

void kv_write(Exec& ex, CpuKvCache& kv, int position, TensorView k, TensorView v) {
  check_write(kv, position, k, v);
  parallel_for(k.rows * kv.dim >= (1 << 16) ? ex.threads : 1, kv.n_head,
               [&](int h) { write_head(kv, h, position, k, v); });
}

void kv_copy(const CpuKvCache& src, CpuKvCache& dst, int length) {
  if (src.format != dst.format || src.dim != dst.dim || src.capacity != dst.capacity || length > src.capacity)
    throw Error(ErrorKind::Internal, "kv_copy between different caches");
  if (length <= 0) return;
  if (src.quantized()) {  // written once per window, not copied on the hot path: all of it
    std::memcpy(dst.storage.data(), src.storage.data(), src.storage.size());
    return;
  }
  const size_t elem = src.bf16() ? 2 : 4;
  // Keys: whole 16-key panels up to the length, contiguous per head.
  const size_t key_bytes = static_cast<size_t>((length + 15) / 16) * 16 * src.key_depth * elem;
  // Values: per 16-dim panel, the first `length` keys (rounded up to a pair).
  const size_t value_bytes = static_cast<size_t>(round_up(length, 2)) * 16 * elem;
  const size_t value_panel_bytes = static_cast<size_t>(src.value_depth) * 16 * elem;
  const int panels = (src.head_dim + 15) / 16;
  for (int h = 0; h < src.n_head; ++h) {
    std::memcpy(dst.keys<char>() + h * src.key_head_elems * elem,
                src.keys<char>() + h * src.key_head_elems * elem, key_bytes);
    for (int p = 0; p < panels; ++p) {
      const size_t off = h * src.value_head_elems * elem + p * value_panel_bytes;
      std::memcpy(dst.values<char>() + off, src.values<char>() + off, value_bytes);
    }
  }
}

void attention(Exec& ex, Isa isa, const AttentionJob* jobs, int n_jobs, const AttentionShape& shape) {
  // Tasks: (job, head, query block).
  std::vector<int> first_task(n_jobs + 1, 0);
  int max_kv = 1, max_rows = 1;
  const KvFormat format = n_jobs > 0 ? static_cast<const CpuKvCache&>(*jobs[0].kv).format : KvFormat::F32;
  for (int j = 0; j < n_jobs; ++j) {
    const AttentionJob& job = jobs[j];
    const auto& kv = static_cast<const CpuKvCache&>(*job.kv);
    if (job.kv_len < 1 || job.kv_len > kv.capacity || kv.n_head != shape.n_head ||
        kv.head_dim != shape.head_dim || job.q.cols != kv.dim || job.out.cols != kv.dim ||
        job.out.rows != job.q.rows)
      throw Error(ErrorKind::Internal, "attention job does not fit its cache");
    if (kv.format != format)
      throw Error(ErrorKind::Internal, "attention jobs over caches of different formats");
    if (job.q.dtype != DType::F32 && !(job.q.dtype == DType::BF16 && format == KvFormat::Bf16))
      throw Error(ErrorKind::Internal,
                  "attention queries must be float32 (or bfloat16 over a bfloat16 cache)");
    if (!append_fits(job))
      throw Error(ErrorKind::Internal, "attention job appends to another cache or other rows");
    max_kv = std::max(max_kv, job.kv_len);
    max_rows = std::max(max_rows, std::min(job.q.rows, kQueryBlock));
    first_task[j + 1] = first_task[j] + shape.n_head * ((job.q.rows + kQueryBlock - 1) / kQueryBlock);
  }
  const int n_tasks = first_task[n_jobs];
  // New keys and values: the tasks of a job of one query block write their head's; a longer job's go first
  // (its later blocks' rows see the keys of the earlier blocks' rows).
  for (int j = 0; j < n_jobs; ++j)
    if (const KvWrite* w = jobs[j].append) {
      auto& kv = static_cast<CpuKvCache&>(*w->kv);
      if (jobs[j].q.rows > kQueryBlock)
        kv_write(ex, kv, w->position, w->k, w->v);
      else
        check_write(kv, w->position, w->k, w->v);
    }
  if (n_tasks == 0) return;
  const bool bf16 = format == KvFormat::Bf16;
  const int dh = shape.head_dim;
  const float scale = 1.0f / std::sqrt(static_cast<float>(dh));
  if (format == KvFormat::I8 || format == KvFormat::I4) {
    attention_i8(ex, isa, jobs, first_task, max_rows, max_kv, shape, scale);
    return;
  }

  // Scratch per thread: scores (rows × kv) fp32; for bf16 also the query and probability rows as bf16, the
  // unnormalised output and the row sums.
  const int kv_p = round_up(max_kv, 32), rows_p = kQueryBlock;  // rows padded for AMX tiles
  const size_t scores_elems = static_cast<size_t>(rows_p) * kv_p;
  // The S area also holds the fused kernel's chunks and sums.
  const size_t s_elems = std::max(scores_elems, bf16 ? scores_softmax_amx_scratch_floats() : 0);
  const size_t q16_elems = static_cast<size_t>(rows_p) * round_up(dh, 32);
  const size_t o_elems = static_cast<size_t>(rows_p) * round_up(dh, 16);
  const size_t per_thread =
      s_elems * 4 + (bf16 ? (q16_elems + scores_elems) * 2 + o_elems * 4 + rows_p * 8 : 0) + 256;
  char* scratch = ex.ws->get<char>(Workspace::kAttention, per_thread * std::max(1, ex.threads));

  const Bf16Kernel bf16_gemm = bf16_kernel(isa);
  const F32Kernel f32_gemm = f32_kernel(isa);
  const bool amx_d64 = bf16 && isa == Isa::Amx && dh == 64;

  for_task_groups(ex, n_tasks, max_rows, shape.n_head, [&](int t, int slot) {
    const Task k = locate(jobs, first_task, shape, t);
    const AttentionJob& job = *k.job;
    const auto& kv = static_cast<const CpuKvCache&>(*job.kv);
    append_head(job, k.h);
    const int h = k.h, r0 = k.r0, rows = k.rows;
    const int* visible = k.visible;
    float* probs = k.probs;
    const int L = job.kv_len, Lp16 = round_up(L, 16);
    char* mine = scratch + per_thread * static_cast<size_t>(slot);
    float* S = reinterpret_cast<float*>(mine);
    const int ld_s = round_up(L, 32);
    const int64_t q_offset = static_cast<int64_t>(r0) * job.q.row_stride + h * dh;
    float* out = job.out.as<float>() + static_cast<int64_t>(r0) * job.out.row_stride + h * dh;

    if (bf16) {
      uint16_t* q16 = reinterpret_cast<uint16_t*>(mine + s_elems * 4);
      uint16_t* p16 = q16 + q16_elems;
      float* o = reinterpret_cast<float*>(p16 + scores_elems);
      float* inv_sum = o + o_elems;
      const int qk = kv.key_depth;
      const uint16_t* keys = kv.keys<uint16_t>() + h * kv.key_head_elems;
      // The head's query rows in bf16, ldq apart: where they lie when they came in bf16 and the AMX kernels
      // read just those rows (up to 16 rows its tiles have exactly `rows` rows, past 16 whole 16-row tiles:
      // amx_tiles.h); else converted or copied into q16, zeros past head_dim and up to the next 16 rows.
      const uint16_t* qrows = q16;
      int ldq = qk;
      const int rows16 = round_up(rows, 16);
      if (job.q.dtype == DType::BF16 && amx_d64 && (rows <= 16 || rows == rows16)) {
        qrows = job.q.as<uint16_t>() + q_offset;
        ldq = static_cast<int>(job.q.row_stride);
      } else {
        if (job.q.dtype == DType::BF16) {
          for (int i = 0; i < rows; ++i) {
            uint16_t* dst = q16 + static_cast<size_t>(i) * qk;
            std::memcpy(dst, job.q.as<uint16_t>() + q_offset + i * job.q.row_stride, sizeof(uint16_t) * dh);
            std::fill(dst + dh, dst + qk, uint16_t{0});
          }
        } else {
          convert_rows_bf16_avx512(job.q.as<float>() + q_offset, rows, dh, static_cast<int>(job.q.row_stride),
                                   q16, qk);  // bf16: AVX-512
        }
        if (rows > 16)
          std::memset(q16 + static_cast<size_t>(rows) * qk, 0, sizeof(uint16_t) * (rows16 - rows) * qk);
      }
      // P = exp(scale · q_h · K_hᵀ) in bf16 and 1 / Σ P, the scores through L1 (AMX, no probabilities asked
      // for, sums in range: nearly always); else the scores, then the softmax.
      const bool fused =
          amx_d64 && !probs &&
          scores_softmax_amx_d64(qrows, ldq, rows, keys, L, visible, scale, p16, ld_s, inv_sum, S);
      if (amx_d64 && !fused) {
        scores_amx_d64(qrows, ldq, rows, keys, L, S, ld_s);
      } else if (!amx_d64) {
        Bf16Block b;
        b.a = qrows;
        b.lda = ldq;
        b.w = {keys, L, dh, Lp16, qk};
        b.y = S;
        b.ldy = ld_s;
        b.M = rows;
        bf16_gemm(b, 0, rows, 0, Lp16);
      }
      // P = exp(scale · (s − shift)) in bf16; the normalisation is applied to the (much smaller) output.
      if (!fused)
        softmax_rows_to_bf16(S, ld_s, rows, L, visible, scale, p16, ld_s, inv_sum, probs,
                             probs ? job.sink->row_stride : 0);
      if (rows > 16)
        std::memset(p16 + static_cast<size_t>(rows) * ld_s, 0, sizeof(uint16_t) * (rows16 - rows) * ld_s);
      // out_h(rows, dh) = P · V_h / Σ P
      Bf16Block b;
      b.a = p16;
      b.lda = ld_s;
      b.w = {kv.values<uint16_t>() + h * kv.value_head_elems, dh, L, round_up(dh, 16), ld_s};
      b.w.panel_depth = kv.value_depth;
      b.y = o;
      b.ldy = dh;
      b.M = rows;
      bf16_gemm(b, 0, rows, 0, round_up(dh, 16));
      for (int i = 0; i < rows; ++i) {
        float* dst = out + static_cast<int64_t>(i) * job.out.row_stride;
        for (int d = 0; d < dh; ++d) dst[d] = o[i * dh + d] * inv_sum[i];
      }
      return;
    }

    // fp32: scores, softmax in place (normalised), then out_h = P · V_h.
    F32Block b;
    b.a = job.q.as<float>() + q_offset;
    b.lda = static_cast<int>(job.q.row_stride);
    b.w = {kv.keys<float>() + h * kv.key_head_elems, L, dh, Lp16, dh};
    b.y = S;
    b.ldy = ld_s;
    b.M = rows;
    f32_gemm(b, 0, rows, 0, Lp16);
    for (int i = 0; i < rows; ++i) {
      float* s = S + static_cast<size_t>(i) * ld_s;
      scale_inplace(s, static_cast<size_t>(visible[i]), scale);
      softmax_row(s, visible[i]);
      std::fill(s + visible[i], s + ld_s, 0.0f);
      if (probs) std::memcpy(probs + static_cast<int64_t>(i) * job.sink->row_stride, s, sizeof(float) * L);
    }
    F32Block pv;
    pv.a = S;
    pv.lda = ld_s;
    pv.w = {kv.values<float>() + h * kv.value_head_elems, dh, L, round_up(dh, 16), L};
    pv.w.panel_depth = kv.value_depth;
    pv.y = out;
    pv.ldy = static_cast<int>(job.out.row_stride);
    pv.M = rows;
    f32_gemm(pv, 0, rows, 0, round_up(dh, 16));
  });
}

}  // namespace wisp::backend::cpu
