// Element types of weights, activations and caches.
#pragma once

#include <cstddef>
#include <cstdint>

namespace wisp::backend {

enum class DType : uint8_t { F32, F16, BF16, I8, I32 };

constexpr size_t dtype_size(DType t) {
  switch (t) {
    case DType::F32:
    case DType::I32:
      return 4;
    case DType::F16:
    case DType::BF16:
      return 2;
    case DType::I8:
      return 1;
  }
  return 0;
}

constexpr const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32:
      return "float32";
    case DType::F16:
      return "float16";
    case DType::BF16:
      return "bfloat16";
    case DType::I8:
      return "int8";
    case DType::I32:
      return "int32";
  }
  return "?";
}

}  // namespace wisp::backend
