#include "backend/buffer.h"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <new>

namespace wisp::backend {

void Buffer::Free::operator()(void* p) const { std::free(p); }

void Buffer::resize(size_t bytes) {
  if (bytes <= capacity_) {
    size_ = bytes;
    return;
  }
  // Large buffers (activations of a window, weights, caches) in 2 MB pages where the kernel gives them
  // (transparent huge pages in "madvise" mode, Debian's default): a GEMM's output rows lie thousands of
  // bytes apart, and with 4 KB pages nearly every row of a tile's epilogue took a TLB miss — nested
  // page walks in a virtual machine. Measured: tiny.en's qkv product (1500 × 384 → 1152, int8, AMX) 25-35 %
  // faster with its activations 2 MB-aligned, and 10 % more in huge pages.
  // The whole 2 MB pages of a buffer are advised; its tail stays in 4 KB pages, so no memory is wasted.
  constexpr size_t kHuge = size_t{2} << 20;
  const size_t rounded = (bytes + 63) / 64 * 64, huge_bytes = rounded / kHuge * kHuge;
  // posix_memalign, not aligned_alloc: C's aligned_alloc wants the size a multiple of the alignment.
  void* p = nullptr;
  if (posix_memalign(&p, huge_bytes ? kHuge : 64, rounded) != 0 || !p) throw std::bad_alloc();
  if (huge_bytes) madvise(p, huge_bytes, MADV_HUGEPAGE);  // advice only: without it, 4 KB pages
  std::memset(p, 0, rounded);
  data_.reset(p);
  size_ = bytes;
  capacity_ = rounded;
}

}  // namespace wisp::backend
