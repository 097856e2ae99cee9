#include "backend/buffer.h"

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
  const size_t rounded = (bytes + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded);
  if (!p) throw std::bad_alloc();
  std::memset(p, 0, rounded);
  data_.reset(p);
  size_ = bytes;
  capacity_ = rounded;
}

}  // namespace wisp::backend
