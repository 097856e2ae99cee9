#include "decode/compression.h"

#include <zlib.h>

#include <vector>

namespace wisp::decode {

float compression_ratio(const std::string& text) {
  if (text.empty()) return 0.0f;
  uLongf out_len = compressBound(static_cast<uLong>(text.size()));
  std::vector<Bytef> out(out_len);
  // Python's zlib.compress default level (Z_DEFAULT_COMPRESSION), so ratios match the reference.
  if (compress2(out.data(), &out_len, reinterpret_cast<const Bytef*>(text.data()),
                static_cast<uLong>(text.size()), Z_DEFAULT_COMPRESSION) != Z_OK ||
      out_len == 0)
    return 0.0f;
  return static_cast<float>(text.size()) / static_cast<float>(out_len);
}

}  // namespace wisp::decode
