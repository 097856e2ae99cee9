#include "backend/buffer.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

namespace wisp::backend {
namespace {

constexpr size_t kHuge = size_t{2} << 20;
// From this size on a buffer is mapped on its own: the kernel hands out zeroed pages as they are first
// touched, so nothing is written here (a KV cache's pages past what its sequence reaches are never touched,
// and a buffer that is filled is faulted in once, not zeroed and then written).
constexpr size_t kMappedBytes = size_t{256} << 10;

size_t page_size() {
  static const size_t size = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return size;
}

}  // namespace

void Buffer::Free::operator()(void* p) const {
  if (mapped_bytes)
    munmap(p, mapped_bytes);
  else
    std::free(p);
}

void Buffer::resize(size_t bytes) {
  if (bytes <= capacity_) {
    size_ = bytes;
    return;
  }
  const size_t rounded = (bytes + 63) / 64 * 64;
  if (rounded < kMappedBytes) {
    void* p = nullptr;
    if (posix_memalign(&p, 64, rounded) != 0 || !p) throw std::bad_alloc();
    std::memset(p, 0, rounded);
    data_ = std::unique_ptr<void, Free>(p, Free{0});
    size_ = bytes;
    capacity_ = rounded;
    return;
  }
  // Large buffers (activations of a window, weights) in 2 MB pages where the kernel gives them (transparent
  // huge pages in "madvise" mode, Debian's default): a GEMM's output rows lie thousands of bytes apart, and
  // with 4 KB pages nearly every row of a tile's epilogue took a TLB miss — nested page walks in a virtual
  // machine. Measured: tiny.en's qkv product (1500 × 384 → 1152, int8, AMX) 25-35 % faster with its
  // activations 2 MB-aligned, and 10 % more in huge pages. The whole 2 MB pages of a buffer are advised; its
  // tail stays in 4 KB pages, so no memory is wasted.
  const size_t length = (rounded + page_size() - 1) / page_size() * page_size();
  const size_t huge_bytes = rounded / kHuge * kHuge;
  const size_t mapped = huge_bytes ? length + kHuge : length;  // room to align the start to 2 MB
  void* m = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) throw std::bad_alloc();
  auto* base = static_cast<char*>(m);
  char* p = base;
  if (huge_bytes) {  // keep [p, p + length) with p 2 MB-aligned; give back the rest
    p = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(base) + kHuge - 1) / kHuge * kHuge);
    if (p > base) munmap(base, static_cast<size_t>(p - base));
    if (base + mapped > p + length) munmap(p + length, static_cast<size_t>(base + mapped - (p + length)));
    madvise(p, huge_bytes, MADV_HUGEPAGE);  // advice only: without it, 4 KB pages
  }
  data_ = std::unique_ptr<void, Free>(p, Free{length});
  size_ = bytes;
  capacity_ = rounded;
}

}  // namespace wisp::backend
