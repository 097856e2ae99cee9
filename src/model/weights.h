// WeightTable: named fp32 tensors, the one format every model loader produces.
//
// Loaders (CTranslate2 today; ggml and safetensors later) read their file, validate it and convert each
// variable to float32 (fp16/bf16 widened, int8 dequantized with its per-row scale). The table is immutable
// after loading and shared by every context.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace wisp {

struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data;  // row-major, C order
  // The same values as IEEE half floats, kept when the file stored float16 (so the copy is exact).
  // Bandwidth-bound kernels (decoder steps) read these: half the bytes, identical products.
  std::vector<uint16_t> f16;

  int64_t numel() const {
    int64_t n = 1;
    for (auto d : shape) n *= d;
    return n;
  }
};

std::string shape_to_string(const std::vector<int64_t>& shape);

class WeightTable {
 public:
  explicit WeightTable(std::string source) : source_(std::move(source)) {}

  void add(const std::string& name, Tensor t) { tensors_[name] = std::move(t); }
  // `alias` names the same tensor as `target` (e.g. a tied output projection); no copy is made.
  void add_alias(const std::string& alias, const std::string& target) { aliases_[alias] = target; }
  bool has(const std::string& name) const { return tensors_.count(resolve(name)) != 0; }
  const std::string& source() const { return source_; }
  const std::map<std::string, Tensor>& all() const { return tensors_; }

  // The tensor `name`, checked against `expected` shape; throws Error(Model) naming the file and variable.
  const Tensor& get(const std::string& name, const std::vector<int64_t>& expected) const;
  // The tensor `name` with any shape; throws Error(Model) if missing.
  const Tensor& get(const std::string& name) const;
  // For the model while it binds weights (e.g. to drop f16 copies no kernel will read).
  Tensor& get_mutable(const std::string& name) { return const_cast<Tensor&>(get(name)); }
  // A scalar variable (e.g. num_heads) or `fallback` when the file does not have it.
  float scalar(const std::string& name, float fallback) const;

 private:
  const std::string& resolve(const std::string& name) const {
    auto it = aliases_.find(name);
    return it == aliases_.end() ? name : it->second;
  }
  std::string source_;
  std::map<std::string, Tensor> tensors_;
  std::map<std::string, std::string> aliases_;
};

}  // namespace wisp
