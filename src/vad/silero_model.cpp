#include "vad/silero_model.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>

#include "core/error.h"
#include "core/half.h"
#include "core/regular_file.h"

namespace wisp::vad {
namespace {

constexpr uint32_t kGgmlMagic = 0x67676d6c;
constexpr size_t kMaxFileBytes = size_t{16} << 20;  // the real file is 885 KB
constexpr int32_t kMaxNameBytes = 256;

// Bounds-checked little-endian cursor; every failure names the file, what was being read and where.
class Reader {
 public:
  Reader(const unsigned char* data, size_t size, const std::string& name)
      : data_(data), size_(size), name_(name) {}

  int32_t i32(const std::string& what) {
    need(4, what);
    uint32_t v = 0;
    for (int k = 3; k >= 0; --k) v = (v << 8) | data_[pos_ + static_cast<size_t>(k)];
    pos_ += 4;
    int32_t s;
    std::memcpy(&s, &v, 4);
    return s;
  }
  const unsigned char* take(size_t n, const std::string& what) {
    need(n, what);
    const unsigned char* p = data_ + pos_;
    pos_ += n;
    return p;
  }
  bool at_end() const { return pos_ == size_; }
  [[noreturn]] void fail(const std::string& msg) const {
    throw Error(ErrorKind::Model,
                "VAD model '" + name_ + "': " + msg + " (at byte " + std::to_string(pos_) + ")");
  }

 private:
  void need(size_t n, const std::string& what) const {
    if (size_ - pos_ < n)
      fail("file is truncated while reading " + what + " (" + std::to_string(size_) + " bytes in file)");
  }
  const unsigned char* data_;
  size_t size_, pos_ = 0;
  const std::string& name_;
};

// What the file must hold: each tensor's ggml shape (fastest dimension first; missing ones are 1) and where
// its fp32 values go.
struct Expected {
  std::array<int64_t, 4> ne;
  std::vector<float>* dst;
  bool seen = false;
};

std::string dims_to_string(const std::array<int64_t, 4>& ne) {
  std::string s = "[";
  for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}

}  // namespace

SileroModel parse_silero_model(const unsigned char* data, size_t size, const std::string& name) {
  Reader r(data, size, name);
  SileroModel m;
  m.path = name;

  if (static_cast<uint32_t>(r.i32("the magic number")) != kGgmlMagic)
    r.fail("not a ggml file (bad magic number)");
  const int32_t type_len = r.i32("the model type");
  if (type_len <= 0 || type_len > 64) r.fail("implausible model type length " + std::to_string(type_len));
  const std::string type(
      reinterpret_cast<const char*>(r.take(static_cast<size_t>(type_len), "the model type")),
      static_cast<size_t>(type_len));
  if (type != "silero-16k") r.fail("model type is not 'silero-16k' (a Silero VAD model for 16 kHz audio)");
  const int32_t major = r.i32("the version"), minor = r.i32("the version"), patch = r.i32("the version");
  if (major < 5 || major > 6 || minor < 0 || patch < 0)
    r.fail("Silero VAD version " + std::to_string(major) + " is not supported (5 or 6)");
  m.version = std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);

  // The architecture this forward pass is written for; a file that says otherwise is not this network.
  auto expect = [&](const char* what, int32_t want) {
    const int32_t got = r.i32(what);
    if (got != want)
      r.fail(std::string(what) + " is " + std::to_string(got) + ", expected " + std::to_string(want));
  };
  expect("window size", kWindowSamples);
  expect("context size", kContextSamples);
  expect("number of encoder layers", kEncoderLayers);
  const int in_channels[kEncoderLayers] = {kStftBins, 128, 64, 64};
  const int out_channels[kEncoderLayers] = {128, 64, 64, kHidden};
  const int strides[kEncoderLayers] = {1, 2, 2, 1};
  for (int i = 0; i < kEncoderLayers; ++i) {
    expect("encoder input channels", in_channels[i]);
    expect("encoder output channels", out_channels[i]);
    expect("encoder kernel size", 3);
    m.encoder[static_cast<size_t>(i)].in = in_channels[i];
    m.encoder[static_cast<size_t>(i)].out = out_channels[i];
    m.encoder[static_cast<size_t>(i)].stride = strides[i];
  }
  expect("LSTM input size", kHidden);
  expect("LSTM hidden size", kHidden);
  expect("final conv input channels", kHidden);
  expect("final conv output channels", 1);

