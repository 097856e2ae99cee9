// WeightTable: the named tensors of a model file, each in the type the file stores it.
//
// Loaders (CTranslate2 today; ggml and safetensors later) read and validate their file; a tensor points
// into the memory-mapped file, which the table keeps, or into an aligned copy when the file's bytes are not
// aligned for their type. Nothing is widened here: the model packs the matrices it computes with for its
// compute type, and asks for fp32 copies only of the small tensors it reads in fp32 (norms, biases,
// positions). The table is immutable once the model is built and shared by every context.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"

namespace wisp {

class MappedFile;

struct Tensor {
  std::vector<int64_t> shape;
  backend::DType dtype = backend::DType::F32;
  const void* data = nullptr;     // the stored values, aligned for dtype
  std::vector<float> scale;       // int8 weights: CTranslate2's per-row scale, w = q / scale[row]
  std::shared_ptr<void> storage;  // the aligned copy `data` points into, when there is one
  size_t bytes = 0;

  int64_t numel() const {
    int64_t n = 1;
    for (auto d : shape) n *= d;
    return n;
  }
  // Element i as a float (int8 divided by its row's scale).
  float value(int64_t i) const;
};

std::string shape_to_string(const std::vector<int64_t>& shape);

class WeightTable {
 public:
  WeightTable(std::string source, std::shared_ptr<const MappedFile> file);
  ~WeightTable();

  void add(const std::string& name, Tensor t) { tensors_[name] = std::move(t); }
  // `alias` names the same tensor as `target` (e.g. a tied output projection); no copy is made.
  void add_alias(const std::string& alias, const std::string& target) { aliases_[alias] = target; }
  bool has(const std::string& name) const { return tensors_.count(resolve(name)) != 0; }
  const std::string& source() const { return source_; }

  // The tensor `name`, checked against `expected` shape; throws Error(Model) naming the file and variable.
  const Tensor& get(const std::string& name, const std::vector<int64_t>& expected) const;
  // The tensor `name` with any shape; throws Error(Model) if missing.
  const Tensor& get(const std::string& name) const;
  // The stored matrix `name` seen as (rows, cols), for packing.
  backend::WeightView view(const std::string& name, int rows, int cols) const;
  // `name` as fp32 values, checked against `expected`: made on the first request and kept (model binding).
  const float* f32(const std::string& name, const std::vector<int64_t>& expected);
  // A scalar variable (e.g. num_heads) or `fallback` when the file does not have it.
  float scalar(const std::string& name, float fallback) const;
  // The model has packed `name` and will not read it again: its copy is freed and its pages of the mapped
  // file are given back (they stay readable; the kernel re-reads them from the file if touched).
  void release(const std::string& name);

 private:
  const std::string& resolve(const std::string& name) const {
    auto it = aliases_.find(name);
    return it == aliases_.end() ? name : it->second;
  }
  std::string source_;
  std::shared_ptr<const MappedFile> file_;
  std::map<std::string, Tensor> tensors_;
  std::map<std::string, std::string> aliases_;
  std::map<std::string, std::vector<float>> f32_;
};

}  // namespace wisp
