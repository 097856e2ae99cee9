// Tests for the FFmpeg audio decoding layer: exactness on PCM, many formats made at runtime with the ffmpeg
// CLI, stdin and memory input, every error path, and a small seeded fuzz loop.
#include "audio/audio_decoder.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"

#ifndef WISP_SHARED_DIR
#define WISP_SHARED_DIR "/work/shared"
#endif

namespace fs = std::filesystem;
using wisp::Error;
using wisp::ErrorKind;
using wisp::audio::decode_file;
using wisp::audio::decode_memory;

namespace {

const std::string kAudioDir = std::string(WISP_SHARED_DIR) + "/audio";
const std::string kJfk = kAudioDir + "/jfk.wav";
const std::string kFleurs = kAudioDir + "/fleurs-en-000.ogg";
constexpr size_t kJfkSamples = 176000;  // 11.0 s at 16 kHz
// `ffprobe fleurs-en-000.ogg`: opus, 48 kHz mono, duration 10.566500 s -> 169064 samples at 16 kHz.
constexpr double kFleursSeconds = 10.5665;

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const void* data, size_t size) {
  std::ofstream out(path, std::ios::binary);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
}

uint32_t le32(const uint8_t* p) { return p[0] | p[1] << 8 | p[2] << 16 | static_cast<uint32_t>(p[3]) << 24; }
uint16_t le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }

// Independent reference: walk the RIFF chunks of a 16-bit mono PCM wav and scale its data chunk by 1/32768.
std::vector<float> read_pcm16_wav(const std::string& path) {
  const std::vector<uint8_t> b = read_bytes(path);
  EXPECT_GE(b.size(), 12u);
  EXPECT_EQ(std::memcmp(b.data(), "RIFF", 4), 0);
  EXPECT_EQ(std::memcmp(b.data() + 8, "WAVE", 4), 0);
  for (size_t pos = 12; pos + 8 <= b.size();) {
    const uint32_t size = le32(&b[pos + 4]);
    const uint8_t* body = &b[pos + 8];
    if (std::memcmp(&b[pos], "fmt ", 4) == 0) {
      EXPECT_EQ(le16(body), 1);      // PCM
      EXPECT_EQ(le16(body + 2), 1);  // mono
      EXPECT_EQ(le32(body + 4), 16000u);
      EXPECT_EQ(le16(body + 14), 16);  // bits per sample
    } else if (std::memcmp(&b[pos], "data", 4) == 0) {
      const size_t n = std::min<size_t>(size, b.size() - pos - 8) / 2;
      std::vector<float> out(n);
      for (size_t i = 0; i < n; ++i) out[i] = static_cast<int16_t>(le16(body + 2 * i)) / 32768.0f;
      return out;
    }
    pos += 8 + size + (size & 1);
  }
  ADD_FAILURE() << "no data chunk in " << path;
  return {};
}

double rms(const std::vector<float>& x) {
  double s = 0;
  for (float v : x) s += static_cast<double>(v) * v;
  return x.empty() ? 0 : std::sqrt(s / static_cast<double>(x.size()));
}

// Normalised correlation over the common length (no lag search: the decoder must keep the audio aligned).
double correlation(const std::vector<float>& a, const std::vector<float>& b) {
  const size_t n = std::min(a.size(), b.size());
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < n; ++i) {
    ab += static_cast<double>(a[i]) * b[i];
    aa += static_cast<double>(a[i]) * a[i];
    bb += static_cast<double>(b[i]) * b[i];
  }
  return aa > 0 && bb > 0 ? ab / std::sqrt(aa * bb) : 0;
}

void expect_in_range(const std::vector<float>& x) {
  for (float v : x) {
    ASSERT_TRUE(std::isfinite(v));
    ASSERT_LE(std::fabs(v), 1.0f);
  }
}

// Runs `fn`, which must throw wisp::Error of `kind` whose message contains every string in `needles`.
void expect_error(const std::function<void()>& fn, ErrorKind kind, const std::vector<std::string>& needles) {
  try {
    fn();
    ADD_FAILURE() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(static_cast<int>(e.kind()), static_cast<int>(kind)) << e.what();
    for (const std::string& s : needles)
      EXPECT_NE(std::string(e.what()).find(s), std::string::npos) << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
  }
}

