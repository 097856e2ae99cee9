#include "model/weights.h"

#include <cstring>

#include "core/error.h"
#include "core/half.h"
#include "model/mapped_file.h"

namespace wisp {
namespace {}  // namespace

std::string shape_to_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

float Tensor::value(int64_t i) const {
  using backend::DType;
  switch (dtype) {
    case DType::F32:
      return static_cast<const float*>(data)[i];
    case DType::F16:
      return half_to_float(load_u16(data, static_cast<size_t>(i)));
    case DType::BF16: {
      const uint32_t u = static_cast<uint32_t>(load_u16(data, static_cast<size_t>(i))) << 16;
      float f;
      std::memcpy(&f, &u, 4);
      return f;
    }
    case DType::I8: {
      const float q = static_cast<const int8_t*>(data)[i];
      if (scale.empty()) return q;
      const int64_t cols = numel() / static_cast<int64_t>(scale.size());
      return q / scale[static_cast<size_t>(i / cols)];
    }
    case DType::I32:
      return static_cast<float>(static_cast<const int32_t*>(data)[i]);
  }
  return 0.0f;
}

WeightTable::WeightTable(std::string source, std::shared_ptr<const MappedFile> file)
    : source_(std::move(source)), file_(std::move(file)) {}
WeightTable::~WeightTable() = default;

const Tensor& WeightTable::get(const std::string& name) const {
  auto it = tensors_.find(resolve(name));
  if (it == tensors_.end()) throw Error(ErrorKind::Model, source_ + ": variable '" + name + "' is missing");
  return it->second;
}

const Tensor& WeightTable::get(const std::string& name, const std::vector<int64_t>& expected) const {
  const Tensor& t = get(name);
  if (t.shape != expected)
    throw Error(ErrorKind::Model, source_ + ": variable '" + name + "' has wrong shape; expected " +
                                      shape_to_string(expected) + ", got " + shape_to_string(t.shape));
  return t;
}

backend::WeightView WeightTable::view(const std::string& name, int rows, int cols) const {
  const Tensor& t = get(name);
  if (static_cast<int64_t>(rows) * cols != t.numel())
    throw Error(ErrorKind::Model, source_ + ": variable '" + name + "' " + shape_to_string(t.shape) +
                                      " cannot be seen as a " + std::to_string(rows) + " x " +
                                      std::to_string(cols) + " matrix");
  if (t.dtype == backend::DType::I32)
    throw Error(ErrorKind::Model, source_ + ": variable '" + name + "' holds integers, not weights");
  if (t.dtype == backend::DType::I8 && t.scale.size() != static_cast<size_t>(rows))
    throw Error(ErrorKind::Model, source_ + ": int8 variable '" + name + "' needs one scale per row");
  backend::WeightView v;
  v.dtype = t.dtype;
  v.data = t.data;
  v.rows = rows;
  v.cols = cols;
  v.row_scale = t.scale.empty() ? nullptr : t.scale.data();
  return v;
}

const float* WeightTable::f32(const std::string& name, const std::vector<int64_t>& expected) {
  const Tensor& t = get(name, expected);
  const std::string& key = resolve(name);
  auto it = f32_.find(key);
  if (it != f32_.end()) return it->second.data();
  std::vector<float> values(static_cast<size_t>(t.numel()));
  for (size_t i = 0; i < values.size(); ++i) values[i] = t.value(static_cast<int64_t>(i));
  return (f32_[key] = std::move(values)).data();
}

float WeightTable::scalar(const std::string& name, float fallback) const {
  auto it = tensors_.find(resolve(name));
  if (it == tensors_.end() || it->second.numel() < 1) return fallback;
  return it->second.value(0);
}

void WeightTable::release(const std::string& name) {
  auto it = tensors_.find(resolve(name));
  if (it == tensors_.end()) return;
  Tensor& t = it->second;
  if (t.storage) {
    t.storage.reset();
  } else if (file_) {
    file_->release(t.data, t.bytes);
  }
  t.data = nullptr;
}

}  // namespace wisp
