// CTranslate2 model directories (model.bin + config.json + tokenizer.json), as faster-whisper uses them.
//
// model.bin layout (CTranslate2 python/ctranslate2/specs/model_spec.py, _serialize), little-endian:
//   u32 binary_version (we accept 3..6) | string spec_name | u32 spec_revision | u32 n_variables
//   n_variables × { string name | u8 rank | rank × u32 dim | u8 dtype | u32 n_bytes | n_bytes data }
//   u32 n_aliases × { string alias | string target }
// where string = u16 length (including a trailing NUL) + bytes, and dtype indexes
// (float32, int8, int16, int32, float16, bfloat16). int8 weights come with "<name>_scale" (one per row).
#include <immintrin.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/regular_file.h"
#include "model/mapped_file.h"
#include "model/model_loader.h"

namespace wisp {
namespace {

enum class DType : uint8_t { F32 = 0, I8 = 1, I16 = 2, I32 = 3, F16 = 4, BF16 = 5 };
constexpr uint64_t kDTypeSize[] = {4, 1, 2, 4, 2, 2};
// Elements per variable, at most: far above any Whisper weight (large-v3's biggest is 51866 x 1280), far
// below what would overflow a byte count.
constexpr uint64_t kMaxElements = uint64_t{1} << 33;

float half_to_float(uint16_t h) {
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

// Bounds-checked cursor over the mapped bytes: every read names the file and what was being read.
class Reader {
 public:
  Reader(const MappedFile& f) : file_(f) {}
  template <typename T>
  T read(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, file_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string read_string(const char* what) {
    auto len = read<uint16_t>(what);
    if (len == 0) fail(std::string("empty string for ") + what);
    need(len, what);
    std::string s(reinterpret_cast<const char*>(file_.data() + pos_), len - 1);
    pos_ += len;
    return s;
  }
  const unsigned char* take(size_t n, const std::string& what) {
    need(n, what.c_str());
    const unsigned char* p = file_.data() + pos_;
    pos_ += n;
    return p;
  }
  [[noreturn]] void fail(const std::string& msg) const {
    throw Error(ErrorKind::Model, file_.path() + ": " + msg + " (at byte " + std::to_string(pos_) + ")");
  }
  bool at_end() const { return pos_ == file_.size(); }

 private:
  void need(size_t n, const char* what) const {
    if (file_.size() - pos_ < n)
      fail(std::string("file is truncated while reading ") + what + " (" + std::to_string(file_.size()) +
           " bytes in file)");
  }
  const MappedFile& file_;
  size_t pos_ = 0;
};

Tensor convert(const unsigned char* p, DType dt, std::vector<int64_t> shape) {
  Tensor t;
  t.shape = std::move(shape);
  const size_t n = static_cast<size_t>(t.numel());
  t.data.resize(n);
  if (dt == DType::F16) {
    // The common case (CTranslate2 float16 models): 8 at a time with F16C, exact like half_to_float.
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
      _mm256_storeu_ps(&t.data[i],
                       _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 2 * i))));
    for (; i < n; ++i) {
      uint16_t v;
      std::memcpy(&v, p + 2 * i, 2);
      t.data[i] = half_to_float(v);
    }
    return t;
  }
  for (size_t i = 0; i < n; ++i) {
    switch (dt) {
      case DType::F32:
        std::memcpy(&t.data[i], p + 4 * i, 4);
        break;
      case DType::I8:
        t.data[i] = static_cast<float>(static_cast<int8_t>(p[i]));
        break;
      case DType::I16: {
        int16_t v;
        std::memcpy(&v, p + 2 * i, 2);
        t.data[i] = v;
        break;
      }
      case DType::I32: {
        int32_t v;
        std::memcpy(&v, p + 4 * i, 4);
        t.data[i] = static_cast<float>(v);
        break;
      }
      case DType::F16: {
        uint16_t v;
        std::memcpy(&v, p + 2 * i, 2);
        t.data[i] = half_to_float(v);
        break;
      }
      case DType::BF16: {
        uint16_t v;
        std::memcpy(&v, p + 2 * i, 2);
        uint32_t bits = static_cast<uint32_t>(v) << 16;
        std::memcpy(&t.data[i], &bits, 4);
        break;
      }
    }
  }
  return t;
}

// Index of the first NaN or infinity in p[0, n), or n. One branch-free pass the compiler vectorises, then a
// second only when something was found.
size_t first_non_finite(const float* p, size_t n) {
  uint32_t any = 0;
  for (size_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, p + i, 4);
    any |= static_cast<uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
  }
  if (!any) return n;
  for (size_t i = 0; i < n; ++i)
    if (!std::isfinite(p[i])) return i;
  return n;
}

