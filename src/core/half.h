// IEEE 754 half precision → float, exactly (subnormals, infinities and NaN included), in portable code:
// for reading stored weights where no F16C instruction may be assumed.
#pragma once

#include <cstdint>
#include <cstring>

namespace wisp {

// Element i of 16-bit values at p, which need not be 2-byte aligned (a model file's variables follow names
// of any length, and 16-bit weights are used where they lie in the mapped file).
inline uint16_t load_u16(const void* p, size_t i) {
  uint16_t v;
  std::memcpy(&v, static_cast<const unsigned char*>(p) + 2 * i, sizeof v);
  return v;
}

inline float half_to_float(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: renormalise
      exp = 127 - 15 + 1;
      while ((mant & 0x400u) == 0) {
        mant <<= 1;
        --exp;
      }
      mant &= 0x3ffu;
      bits = sign | (exp << 23) | (mant << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp - 15 + 127) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

}  // namespace wisp
