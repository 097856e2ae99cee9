// Owning, 64-byte-aligned memory (Buffer) and a per-context scratch arena that grows and is reused across
// calls (Workspace): kernels take their temporaries from it, so a decoder step allocates nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace wisp::backend {

class Buffer {
 public:
  Buffer() = default;
  explicit Buffer(size_t bytes) { resize(bytes); }
  Buffer(Buffer&&) noexcept = default;
  Buffer& operator=(Buffer&&) noexcept = default;

  // Reallocates when `bytes` exceeds the capacity; the contents are NOT kept. New memory is zeroed.
  void resize(size_t bytes);
  size_t size() const { return size_; }
  void* data() { return data_.get(); }
  const void* data() const { return data_.get(); }
  template <typename T>
  T* as() {
    return static_cast<T*>(data());
  }
  template <typename T>
  const T* as() const {
    return static_cast<const T*>(data());
  }

 private:
  struct Free {
    Free() noexcept : mapped_bytes(0) {}
    explicit Free(size_t mapped) noexcept : mapped_bytes(mapped) {}
    size_t mapped_bytes;  // of a buffer mapped on its own (munmap), else 0 (free)
    void operator()(void* p) const;
  };
  std::unique_ptr<void, Free> data_;
  size_t size_ = 0, capacity_ = 0;
};

// Scratch slots, each a Buffer that only grows. Not thread-safe: one per context (or per thread).
class Workspace {
 public:
  enum Slot : int {
    kActQuant,   // quantized / converted activations (M, K)
    kActScale,   // per-row scales (M)
    kActSum,     // per-row sums (M)
    kAttention,  // attention scores and packed keys/values
    kAttention2,
    kConv,     // im2col columns of the conv stem
    kMlp,      // an MLP's hidden activations (fused: per thread, a band's operands and hidden rows)
    kCrossKv,  // a band of a window's cross-attention keys and values, before they go to the caches
    kSlotCount
  };
  template <typename T>
  T* get(Slot s, size_t count) {
    Buffer& b = slots_[s];
    if (b.size() < count * sizeof(T)) b.resize(count * sizeof(T));
    return b.as<T>();
  }

 private:
  Buffer slots_[kSlotCount];
};

}  // namespace wisp::backend
