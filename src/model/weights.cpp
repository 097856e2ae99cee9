#include "model/weights.h"

#include "core/error.h"

namespace wisp {

std::string shape_to_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

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

float WeightTable::scalar(const std::string& name, float fallback) const {
  auto it = tensors_.find(resolve(name));
  if (it == tensors_.end() || it->second.data.empty()) return fallback;
  return it->second.data[0];
}

}  // namespace wisp
