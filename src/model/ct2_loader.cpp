// CTranslate2 model directories (model.bin + config.json + tokenizer.json), as faster-whisper uses them.
//
// model.bin layout (CTranslate2 python/ctranslate2/specs/model_spec.py, _serialize), little-endian:
//   u32 binary_version (we accept 3..6) | string spec_name | u32 spec_revision | u32 n_variables
//   n_variables × { string name | u8 rank | rank × u32 dim | u8 dtype | u32 n_bytes | n_bytes data }
//   u32 n_aliases × { string alias | string target }
// where string = u16 length (including a trailing NUL) + bytes, and dtype indexes
// (float32, int8, int16, int32, float16, bfloat16). int8 weights come with "<name>_scale" (one per row).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
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

backend::DType stored_type(DType dt) {
  switch (dt) {
    case DType::F32:
      return backend::DType::F32;
    case DType::I8:
      return backend::DType::I8;
    case DType::F16:
      return backend::DType::F16;
    case DType::BF16:
      return backend::DType::BF16;
    case DType::I16:
    case DType::I32:
      break;
  }
  return backend::DType::I32;  // integers (flags, alignment heads); int16 is widened on reading
}

// Index of the first NaN or infinity among n stored values, or n: one branch-free pass over the exponent
// bits (the compiler vectorises it), then a second only when something was found.
template <typename Bits>
size_t first_non_finite(const unsigned char* p, size_t n, Bits mask) {
  auto bad = [&](size_t i) {
    Bits b;
    std::memcpy(&b, p + i * sizeof(Bits), sizeof(Bits));
    return (b & mask) == mask;
  };
  uint32_t any = 0;
  for (size_t i = 0; i < n; ++i) any |= static_cast<uint32_t>(bad(i));
  if (!any) return n;
  for (size_t i = 0; i < n; ++i)
    if (bad(i)) return i;
  return n;
}

size_t first_non_finite(const unsigned char* p, size_t n, DType dt) {
  switch (dt) {
    case DType::F32:
      return first_non_finite<uint32_t>(p, n, 0x7f800000u);
    case DType::F16:
      return first_non_finite<uint16_t>(p, n, 0x7c00u);
    case DType::BF16:
      return first_non_finite<uint16_t>(p, n, 0x7f80u);
    default:
      return n;
  }
}

// A tensor over the mapped bytes, or over an aligned copy of them when they are not aligned for the type
// (variables follow names of any length in the file) and are read as typed values: 32-bit ones. 16-bit
// weights (most of a float16 model: 59 MB of tiny.en's 75, the token embedding alone 40 MB) stay where they
// lie, read through load_u16 and unaligned vector loads, so loading neither copies them nor faults in fresh
// memory for them. int16 becomes an int32 copy.
Tensor make_tensor(const unsigned char* p, DType dt, std::vector<int64_t> shape, uint64_t n_bytes) {
  Tensor t;
  t.shape = std::move(shape);
  t.dtype = stored_type(dt);
  const size_t n = static_cast<size_t>(t.numel()), size = kDTypeSize[static_cast<int>(dt)];
  if (dt == DType::I16) {
    auto copy = std::shared_ptr<int32_t[]>(new int32_t[std::max<size_t>(n, 1)]);
    for (size_t i = 0; i < n; ++i) {
      int16_t v;
      std::memcpy(&v, p + 2 * i, 2);
      copy[i] = v;
    }
    t.data = copy.get();
    t.storage = copy;
    t.bytes = n * 4;
    return t;
  }
  t.bytes = static_cast<size_t>(n_bytes);
  if (reinterpret_cast<uintptr_t>(p) % size == 0 || size == 2) {
    t.data = p;
    return t;
  }
  auto copy = std::shared_ptr<unsigned char[]>(new unsigned char[std::max<size_t>(t.bytes, 1) + 64]);
  auto* aligned = reinterpret_cast<unsigned char*>((reinterpret_cast<uintptr_t>(copy.get()) + 63) / 64 * 64);
  std::memcpy(aligned, p, t.bytes);
  t.data = aligned;
  t.storage = copy;
  return t;
}

std::unique_ptr<WeightTable> read_model_bin(const std::string& path) {
  auto file = std::make_shared<const MappedFile>(path);
  Reader r(*file);
  auto table = std::make_unique<WeightTable>(path, file);
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
    // A NaN or infinity in a weight poisons every output (and NaN would reach float -> int conversions):
    // the file is corrupt.
    const size_t bad = first_non_finite(data, static_cast<size_t>(numel), static_cast<DType>(dt));
    Tensor t = make_tensor(data, static_cast<DType>(dt), std::move(shape), n_bytes);
    if (bad != static_cast<size_t>(numel))
      throw Error(ErrorKind::Model, path + ": variable '" + name + "' holds a non-finite value (" +
                                        std::to_string(t.value(static_cast<int64_t>(bad))) + " at element " +
                                        std::to_string(bad) + "): the file is corrupt");
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

  // int8 weights keep their values with their per-row scale (w = q / scale, CTranslate2's convention).
  for (auto& [name, entry] : raw) {
    auto& [t, dt] = entry;
    if (dt != DType::I8) continue;
    auto sit = raw.find(name + "_scale");
    if (sit == raw.end()) {
      if (t.shape.empty()) continue;  // int8 scalars (flags) carry no scale
      throw Error(ErrorKind::Model, path + ": int8 variable '" + name + "' has no '" + name + "_scale'");
    }
    const Tensor& s = sit->second.first;
    const int64_t rows = t.shape[0];
    if (s.numel() != rows)
      throw Error(ErrorKind::Model, path + ": '" + name + "_scale' has " + std::to_string(s.numel()) +
                                        " values, expected one per row (" + std::to_string(rows) + ")");
    t.scale.resize(static_cast<size_t>(rows));
    for (int64_t i = 0; i < rows; ++i) {
      t.scale[static_cast<size_t>(i)] = s.value(i);
      // A zero scale divides: the weights of that row would be infinite.
      if (t.scale[static_cast<size_t>(i)] == 0.0f)
        throw Error(ErrorKind::Model, path + ": variable '" + name +
                                          "' holds a non-finite value (scale 0 of row " + std::to_string(i) +
                                          "): the file is corrupt");
    }
  }
  for (auto& [name, entry] : raw) {
    if (name.size() > 6 && name.compare(name.size() - 6, 6, "_scale") == 0 && entry.second == DType::F32 &&
        raw.count(name.substr(0, name.size() - 6)))
      continue;
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
  std::string directory(const std::string& path) const override { return path; }
  LoadedModel load(const std::string& path) const override {
    LoadedModel m;
    m.directory = directory(path);
    m.weights = read_model_bin(path + "/model.bin");
    m.metadata = read_config(path + "/config.json");
    return m;
  }
};

}  // namespace

std::unique_ptr<ModelLoader> make_ct2_loader() { return std::make_unique<Ct2Loader>(); }

}  // namespace wisp