std::unique_ptr<WeightTable> read_model_bin(const std::string& path) {
  MappedFile file(path);
  Reader r(file);
  auto table = std::make_unique<WeightTable>(path);
  const auto version = r.read<uint32_t>("binary version");
  if (version < 3 || version > 6)
    r.fail("unsupported CTranslate2 binary version " + std::to_string(version) + " (supported: 3 to 6)");
  const std::string spec = r.read_string("spec name");
  if (spec != "WhisperSpec") r.fail("model spec is '" + spec + "', not a Whisper model (WhisperSpec)");
  r.read<uint32_t>("spec revision");
  const auto n_vars = r.read<uint32_t>("variable count");
  std::map<std::string, std::pair<Tensor, DType>> raw;
  for (uint32_t v = 0; v < n_vars; ++v) {
    std::string name = r.read_string("variable name");
    const auto rank = r.read<uint8_t>("variable rank");
    if (rank > 4) r.fail("variable '" + name + "' has rank " + std::to_string(rank));
    std::vector<int64_t> shape;
    uint64_t numel = 1;  // checked against the limit before each multiply: never overflows
    for (int d = 0; d < rank; ++d) {
      const uint64_t dim = r.read<uint32_t>("variable dimension");
      shape.push_back(static_cast<int64_t>(dim));
      if (dim != 0 && numel > kMaxElements / dim) r.fail("variable '" + name + "' is implausibly large");
      numel *= dim;
    }
    const auto dt = r.read<uint8_t>("variable dtype");
    if (dt > 5) r.fail("variable '" + name + "' has unknown dtype id " + std::to_string(dt));
    const auto n_bytes = r.read<uint32_t>("variable byte count");
    const uint64_t expected_bytes = numel * kDTypeSize[dt];  // <= 2^33 * 4: fits
    if (expected_bytes != n_bytes)
      r.fail("variable '" + name + "' " + shape_to_string(shape) + " should hold " +
             std::to_string(expected_bytes) + " bytes but declares " + std::to_string(n_bytes));
    const unsigned char* data = r.take(n_bytes, "data of variable '" + name + "'");
    Tensor t = convert(data, static_cast<DType>(dt), std::move(shape));
    if (static_cast<DType>(dt) == DType::F16) {
      t.f16.resize(static_cast<size_t>(numel));
      std::memcpy(t.f16.data(), data, n_bytes);
    }
    raw[name] = {std::move(t), static_cast<DType>(dt)};
  }
  const auto n_alias = r.read<uint32_t>("alias count");
  std::vector<std::pair<std::string, std::string>> aliases;
  for (uint32_t a = 0; a < n_alias; ++a) {
    std::string alias = r.read_string("alias name");
    std::string target = r.read_string("alias target");
    aliases.emplace_back(alias, target);
  }
  if (!r.at_end()) r.fail("unexpected trailing bytes after the alias table");

  // Dequantize int8 weights: w = q / scale, one scale per output row (CTranslate2 convention).
  for (auto& [name, entry] : raw) {
    auto& [t, dt] = entry;
    if (dt != DType::I8) continue;
    auto sit = raw.find(name + "_scale");
    if (sit == raw.end()) {
      if (t.shape.empty()) continue;  // int8 scalars (flags) carry no scale
      throw Error(ErrorKind::Model, path + ": int8 variable '" + name + "' has no '" + name + "_scale'");
    }
    const Tensor& s = sit->second.first;
    const int64_t rows = t.shape[0], cols = t.numel() / std::max<int64_t>(rows, 1);
    if (s.numel() != rows)
      throw Error(ErrorKind::Model, path + ": '" + name + "_scale' has " + std::to_string(s.numel()) +
                                        " values, expected one per row (" + std::to_string(rows) + ")");
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) t.data[i * cols + j] /= s.data[i];
  }
  for (auto& [name, entry] : raw) {
    if (name.size() > 6 && name.compare(name.size() - 6, 6, "_scale") == 0 && entry.second == DType::F32 &&
        raw.count(name.substr(0, name.size() - 6)))
      continue;
    // A NaN or infinity in a weight poisons every output (and NaN would reach float -> int conversions):
    // the file is corrupt. Checked after dequantisation, so a zero int8 scale is caught too.
    const std::vector<float>& values = entry.first.data;
    const size_t bad = first_non_finite(values.data(), values.size());
    if (bad != values.size())
      throw Error(ErrorKind::Model, path + ": variable '" + name + "' holds a non-finite value (" +
                                        std::to_string(values[bad]) + " at element " + std::to_string(bad) +
                                        "): the file is corrupt");
    table->add(name, std::move(entry.first));
  }
  for (const auto& [alias, target] : aliases) {
    if (!table->has(target))
      throw Error(ErrorKind::Model,
                  path + ": alias '" + alias + "' points to missing variable '" + target + "'");
    table->add_alias(alias, target);
  }
  return table;
}