bool have_ffmpeg() { return std::system("ffmpeg -version >/dev/null 2>&1") == 0; }

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "wisp_audio_test_XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

// `ffmpeg <input args> -i <input> <output args> <out>`, quiet; true on success.
bool run_ffmpeg(const std::string& in_args, const std::string& input, const std::string& out_args,
                const std::string& out) {
  const std::string cmd = "ffmpeg -nostdin -hide_banner -loglevel error -y " + in_args + " -i '" + input +
                          "' " + out_args + " '" + out + "' >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

// Makes `bytes` the process's stdin for the duration of `fn` (via a pipe fed by a thread when `as_pipe`, else
// via a temporary regular file), then restores the original stdin.
std::vector<float> decode_via_stdin(const std::vector<uint8_t>& bytes, bool as_pipe, const TempDir& tmp) {
  const int saved = dup(STDIN_FILENO);
  std::thread writer;
  if (as_pipe) {
    // The decoder may stop reading early (an error); the writer must then get EPIPE, not die of SIGPIPE.
    std::signal(SIGPIPE, SIG_IGN);
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
    dup2(fds[0], STDIN_FILENO);
    close(fds[0]);
    writer = std::thread([&bytes, wfd = fds[1]] {
      for (size_t off = 0; off < bytes.size();) {
        const ssize_t n = write(wfd, bytes.data() + off, bytes.size() - off);
        if (n <= 0) break;  // reader gave up (EPIPE): fine
        off += static_cast<size_t>(n);
      }
      close(wfd);
    });
  } else {
    const std::string path = tmp.file("stdin.bin");
    write_bytes(path, bytes.data(), bytes.size());
    const int fd = open(path.c_str(), O_RDONLY);
    dup2(fd, STDIN_FILENO);
    close(fd);
  }
  auto restore = [&] {
    dup2(saved, STDIN_FILENO);  // also closes the pipe's read end, unblocking a writer still going
    close(saved);
    if (writer.joinable()) writer.join();
  };
  try {
    std::vector<float> out = decode_file("-");
    restore();
    return out;
  } catch (...) {
    restore();
    throw;
  }
}

TEST(AudioDecoder, JfkWavIsBitExact) {
  const std::vector<float> ref = read_pcm16_wav(kJfk);
  const std::vector<float> pcm = decode_file(kJfk);
  EXPECT_NEAR(static_cast<double>(pcm.size()), static_cast<double>(kJfkSamples), 4.0);
  ASSERT_EQ(pcm.size(), ref.size());
  float max_diff = 0;
  for (size_t i = 0; i < pcm.size(); ++i) max_diff = std::max(max_diff, std::fabs(pcm[i] - ref[i]));
  EXPECT_LT(max_diff, 1e-6f);
  EXPECT_GT(rms(pcm), 0.01);
}

TEST(AudioDecoder, OggOpusFleurs) {
  const std::vector<float> pcm = decode_file(kFleurs);
  const double expected = kFleursSeconds * wisp::audio::kSampleRate;
  EXPECT_NEAR(static_cast<double>(pcm.size()), expected, 0.01 * expected);
  expect_in_range(pcm);
  // A quiet recording (ffmpeg volumedetect: mean -48.8 dB, max -28.5 dB), but clearly not silence.
  EXPECT_GT(rms(pcm), 0.002);
  EXPECT_GT(*std::max_element(pcm.begin(), pcm.end()), 0.02f);
}

TEST(AudioDecoder, MemoryEqualsFile) {
  const std::vector<uint8_t> bytes = read_bytes(kJfk);
  EXPECT_EQ(decode_memory(bytes.data(), bytes.size(), "jfk.wav"), decode_file(kJfk));
  const std::vector<uint8_t> ogg = read_bytes(kFleurs);
  EXPECT_EQ(decode_memory(ogg.data(), ogg.size(), "upload"), decode_file(kFleurs));
}

TEST(AudioDecoder, StdinFileAndPipe) {
  TempDir tmp;
  const std::vector<float> ref = decode_file(kJfk);
  EXPECT_EQ(decode_via_stdin(read_bytes(kJfk), /*as_pipe=*/false, tmp), ref);
  EXPECT_EQ(decode_via_stdin(read_bytes(kJfk), /*as_pipe=*/true, tmp), ref);
  EXPECT_EQ(decode_via_stdin(read_bytes(kFleurs), /*as_pipe=*/true, tmp), decode_file(kFleurs));
  expect_error([&] { decode_via_stdin({}, /*as_pipe=*/true, tmp); }, ErrorKind::Audio, {"stdin", "empty"});
}

// The server decodes uploads on several threads at once; the log capture is thread-local and nothing is
// shared.
TEST(AudioDecoder, ConcurrentDecodes) {
  const std::vector<float> jfk = decode_file(kJfk);
  const std::vector<float> fleurs = decode_file(kFleurs);
  std::vector<int> ok(8, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      const bool even = t % 2 == 0;
      ok[t] = decode_file(even ? kJfk : kFleurs) == (even ? jfk : fleurs);
      try {
        decode_file("/nonexistent.wav");
      } catch (const Error& e) {
        ok[t] &= e.kind() == ErrorKind::Io;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok, std::vector<int>(8, 1));
}

// ---- Formats made at runtime from jfk.wav with the ffmpeg CLI. ----

struct FormatCase {
  const char* name;
  const char* out_args;
  bool lossless;               // same samples up to resampling: must correlate strongly and keep the level
  bool level_changes = false;  // multichannel downmix: check correlation instead of level
};

class AudioDecoderFormats : public ::testing::TestWithParam<FormatCase> {
 protected:
  static void SetUpTestSuite() {
    if (have_ffmpeg()) tmp_ = new TempDir;
  }
  static void TearDownTestSuite() {
    delete tmp_;
    tmp_ = nullptr;
  }
  static TempDir* tmp_;
};
TempDir* AudioDecoderFormats::tmp_ = nullptr;

TEST_P(AudioDecoderFormats, DecodesLikeTheOriginal) {
  if (!tmp_) GTEST_SKIP() << "ffmpeg CLI not installed";
  const FormatCase& c = GetParam();
  const std::string path = tmp_->file(c.name);
  ASSERT_TRUE(run_ffmpeg("", kJfk, c.out_args, path)) << "ffmpeg could not make " << c.name;

  const std::vector<float> ref = read_pcm16_wav(kJfk);
  const std::vector<float> pcm = decode_file(path);
  expect_in_range(pcm);
  const double ref_rms = rms(ref);
  if (c.lossless) {
    EXPECT_NEAR(static_cast<double>(pcm.size()), static_cast<double>(kJfkSamples), 16.0);
    EXPECT_GT(correlation(pcm, ref), 0.99);
    EXPECT_NEAR(rms(pcm), ref_rms, 0.02 * ref_rms);
  } else {
    EXPECT_NEAR(static_cast<double>(pcm.size()), static_cast<double>(kJfkSamples), 0.02 * kJfkSamples);
    if (c.level_changes) {
      EXPECT_GT(correlation(pcm, ref), 0.99);
    } else {
      EXPECT_NEAR(rms(pcm), ref_rms, 0.1 * ref_rms);
    }
  }
  // Memory input with a name that gives no extension hint must decode the same.
  const std::vector<uint8_t> bytes = read_bytes(path);
  EXPECT_EQ(decode_memory(bytes.data(), bytes.size(), "blob"), pcm);
}

INSTANTIATE_TEST_SUITE_P(
    Ffmpeg, AudioDecoderFormats,
    // Stereo files duplicate the channel at unity gain (plain `-ac 2` would scale it by 0.707), so the
    // (L + R) / 2 downmix must give back the original level.
    ::testing::Values(
        FormatCase{"stereo44k.wav", "-af 'pan=stereo|c0=c0|c1=c0' -ar 44100 -c:a pcm_s16le", true},
        FormatCase{"stereo48k_f32.wav", "-af 'pan=stereo|c0=c0|c1=c0' -ar 48000 -c:a pcm_f32le", true},
        FormatCase{"mono8k.wav", "-ar 8000 -c:a pcm_s16le", false},  // band-limited
        FormatCase{"lossless.flac", "-c:a flac", true},
        FormatCase{"stereo22k.flac", "-af 'pan=stereo|c0=c0|c1=c0' -ar 22050 -c:a flac", true},
        FormatCase{"speech.mp3", "-c:a libmp3lame -b:a 64k", false},
        FormatCase{"stereo44k.mp3", "-af 'pan=stereo|c0=c0|c1=c0' -ar 44100 -c:a libmp3lame -b:a 128k",
                   false},
        FormatCase{"speech.m4a", "-c:a aac -b:a 64k", false},
        FormatCase{"speech.webm", "-c:a libopus -b:a 32k", false},
        FormatCase{"speech.ogg", "-c:a libvorbis -q:a 4", false},
        // Downmixing 5.1 lowers the level (the matrix is normalised), so only length/correlation.
        FormatCase{"surround51.mka", "-af 'pan=5.1|FL=c0|FR=c0|FC=c0' -c:a flac", false, true}),
    [](const ::testing::TestParamInfo<FormatCase>& p) {
      std::string n = p.param.name;
      std::replace(n.begin(), n.end(), '.', '_');
      return n;
    });

// What openai-whisper does: `ffmpeg -i x -ac 1 -ar 16000 -f s16le -`, as floats.
std::vector<float> ffmpeg_reference(const std::string& path, const TempDir& tmp) {
  const std::string raw = tmp.file("reference.s16");
  if (!run_ffmpeg("", path, "-ac 1 -ar 16000 -f s16le", raw)) return {};
  const std::vector<uint8_t> b = read_bytes(raw);
  std::vector<float> out(b.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<int16_t>(le16(&b[2 * i])) / 32768.0f;
  return out;
}

// Same samples as whisper's own ffmpeg pipeline, up to s16 quantisation and resampler rounding.
TEST(AudioDecoder, MatchesFfmpegCli) {
  if (!have_ffmpeg()) GTEST_SKIP() << "ffmpeg CLI not installed";
  TempDir tmp;
  const std::string stereo = tmp.file("stereo44k.wav");
  ASSERT_TRUE(run_ffmpeg("", kJfk, "-af 'pan=stereo|c0=c0|c1=0.5*c0' -ar 44100 -c:a pcm_s16le", stereo));
  for (const std::string& path : {kFleurs, stereo}) {
    const std::vector<float> ref = ffmpeg_reference(path, tmp);
    const std::vector<float> pcm = decode_file(path);
    ASSERT_FALSE(ref.empty()) << path;
    EXPECT_NEAR(static_cast<double>(pcm.size()), static_cast<double>(ref.size()), 2.0) << path;
    float max_diff = 0;
    for (size_t i = 0; i < std::min(pcm.size(), ref.size()); ++i) {
      max_diff = std::max(max_diff, std::fabs(pcm[i] - ref[i]));
    }
    EXPECT_LT(max_diff, 2e-3f) << path;
    EXPECT_GT(correlation(pcm, ref), 0.9999) << path;
  }
}

// mp4/m4a written by ffmpeg keep their index at the end: fine from a file or stdin redirected from a file, an
// explained error from a pipe.
TEST(AudioDecoder, M4aFromStdin) {
  if (!have_ffmpeg()) GTEST_SKIP() << "ffmpeg CLI not installed";
  TempDir tmp;
  const std::string path = tmp.file("a.m4a");
  ASSERT_TRUE(run_ffmpeg("", kJfk, "-c:a aac -b:a 64k", path));
  const std::vector<uint8_t> bytes = read_bytes(path);
  EXPECT_EQ(decode_via_stdin(bytes, /*as_pipe=*/false, tmp), decode_file(path));
  expect_error([&] { decode_via_stdin(bytes, /*as_pipe=*/true, tmp); }, ErrorKind::Audio, {"stdin", "pipe"});
}

TEST(AudioDecoder, FlacIsBitExact) {
  if (!have_ffmpeg()) GTEST_SKIP() << "ffmpeg CLI not installed";
  TempDir tmp;
  const std::string path = tmp.file("a.flac");
  ASSERT_TRUE(run_ffmpeg("", kJfk, "-c:a flac", path));
  EXPECT_EQ(decode_file(path), decode_file(kJfk));
}

TEST(AudioDecoder, VideoWithAudioUsesTheAudio) {
  if (!have_ffmpeg()) GTEST_SKIP() << "ffmpeg CLI not installed";
  TempDir tmp;
  const std::string path = tmp.file("av.mkv");
  ASSERT_TRUE(run_ffmpeg("-f lavfi -i testsrc=size=64x48:rate=5:duration=11", kJfk,
                         "-map 0:v -map 1:a -c:v mpeg4 -c:a flac -shortest", path));
  const std::vector<float> pcm = decode_file(path);
  EXPECT_NEAR(static_cast<double>(pcm.size()), static_cast<double>(kJfkSamples), 0.02 * kJfkSamples);
  EXPECT_GT(correlation(pcm, read_pcm16_wav(kJfk)), 0.99);
}

TEST(AudioDecoder, ToleratesCorruptPackets) {
  if (!have_ffmpeg()) GTEST_SKIP() << "ffmpeg CLI not installed";
  TempDir tmp;
  const std::string path = tmp.file("a.mp3");
  ASSERT_TRUE(run_ffmpeg("", kJfk, "-c:a libmp3lame -b:a 64k", path));
  std::vector<uint8_t> bytes = read_bytes(path);
  std::mt19937 rng(7);
  for (size_t i = bytes.size() / 3; i < bytes.size() / 3 + 600; ++i) bytes[i] = static_cast<uint8_t>(rng());
  const std::vector<float> pcm = decode_memory(bytes.data(), bytes.size(), "corrupt.mp3");
  EXPECT_GT(pcm.size(), kJfkSamples / 2);
  expect_in_range(pcm);
}

// MP3 stored in a WAV whose header says 16-bit PCM (44.1 kHz stereo): FFmpeg's probe of the PCM packets
// finds the MP3 within the first 32 KB the decoder lets it look at, so it is the speech, not 11 s of noise.
TEST(AudioDecoder, Mp3DisguisedAsPcmWav) {
  if (!have_ffmpeg()) GTEST_SKIP() << "ffmpeg CLI not installed";
  TempDir tmp;
  const std::string mp3 = tmp.file("a.mp3");
  ASSERT_TRUE(run_ffmpeg("", kJfk, "-c:a libmp3lame -b:a 64k", mp3));
  const std::vector<uint8_t> data = read_bytes(mp3);
  std::vector<uint8_t> wav;
  auto put = [&](const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    wav.insert(wav.end(), b, b + n);
  };
  auto u32 = [&](uint32_t v) { put(&v, 4); };
  auto u16 = [&](uint16_t v) { put(&v, 2); };
  put("RIFF", 4);
  u32(static_cast<uint32_t>(36 + data.size()));
  put("WAVEfmt ", 8);
  u32(16);
  u16(1);  // PCM
  u16(2);
  u32(44100);
  u32(44100 * 4);
  u16(4);
  u16(16);
  put("data", 4);
  u32(static_cast<uint32_t>(data.size()));
  put(data.data(), data.size());
  const std::vector<float> pcm = decode_memory(wav.data(), wav.size(), "disguised.wav");
  EXPECT_NEAR(static_cast<double>(pcm.size()), static_cast<double>(kJfkSamples), 0.02 * kJfkSamples);
  // The loudness of each 200 ms follows the speech's (the MP3's priming delay, ~70 ms here, is not
  // removed in a WAV); the bytes read as PCM would be loud, flat noise.
  auto envelope = [](const std::vector<float>& x) {
    std::vector<float> e;
    for (size_t i = 0; i + 3200 <= x.size(); i += 3200) {
      double sum = 0;
      for (size_t j = i; j < i + 3200; ++j) sum += static_cast<double>(x[j]) * x[j];
      e.push_back(static_cast<float>(std::sqrt(sum / 3200)));
    }
    double mean = 0;
    for (float v : e) mean += v / static_cast<double>(e.size());
    for (float& v : e) v -= static_cast<float>(mean);
    return e;
  };
  EXPECT_GT(correlation(envelope(pcm), envelope(read_pcm16_wav(kJfk))), 0.8);
}

// ---- Errors: always a wisp::Error naming the input, never a crash. ----

TEST(AudioDecoderErrors, MissingFileIsIo) {
  const std::string path = "/nonexistent/dir/missing.wav";
  expect_error([&] { decode_file(path); }, ErrorKind::Io, {path, "No such file"});
  expect_error([&] { decode_file(""); }, ErrorKind::Io, {"''"});
}

TEST(AudioDecoderErrors, UnreadableFileIsIo) {
  if (geteuid() == 0) GTEST_SKIP() << "root can read any file";
  TempDir tmp;
  const std::string path = tmp.file("secret.wav");
  fs::copy_file(kJfk, path);
  fs::permissions(path, fs::perms::none);
  expect_error([&] { decode_file(path); }, ErrorKind::Io, {path, "denied"});
}

TEST(AudioDecoderErrors, DirectoryIsIo) {
  expect_error([&] { decode_file(kAudioDir); }, ErrorKind::Io, {kAudioDir, "directory"});
}

TEST(AudioDecoderErrors, EmptyFile) {
  TempDir tmp;
  const std::string path = tmp.file("empty.wav");
  write_bytes(path, "", 0);
  expect_error([&] { decode_file(path); }, ErrorKind::Audio, {path, "empty"});
  expect_error([&] { decode_memory(nullptr, 0, "nothing.wav"); }, ErrorKind::Audio, {"nothing.wav", "empty"});
  expect_error([&] { decode_memory(nullptr, 10, "null.wav"); }, ErrorKind::Audio, {"null.wav"});
}

TEST(AudioDecoderErrors, TextFile) {
  TempDir tmp;
  const std::string text = "And so, my fellow Americans, ask not what your country can do for you.\n";
  for (const char* name : {"notes.txt", "notes.wav", "notes"}) {
    const std::string path = tmp.file(name);
    write_bytes(path, text.data(), text.size());
    expect_error([&] { decode_file(path); }, ErrorKind::Audio, {path});
  }
}

TEST(AudioDecoderErrors, RandomBytes) {
  TempDir tmp;
  std::mt19937 rng(42);
  std::vector<uint8_t> noise(64 * 1024);
  for (auto& b : noise) b = static_cast<uint8_t>(rng());
  const std::string path = tmp.file("noise.bin");
  write_bytes(path, noise.data(), noise.size());
  expect_error([&] { decode_file(path); }, ErrorKind::Audio, {path});
  expect_error([&] { decode_memory(noise.data(), noise.size(), "noise"); }, ErrorKind::Audio, {"noise"});
}

TEST(AudioDecoderErrors, TruncatedWavHeader) {
  const std::vector<uint8_t> bytes = read_bytes(kJfk);
  TempDir tmp;
  const std::string path = tmp.file("truncated.wav");
  write_bytes(path, bytes.data(), 20);
  expect_error([&] { decode_file(path); }, ErrorKind::Audio, {path});
  expect_error([&] { decode_memory(bytes.data(), 20, "truncated.wav"); }, ErrorKind::Audio,
               {"truncated.wav"});
}

TEST(AudioDecoderErrors, ZeroLengthWav) {
  // A complete 44-byte header (16 kHz mono PCM16) with an empty data chunk.
  std::vector<uint8_t> h = {'R', 'I', 'F', 'F', 36, 0, 0,   0,   'W', 'A',  'V',  'E', 'f', 'm', 't',
                            ' ', 16,  0,   0,   0,  1, 0,   1,   0,   0x80, 0x3e, 0,   0,   0,   0x7d,
                            0,   0,   2,   0,   16, 0, 'd', 'a', 't', 'a',  0,    0,   0,   0};
  ASSERT_EQ(h.size(), 44u);
  expect_error([&] { decode_memory(h.data(), h.size(), "silence.wav"); }, ErrorKind::Audio,
               {"silence.wav", "zero-length"});
}

TEST(AudioDecoderErrors, UnsupportedCodec) {
  std::vector<uint8_t> bytes = read_bytes(kJfk);
  bytes[20] = 0x34;  // WAVE format tag 0x1234: no such codec
  bytes[21] = 0x12;
  expect_error([&] { decode_memory(bytes.data(), bytes.size(), "odd.wav"); }, ErrorKind::Audio,
               {"odd.wav", "unsupported"});
}

TEST(AudioDecoderErrors, VideoOnlyFile) {
  if (!have_ffmpeg()) GTEST_SKIP() << "ffmpeg CLI not installed";
  TempDir tmp;
  const std::string path = tmp.file("video.mp4");
  ASSERT_TRUE(run_ffmpeg("-f lavfi", "testsrc=size=64x48:rate=5:duration=1", "-c:v mpeg4", path));
  expect_error([&] { decode_file(path); }, ErrorKind::Audio, {path, "no audio stream"});
}

TEST(AudioDecoderErrors, ZeroLengthAudioStream) {
  if (!have_ffmpeg()) GTEST_SKIP() << "ffmpeg CLI not installed";
  TempDir tmp;
  const std::string path = tmp.file("empty_audio.mka");
  ASSERT_TRUE(run_ffmpeg("", kJfk, "-t 0 -c:a flac", path));
  expect_error([&] { decode_file(path); }, ErrorKind::Audio, {path});
}

// ---- Fuzz-style robustness: mutated real inputs must return or throw wisp::Error, nothing else. ----

std::vector<uint8_t> mutate(std::vector<uint8_t> b, std::mt19937& rng) {
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  const int edits = 1 + static_cast<int>(pick(8));
  for (int e = 0; e < edits && !b.empty(); ++e) {
    switch (pick(5)) {
      case 0:  // flip a bit
        b[pick(b.size())] ^= static_cast<uint8_t>(1u << pick(8));
        break;
      case 1:  // overwrite a run with random bytes
        for (size_t i = pick(b.size()), k = pick(64); k > 0 && i < b.size(); --k, ++i) {
          b[i] = static_cast<uint8_t>(rng());
        }
        break;
      case 2:  // set an interesting value (header sizes, rates, channel counts)
        b[pick(b.size())] = std::array<uint8_t, 6>{0, 1, 0x7f, 0x80, 0xff, 0xfe}[pick(6)];
        break;
      case 3:  // truncate
        b.resize(pick(b.size()) + 1);
        break;
      default:  // insert random bytes
        b.insert(b.begin() + static_cast<std::ptrdiff_t>(pick(b.size())), pick(32) + 1,
                 static_cast<uint8_t>(rng()));
        break;
    }
  }
  return b;
}

TEST(AudioDecoderFuzz, MutatedInputsReturnOrThrow) {
  std::vector<uint8_t> wav = read_bytes(kJfk);
  wav.resize(4096);
  std::vector<uint8_t> ogg = read_bytes(kFleurs);
  ogg.resize(std::min<size_t>(ogg.size(), 8192));
  std::mt19937 rng(1234);
  int decoded = 0, rejected = 0;
  for (int i = 0; i < 200; ++i) {
    std::vector<uint8_t> input;
    if (i % 10 == 9) {  // some pure noise too
      input.resize(1 + rng() % 4096);
      for (auto& b : input) b = static_cast<uint8_t>(rng());
    } else {
      input = mutate(i % 2 ? ogg : wav, rng);
    }
    const std::string name = i % 3 ? "fuzz" : (i % 2 ? "fuzz.ogg" : "fuzz.wav");
    try {
      const std::vector<float> pcm = decode_memory(input.data(), input.size(), name);
      expect_in_range(pcm);
      ++decoded;
    } catch (const Error& e) {
      EXPECT_TRUE(e.kind() == ErrorKind::Audio || e.kind() == ErrorKind::Io) << e.what();
      ++rejected;
    }
  }
  EXPECT_EQ(decoded + rejected, 200);
  EXPECT_GT(decoded, 0);  // most mutations leave decodable audio: the loop really exercises decoding
}

}  // namespace
