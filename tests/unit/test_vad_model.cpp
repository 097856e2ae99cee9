// The Silero VAD ggml loader on the shipped file and on truncated, corrupt and doctored copies of it: every
// bad file gets a wisp::Error(Model) naming the file (and the tensor, where one is at fault) — never a crash.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numbers>
#include <random>

#include "core/error.h"
#include "unit/test_paths.h"
#include "vad/silero_model.h"
#include "vad/vad_model_path.h"

namespace wisp::vad {
namespace {

std::string shipped_model() { return std::string(WISP_SOURCE_DIR) + "/assets/vad/" + kBundledModelName; }

std::vector<unsigned char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

int32_t get_i32(const std::vector<unsigned char>& b, size_t pos) {
  int32_t v;
  std::memcpy(&v, &b[pos], 4);
  return v;
}
void put_i32(std::vector<unsigned char>& b, size_t pos, int32_t v) { std::memcpy(&b[pos], &v, 4); }

// Where each tensor of a well-formed file is: its header, its name and its data.
struct TensorAt {
  size_t header = 0, dims = 0, data = 0, bytes = 0;
  int n_dims = 0, type = 0;
  std::string name;
};
constexpr size_t kHeaderBytes = 4 + 4 + 10 + 3 * 4 + 2 * 4 + 4 + 4 * 3 * 4 + 2 * 4 + 2 * 4;

std::vector<TensorAt> tensors_of(const std::vector<unsigned char>& b) {
  std::vector<TensorAt> out;
  size_t pos = kHeaderBytes;
  while (pos < b.size()) {
    TensorAt t;
    t.header = pos;
    t.n_dims = get_i32(b, pos);
    const int32_t name_len = get_i32(b, pos + 4);
    t.type = get_i32(b, pos + 8);
    t.dims = pos + 12;
    size_t n = 1;
    for (int d = 0; d < t.n_dims; ++d)
      n *= static_cast<size_t>(get_i32(b, t.dims + 4 * static_cast<size_t>(d)));
    const size_t name_at = t.dims + 4 * static_cast<size_t>(t.n_dims);
    t.name.assign(reinterpret_cast<const char*>(&b[name_at]), static_cast<size_t>(name_len));
    t.data = name_at + static_cast<size_t>(name_len);
    t.bytes = n * (t.type == 0 ? 4 : 2);
    pos = t.data + t.bytes;
    out.push_back(t);
  }
  return out;
}

const TensorAt& find(const std::vector<TensorAt>& ts, const std::string& name) {
  for (const TensorAt& t : ts)
    if (t.name == name) return t;
  throw std::runtime_error("no tensor " + name);
}

// parse_silero_model on `b` must throw Error(Model) whose message holds every one of `needles`.
void expect_model_error(const std::vector<unsigned char>& b, const std::vector<std::string>& needles) {
  try {
    parse_silero_model(b.data(), b.size(), "doctored.bin");
    FAIL() << "loaded a bad file (expected: " << needles.front() << ")";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Model);
    const std::string msg = e.what();
    EXPECT_NE(msg.find("doctored.bin"), std::string::npos) << msg;
    for (const std::string& n : needles) EXPECT_NE(msg.find(n), std::string::npos) << msg;
  }
}

TEST(VadModel, LoadsTheShippedFile) {
  const SileroModel m = load_silero_model(shipped_model());
  EXPECT_EQ(m.version, "6.2.0");
  EXPECT_EQ(m.stft_basis.size(), size_t{258 * 256});
  EXPECT_EQ(m.encoder[0].weight.size(), size_t{128 * 129 * 3});
  EXPECT_EQ(m.encoder[1].stride, 2);
  EXPECT_EQ(m.encoder[3].bias.size(), size_t{128});
  EXPECT_EQ(m.lstm_w_hh.size(), size_t{512 * 128});
  EXPECT_EQ(m.out_weight.size(), size_t{128});
  // The STFT basis is a Hann-windowed DFT: bin 0's real row is the window itself, its imaginary row zero.
  for (int k = 0; k < 256; ++k) {
    const double hann = 0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * k / 256.0);
    EXPECT_NEAR(m.stft_basis[static_cast<size_t>(k)], hann, 1e-3) << k;
    EXPECT_EQ(m.stft_basis[static_cast<size_t>(129 * 256 + k)], 0.0f) << k;
  }
  EXPECT_EQ(tensors_of(read_bytes(shipped_model())).size(), size_t{15});
}

TEST(VadModel, FindsTheShippedFileByDefault) {
  const std::string path = resolve_vad_model("");
  EXPECT_TRUE(std::filesystem::is_regular_file(path)) << path;
  EXPECT_EQ(resolve_vad_model("/some/where.bin"), "/some/where.bin");
}

TEST(VadModel, MissingFileOrNotAFile) {
  for (const char* path : {"/nonexistent/silero.bin", "/dev/null", "/tmp"}) {
    try {
      load_silero_model(path);
      FAIL() << path;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("VAD model"), std::string::npos) << e.what();
    }
  }
}

TEST(VadModel, EveryTruncationIsAnError) {
  const std::vector<unsigned char> good = read_bytes(shipped_model());
  std::vector<size_t> cuts;
  for (size_t n = 0; n < kHeaderBytes + 200; ++n) cuts.push_back(n);
  for (const TensorAt& t : tensors_of(good))
    for (size_t n : {t.header + 1, t.dims + 2, t.data - 1, t.data + 1, t.data + t.bytes - 1})
      cuts.push_back(n);
  for (size_t n : cuts) {
    std::vector<unsigned char> cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_THROW(parse_silero_model(cut.data(), cut.size(), "cut.bin"), Error) << n;
  }
  // Cut exactly between two tensors: the rest are missing.
  const TensorAt last = tensors_of(good).back();
  std::vector<unsigned char> cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(last.header));
  expect_model_error(cut, {"'_model.stft.forward_basis_buffer' is missing"});
}