  std::vector<float> out_bias;
  std::map<std::string, Expected> tensors;
  for (int i = 0; i < kEncoderLayers; ++i) {
    ConvLayer& c = m.encoder[static_cast<size_t>(i)];
    const std::string prefix = "_model.encoder." + std::to_string(i) + ".reparam_conv.";
    tensors[prefix + "weight"] = {{3, c.in, c.out, 1}, &c.weight};
    tensors[prefix + "bias"] = {{c.out, 1, 1, 1}, &c.bias};
  }
  tensors["_model.decoder.rnn.weight_ih"] = {{kHidden, 4 * kHidden, 1, 1}, &m.lstm_w_ih};
  tensors["_model.decoder.rnn.weight_hh"] = {{kHidden, 4 * kHidden, 1, 1}, &m.lstm_w_hh};
  tensors["_model.decoder.rnn.bias_ih"] = {{4 * kHidden, 1, 1, 1}, &m.lstm_b_ih};
  tensors["_model.decoder.rnn.bias_hh"] = {{4 * kHidden, 1, 1, 1}, &m.lstm_b_hh};
  tensors["_model.decoder.decoder.2.weight"] = {{kHidden, 1, 1, 1}, &m.out_weight};
  tensors["_model.decoder.decoder.2.bias"] = {{1, 1, 1, 1}, &out_bias};
  tensors["_model.stft.forward_basis_buffer"] = {{kStftTaps, 1, 2 * kStftBins, 1}, &m.stft_basis};

  while (!r.at_end()) {
    const int32_t n_dims = r.i32("a tensor header");
    const int32_t name_len = r.i32("a tensor header");
    const int32_t ttype = r.i32("a tensor header");
    if (n_dims < 0 || n_dims > 4) r.fail("tensor with " + std::to_string(n_dims) + " dimensions (at most 4)");
    if (name_len <= 0 || name_len > kMaxNameBytes)
      r.fail("implausible tensor name length " + std::to_string(name_len));
    if (ttype != 0 && ttype != 1)
      r.fail("tensor type " + std::to_string(ttype) + " is not float32 (0) or float16 (1)");
    std::array<int64_t, 4> ne{1, 1, 1, 1};
    for (int d = 0; d < n_dims; ++d) ne[static_cast<size_t>(d)] = r.i32("a tensor's dimensions");
    const std::string tname(
        reinterpret_cast<const char*>(r.take(static_cast<size_t>(name_len), "a tensor name")),
        static_cast<size_t>(name_len));
    auto it = tensors.find(tname);
    if (it == tensors.end()) r.fail("unknown tensor '" + tname + "'");
    Expected& e = it->second;
    if (e.seen) r.fail("tensor '" + tname + "' appears twice");
    if (ne != e.ne)
      r.fail("tensor '" + tname + "' has shape " + dims_to_string(ne) + ", expected " + dims_to_string(e.ne));
    e.seen = true;
    const size_t n = static_cast<size_t>(ne[0] * ne[1] * ne[2] * ne[3]);  // each checked above: small
    const size_t width = ttype == 0 ? 4 : 2;
    const unsigned char* p = r.take(n * width, "the data of tensor '" + tname + "'");
    e.dst->resize(n);
    for (size_t i = 0; i < n; ++i) {
      float v;
      if (ttype == 0) {
        uint32_t bits = 0;
        for (int k = 3; k >= 0; --k) bits = (bits << 8) | p[4 * i + static_cast<size_t>(k)];
        std::memcpy(&v, &bits, 4);
      } else {
        v = half_to_float(static_cast<uint16_t>(p[2 * i] | (p[2 * i + 1] << 8)));
      }
      if (!std::isfinite(v))
        r.fail("tensor '" + tname + "' holds a non-finite value at element " + std::to_string(i));
      (*e.dst)[i] = v;
    }
  }
  for (const auto& [tname, e] : tensors)
    if (!e.seen) r.fail("tensor '" + tname + "' is missing");
  m.out_bias = out_bias[0];
  return m;
}

SileroModel load_silero_model(const std::string& path) {
  std::string bytes;
  try {
    bytes = *read_regular_file(path, kMaxFileBytes, ErrorKind::Model);
  } catch (const Error& e) {
    throw Error(e.kind(), std::string("VAD model: ") + e.what());
  }
  return parse_silero_model(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), path);
}

}  // namespace wisp::vad
