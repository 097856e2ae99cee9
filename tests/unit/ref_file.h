// Reader for the oracle arrays that tests/reference/make_reference.py writes (.f32 files):
// 4 bytes "WREF", uint32 rank, rank x int64 dims, then float32 data, all little-endian, C order.
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace wisp::test {

struct RefArray {
  std::vector<int64_t> shape;
  std::vector<float> data;

  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
};

// Throws std::runtime_error if the file is missing, truncated or malformed.
inline RefArray read_ref(const std::string& path) {
  static_assert(sizeof(float) == 4, "float must be 32-bit");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("read_ref: cannot open " + path);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw std::runtime_error("read_ref: error reading " + path);

  // Little-endian decoding independent of the host's byte order.
  const auto u8 = [&](size_t i) { return static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])); };
  const auto le = [&](size_t pos, int n) {
    uint64_t v = 0;
    for (int k = n - 1; k >= 0; --k) v = (v << 8) | u8(pos + static_cast<size_t>(k));
    return v;
  };

  if (bytes.size() < 8 || std::memcmp(bytes.data(), "WREF", 4) != 0)
    throw std::runtime_error("read_ref: not a WREF file: " + path);
  const uint64_t rank = le(4, 4);
  if (rank > 16) throw std::runtime_error("read_ref: implausible rank in " + path);
  size_t pos = 8;
  if (bytes.size() < pos + 8 * rank) throw std::runtime_error("read_ref: truncated header in " + path);

  RefArray out;
  uint64_t numel = 1;
  for (uint64_t i = 0; i < rank; ++i, pos += 8) {
    const int64_t d = static_cast<int64_t>(le(pos, 8));
    if (d < 0 || (d > 0 && numel > (uint64_t{1} << 40) / static_cast<uint64_t>(d)))
      throw std::runtime_error("read_ref: bad dimension in " + path);
    out.shape.push_back(d);
    numel *= static_cast<uint64_t>(d);
  }
  if (bytes.size() - pos != numel * 4)
    throw std::runtime_error("read_ref: " + path + " has " + std::to_string(bytes.size() - pos) +
                             " data bytes, expected " + std::to_string(numel * 4));

  out.data.resize(static_cast<size_t>(numel));
  for (size_t i = 0; i < out.data.size(); ++i, pos += 4) {
    const auto bits = static_cast<uint32_t>(le(pos, 4));
    std::memcpy(&out.data[i], &bits, 4);
  }
  return out;
}

}  // namespace wisp::test