std::vector<int> int_list(const nlohmann::json& j, const char* key, const std::string& path) {
  std::vector<int> out;
  if (!j.contains(key)) return out;
  if (!j[key].is_array()) throw Error(ErrorKind::Model, path + ": '" + key + "' is not a list");
  for (const auto& v : j[key]) {
    if (!v.is_number_integer()) throw Error(ErrorKind::Model, path + ": '" + key + "' holds a non-integer");
    out.push_back(v.get<int>());
  }
  return out;
}

ModelMetadata read_config(const std::string& path) {
  ModelMetadata meta;
  // config.json is optional: defaults then come from the tokenizer.
  const std::optional<std::string> text = read_regular_file(path, kMaxJsonBytes, ErrorKind::Model, true);
  if (!text) return meta;
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) throw Error(ErrorKind::Model, path + ": not valid JSON");
  meta.suppress_ids = int_list(j, "suppress_ids", path);
  meta.suppress_ids_begin = int_list(j, "suppress_ids_begin", path);
  meta.lang_ids = int_list(j, "lang_ids", path);
  if (j.contains("alignment_heads") && j["alignment_heads"].is_array())
    for (const auto& p : j["alignment_heads"])
      if (p.is_array() && p.size() == 2 && p[0].is_number_integer() && p[1].is_number_integer())
        meta.alignment_heads.emplace_back(p[0].get<int>(), p[1].get<int>());
  return meta;
}

class Ct2Loader final : public ModelLoader {
 public:
  const char* format_name() const override { return "CTranslate2"; }
  bool recognizes(const std::string& path) const override {
    return std::filesystem::is_directory(path) && std::filesystem::exists(path + "/model.bin");
  }
  LoadedModel load(const std::string& path) const override {
    LoadedModel m;
    m.directory = path;
    m.weights = read_model_bin(path + "/model.bin");
    m.metadata = read_config(path + "/config.json");
    return m;
  }
};

}  // namespace

std::unique_ptr<ModelLoader> make_ct2_loader() { return std::make_unique<Ct2Loader>(); }

}  // namespace wisp
