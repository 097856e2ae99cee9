// TensorView: a non-owning 2-D view (rows × cols) that knows its element type and device. Every tensor the
// network passes between backend calls is one: activations (T, D), a head's slice of them, a channel-major
// mel spectrogram seen time-major (col_stride ≠ 1).
#pragma once

#include <cstdint>

#include "backend/dtype.h"

namespace wisp::backend {

enum class Device : uint8_t { Cpu };

struct TensorView {
  void* data = nullptr;
  DType dtype = DType::F32;
  Device device = Device::Cpu;
  int rows = 0, cols = 0;
  int64_t row_stride = 0;  // elements from one row to the next
  int64_t col_stride = 1;  // elements from one column to the next

  template <typename T>
  T* as() const {
    return static_cast<T*>(data);
  }
  bool contiguous_rows() const { return col_stride == 1; }
  TensorView rows_range(int r0, int r1) const {
    TensorView v = *this;
    v.data = static_cast<char*>(data) + static_cast<int64_t>(r0) * row_stride * dtype_size(dtype);
    v.rows = r1 - r0;
    return v;
  }
  TensorView cols_range(int c0, int c1) const {
    TensorView v = *this;
    v.data = static_cast<char*>(data) + static_cast<int64_t>(c0) * col_stride * dtype_size(dtype);
    v.cols = c1 - c0;
    return v;
  }
};

// A row-major float view of `rows` × `cols` with `ld` elements per row (default: cols).
inline TensorView f32_view(float* data, int rows, int cols, int64_t ld = -1) {
  TensorView v;
  v.data = data;
  v.dtype = DType::F32;
  v.rows = rows;
  v.cols = cols;
  v.row_stride = ld < 0 ? cols : ld;
  return v;
}
inline TensorView f32_view(const float* data, int rows, int cols, int64_t ld = -1) {
  return f32_view(const_cast<float*>(data), rows, cols, ld);
}

}  // namespace wisp::backend