TEST(VadModel, CorruptHeaders) {
  const std::vector<unsigned char> good = read_bytes(shipped_model());
  auto with = [&](size_t pos, int32_t v) {
    std::vector<unsigned char> b = good;
    put_i32(b, pos, v);
    return b;
  };
  expect_model_error(with(0, 0x12345678), {"bad magic"});
  expect_model_error(with(4, -1), {"model type length"});
  expect_model_error(with(4, 1 << 30), {"model type length"});
  std::vector<unsigned char> b8k = good;
  std::memcpy(&b8k[8], "silero-08k", 10);
  expect_model_error(b8k, {"silero-16k"});
  expect_model_error(with(18, 4), {"version 4"});
  expect_model_error(with(30, 256), {"window size", "256"});
  expect_model_error(with(34, 32), {"context size"});
  expect_model_error(with(38, 5), {"encoder layers"});
  expect_model_error(with(42, 128), {"encoder input channels", "128", "129"});
  expect_model_error(with(50, 5), {"kernel size"});
  expect_model_error(with(kHeaderBytes - 4, 2), {"final conv output channels"});
}

TEST(VadModel, CorruptTensors) {
  const std::vector<unsigned char> good = read_bytes(shipped_model());
  const std::vector<TensorAt> ts = tensors_of(good);
  const TensorAt& conv = find(ts, "_model.encoder.1.reparam_conv.weight");
  const TensorAt& lstm = find(ts, "_model.decoder.rnn.weight_hh");
  auto with = [&](size_t pos, int32_t v) {
    std::vector<unsigned char> b = good;
    put_i32(b, pos, v);
    return b;
  };
  expect_model_error(with(conv.header, 7), {"7 dimensions"});
  expect_model_error(with(conv.header, -1), {"-1 dimensions"});
  expect_model_error(with(conv.header + 4, 0), {"tensor name length"});
  expect_model_error(with(conv.header + 4, 1 << 30), {"tensor name length"});
  expect_model_error(with(conv.header + 8, 2), {"tensor type 2"});
  expect_model_error(
      with(conv.dims + 4, 64),
      {"'_model.encoder.1.reparam_conv.weight' has shape [3, 64, 64, 1]", "expected [3, 128, 64, 1]"});
  expect_model_error(with(conv.dims, -3), {"'_model.encoder.1.reparam_conv.weight' has shape"});
  expect_model_error(with(lstm.dims + 4, 1 << 30), {"_model.decoder.rnn.weight_hh"});

  std::vector<unsigned char> renamed = good;
  renamed[conv.data - 8] = 'X';  // "..._conv.weight" -> "..._conX.weight"
  expect_model_error(renamed, {"unknown tensor"});

  // A tensor twice: the file's first tensor copied over its second (same size, so the rest stays aligned).
  std::vector<unsigned char> twice = good;
  const TensorAt& w0 = ts[0];
  const TensorAt& b0 = ts[1];
  std::vector<unsigned char> dup(good.begin() + static_cast<std::ptrdiff_t>(b0.header),
                                 good.begin() + static_cast<std::ptrdiff_t>(b0.data + b0.bytes));
  twice.insert(twice.begin() + static_cast<std::ptrdiff_t>(w0.header), dup.begin(), dup.end());
  expect_model_error(twice, {"'_model.encoder.0.reparam_conv.bias' appears twice"});

  // Non-finite values, in an f16 and an f32 tensor.
  std::vector<unsigned char> nan16 = good;
  nan16[conv.data + 10] = 0x00;
  nan16[conv.data + 11] = 0x7e;
  expect_model_error(nan16, {"'_model.encoder.1.reparam_conv.weight' holds a non-finite value at element 5"});
  std::vector<unsigned char> inf32 = good;
  const float inf = INFINITY;
  std::memcpy(&inf32[lstm.data + 4 * 77], &inf, 4);
  expect_model_error(inf32, {"'_model.decoder.rnn.weight_hh' holds a non-finite value at element 77"});
}

// Random byte flips and cuts: the loader either loads (a flip inside weights that leaves them finite) or
// throws wisp::Error — nothing else, ever.
TEST(VadModel, FuzzedFilesNeverCrash) {
  const std::vector<unsigned char> good = read_bytes(shipped_model());
  std::mt19937 rng(7);
  int loaded = 0, refused = 0;
  for (int round = 0; round < 400; ++round) {
    std::vector<unsigned char> b = good;
    const int flips = 1 + static_cast<int>(rng() % 8);
    for (int i = 0; i < flips; ++i) {
      // Half the flips land in the first 2 KB, where the headers are.
      const size_t pos = rng() % 2 ? rng() % 2048 : rng() % b.size();
      b[pos] = static_cast<unsigned char>(rng());
    }
    if (rng() % 4 == 0) b.resize(rng() % b.size());
    try {
      parse_silero_model(b.data(), b.size(), "fuzz.bin");
      ++loaded;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Model);
      ++refused;
    }
  }
  EXPECT_GT(refused, 100);
  std::printf("fuzzed VAD model files: %d loaded, %d refused\n", loaded, refused);
}

}  // namespace
}  // namespace wisp::vad
