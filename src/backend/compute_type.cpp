#include "backend/compute_type.h"

namespace wisp::backend {

const char* compute_type_name(ComputeType t) {
  switch (t) {
    case ComputeType::Auto:
      return "auto";
    case ComputeType::Float32:
      return "float32";
    case ComputeType::Bfloat16:
      return "bfloat16";
    case ComputeType::Int8:
      return "int8";
  }
  return "?";
}

bool parse_compute_type(const std::string& name, ComputeType* out) {
  for (ComputeType t : {ComputeType::Auto, ComputeType::Float32, ComputeType::Bfloat16, ComputeType::Int8})
    if (name == compute_type_name(t)) {
      *out = t;
      return true;
    }
  return false;
}

ComputeType resolve_compute_type(ComputeType t, cpu::Isa isa) {
  if (t != ComputeType::Auto) return t;
  // Measured in bench/ (README, Performance): int8 is fastest wherever the CPU has int8 dot products.
  (void)isa;
  return ComputeType::Int8;
}

}  // namespace wisp::backend
