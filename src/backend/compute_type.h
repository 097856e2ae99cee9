// The arithmetic a model runs in, chosen like faster-whisper's compute_type.
//   float32   weights widened to fp32 (fp16 weights kept for few-row products, which widen them exactly)
//   bfloat16  weights and activations rounded to bf16, fp32 accumulation
//   int8      weights per output channel, activations per row, int32 accumulation (CTranslate2's scheme);
//             attention in bf16 where the CPU has bf16 dot products, else fp32
//   auto      the fastest of these on this CPU
#pragma once

#include <string>

#include "backend/cpu/isa.h"

namespace wisp::backend {

enum class ComputeType { Auto, Float32, Bfloat16, Int8 };

const char* compute_type_name(ComputeType t);  // "auto", "float32", "bfloat16", "int8"
bool parse_compute_type(const std::string& name, ComputeType* out);
// What `auto` means on a CPU of this ISA level (other types are returned as they are).
ComputeType resolve_compute_type(ComputeType t, cpu::Isa isa);

}  // namespace wisp::backend
