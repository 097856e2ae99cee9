// Audio decoding with FFmpeg: demux -> decode -> swresample (downmix + 16 kHz) as one streaming loop.
//
// Every FFmpeg object is owned by a unique_ptr with the matching free function, so any throw on any error
// path releases everything. Input always comes through our own AVIOContext (file descriptor, stdin or
// memory): one code path for the three entry points, and FFmpeg never opens a file or URL by itself.
#include "audio/audio_decoder.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <system_error>

#include "core/error.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
}

namespace wisp::audio {
namespace {

// A corrupt header can claim absurd rates or channel counts; swresample would then build enormous filter
// banks, or (for a rate of a few Hz) turn a tiny input into gigabytes of output. Frames outside these bounds
// are treated as corrupt and skipped.
constexpr int kMinInputRate = 1000;
constexpr int kMaxInputRate = 768000;
constexpr int kMaxInputChannels = 64;  // SWR_CH_MAX
constexpr int kIoBufferSize = 64 * 1024;
// The decode API returns one error per bad packet, so draining terminates anyway; this only bounds a decoder
// that misbehaves.
constexpr int kMaxConsecutiveErrors = 1000;

// ---- FFmpeg logging: never print, but keep the last error line for our exception message. ----

// Thread-local because decoding may run on several threads at once (the server) and FFmpeg logs on the
// calling thread for everything we use (audio decoders here are not frame-threaded).
thread_local std::string t_last_ffmpeg_error;

void log_callback(void* avcl, int level, const char* fmt, va_list vl) {
  if (level > AV_LOG_ERROR) return;
  char buf[512];
  std::vsnprintf(buf, sizeof buf, fmt, vl);
  std::string line(buf);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r' || line.back() == ' ')) line.pop_back();
  if (line.empty()) return;
  const AVClass* cls = avcl ? *static_cast<const AVClass* const*>(avcl) : nullptr;
  if (cls && cls->item_name) line = std::string(cls->item_name(avcl)) + ": " + line;
  t_last_ffmpeg_error = std::move(line);
}

void install_log_callback() {
  static const bool installed = [] {
    av_log_set_level(AV_LOG_QUIET);
    av_log_set_callback(log_callback);
    return true;
  }();
  (void)installed;
}

// `what` names the input ("file 'a.wav'", "buffer 'upload'", "from stdin"); the FFmpeg reason is appended.
[[noreturn]] void fail(ErrorKind kind, const std::string& what, const std::string& problem, int averr = 0) {
  char reason[AV_ERROR_MAX_STRING_SIZE] = {};
  if (averr < 0) av_strerror(averr, reason, sizeof reason);
  std::string detail = reason;
  if (!t_last_ffmpeg_error.empty() && t_last_ffmpeg_error != detail) {
    detail += (detail.empty() ? "" : "; ") + t_last_ffmpeg_error;
  }
  std::string msg = "cannot decode audio " + what + ": " + problem;
  if (!detail.empty()) msg += " (" + detail + ")";
  throw Error(kind, msg);
}

// ---- Byte sources behind our AVIOContext. ----

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Up to n bytes into buf: the count, 0 at the end, or a negative AVERROR.
  virtual int read(uint8_t* buf, int n) = 0;
  // lseek semantics relative to the start of the input; AVSEEK_SIZE asks for the size.
  virtual int64_t seek(int64_t offset, int whence) = 0;
  virtual bool seekable() const = 0;

  int64_t total_read = 0;  // to tell "empty input" from "not audio"
  int read_error = 0;      // a real I/O error (not EOF) is an Io error, not silently truncated audio
};

// A file descriptor: a regular file (seekable) or a pipe / stdin (streamed, no seeking).
class FdSource final : public ByteSource {
 public:
  FdSource(int fd, bool owned) : fd_(fd), owned_(owned) {
    struct stat st {};
    if (fstat(fd_, &st) == 0 && S_ISREG(st.st_mode)) {
      base_ = lseek(fd_, 0, SEEK_CUR);  // stdin redirected from a file may not start at 0
      if (base_ >= 0) size_ = st.st_size - base_;
    }
  }
  ~FdSource() override {
    if (owned_) ::close(fd_);
  }
  FdSource(const FdSource&) = delete;
  FdSource& operator=(const FdSource&) = delete;

  int read(uint8_t* buf, int n) override {
    for (;;) {
      ssize_t r = ::read(fd_, buf, static_cast<size_t>(n));
      if (r >= 0) return static_cast<int>(r);
      if (errno != EINTR) return AVERROR(errno);
    }
  }
  int64_t seek(int64_t offset, int whence) override {
    if (size_ < 0) return AVERROR(ENOSYS);
    if (whence == AVSEEK_SIZE) return size_;
    if (whence == SEEK_SET) offset += base_;
    off_t r = lseek(fd_, offset, whence);
    return r < 0 ? AVERROR(errno) : r - base_;
  }
  bool seekable() const override { return size_ >= 0; }

 private:
  int fd_;
  bool owned_;
  int64_t base_ = 0;
  int64_t size_ = -1;
};

class MemorySource final : public ByteSource {
 public:
  MemorySource(const void* data, size_t size)
      : data_(static_cast<const uint8_t*>(data)), size_(static_cast<int64_t>(size)) {}

  int read(uint8_t* buf, int n) override {
    int64_t left = pos_ < size_ ? size_ - pos_ : 0;
    int count = static_cast<int>(std::min<int64_t>(left, n));
    if (count > 0) std::memcpy(buf, data_ + pos_, static_cast<size_t>(count));
    pos_ += count;
    return count;
  }
  int64_t seek(int64_t offset, int whence) override {
    if (whence == AVSEEK_SIZE) return size_;
    const int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? pos_ : whence == SEEK_END ? size_ : -1;
    if (base < 0 || base + offset < 0) return AVERROR(EINVAL);
    return pos_ = base + offset;
  }
  bool seekable() const override { return true; }

 private:
  const uint8_t* data_;
  int64_t size_;
  int64_t pos_ = 0;
};

int read_callback(void* opaque, uint8_t* buf, int n) {
  auto* src = static_cast<ByteSource*>(opaque);
  int r = src->read(buf, n);
  if (r == 0) return AVERROR_EOF;
  if (r < 0) src->read_error = r;
  if (r > 0) src->total_read += r;
  return r;
}

int64_t seek_callback(void* opaque, int64_t offset, int whence) {
  return static_cast<ByteSource*>(opaque)->seek(offset, whence & ~AVSEEK_FORCE);
}

// Playlists (hls, concat), image sequences and mov external references would make FFmpeg open other files or
// URLs named inside the input. The input must be self-contained: refusing here matters for the HTTP server.
int refuse_io_open(AVFormatContext*, AVIOContext**, const char*, int, AVDictionary**) {
  return AVERROR(EPERM);
}

// ---- RAII owners. ----

struct AvioFree {
  void operator()(AVIOContext* c) const {
    av_freep(&c->buffer);  // FFmpeg may have replaced our buffer; free whatever it holds now
    avio_context_free(&c);
  }
};
// For FFmpeg's `xxx_free(T**)` functions (avformat_close_input leaves a custom pb alone).
template <auto FreeFn>
struct Freer {
  template <class T>
  void operator()(T* p) const {
    FreeFn(&p);
  }
};
struct ChannelLayout {
  AVChannelLayout layout{};
  ChannelLayout() = default;
  ChannelLayout(const ChannelLayout&) = delete;
  ChannelLayout& operator=(const ChannelLayout&) = delete;
  ~ChannelLayout() { av_channel_layout_uninit(&layout); }
};

// Converts decoded frames of any format to 16 kHz mono float, appending to `out`. The converter is set up
// from the first frame and rebuilt when the input format changes mid-stream (chained ogg, some mp3/aac
// streams).
class Resampler {
 public:
  // Past max_samples of output (0: no limit), push() and flush() throw Error(Audio) naming `what`.
  Resampler(std::vector<float>& out, size_t max_samples, const std::string& what)
      : out_(out), max_samples_(max_samples), what_(what) {}

  // False when the frame cannot be converted (corrupt parameters); the caller counts it as a bad packet.
  bool push(const AVFrame* f) {
    if (f->nb_samples <= 0) return true;
    const int channels = f->ch_layout.nb_channels;
    if (f->sample_rate < kMinInputRate || f->sample_rate > kMaxInputRate || channels <= 0 ||
        channels > kMaxInputChannels) {
      return false;
    }
    ChannelLayout layout;
    // Some containers (raw pcm, old wav) give only a channel count; swr needs positions to downmix.
    if (f->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC) {
      av_channel_layout_default(&layout.layout, channels);
    } else if (av_channel_layout_copy(&layout.layout, &f->ch_layout) < 0) {
      return false;
    }
    if (!swr_ || f->format != in_format_ || f->sample_rate != in_rate_ ||
        av_channel_layout_compare(&layout.layout, &in_layout_.layout) != 0) {
      flush();  // what the old converter still holds belongs before the new frame
      if (!configure(layout.layout, f->format, f->sample_rate)) return false;
    }
    return convert(const_cast<const uint8_t**>(f->extended_data), f->nb_samples);
  }

  // swr holds a filter's worth of delay; converting no input drains it (at the end and before reconfig).
  void flush() {
    if (swr_) convert(nullptr, 0);
  }

 private:
  bool configure(AVChannelLayout& layout, int format, int rate) {  // not const: swr's API wants a mutable one
    // swresample downmixes the layouts it knows (stereo, 5.1, 7.1, ...); for channels without positions (a
    // wav with 9 to 64 channels and no mask) it has no matrix, so those are averaged with equal weights.
    const std::string previous_error = t_last_ffmpeg_error;
    if (!build(layout, format, rate, /*uniform=*/false)) {
      if (layout.nb_channels < 2 || !build(layout, format, rate, /*uniform=*/true)) return false;
      t_last_ffmpeg_error = previous_error;  // swr's complaint about the first try is not an error now
    }
    in_format_ = format;
    in_rate_ = rate;
    av_channel_layout_uninit(&in_layout_.layout);
    return av_channel_layout_copy(&in_layout_.layout, &layout) >= 0;
  }

  bool build(AVChannelLayout& layout, int format, int rate, bool uniform) {
    swr_.reset();
    ChannelLayout mono;
    av_channel_layout_default(&mono.layout, 1);
    SwrContext* raw = nullptr;
    int r = swr_alloc_set_opts2(&raw, &mono.layout, AV_SAMPLE_FMT_FLT, kSampleRate, &layout,
                                static_cast<AVSampleFormat>(format), rate, 0, nullptr);
    swr_.reset(raw);
    if (r < 0) return false;
    if (uniform) {
      const std::vector<double> matrix(static_cast<size_t>(layout.nb_channels), 1.0 / layout.nb_channels);
      r = swr_set_matrix(raw, matrix.data(), layout.nb_channels);
    } else {
      // With float output swresample does not normalise the downmix matrix (stereo -> mono would be
      // 0.707 * (L + R) and can exceed 1). Cap it at 1 so stereo becomes (L + R) / 2, as `ffmpeg -ac 1`
      // does for the s16 output Whisper was trained on.
      r = av_opt_set_double(raw, "rematrix_maxval", 1.0, 0);
    }
    if (r < 0 || swr_init(raw) < 0) {
      swr_.reset();
      return false;
    }
    return true;
  }

  bool convert(const uint8_t** in, int n) {
    const int capacity = swr_get_out_samples(swr_.get(), n);  // an upper bound for this call
    if (capacity <= 0) return n == 0 || capacity == 0;
    const size_t old = out_.size();
    const size_t needed = old + static_cast<size_t>(capacity);
    if (max_samples_ && needed > out_.capacity()) {
      // Geometric growth, but never far past the cap: the last doubling would otherwise reserve (and
      // copy into) up to twice the memory the cap promises.
      out_.reserve(
          std::max(needed, std::min(2 * out_.capacity(), max_samples_ + static_cast<size_t>(capacity))));
    }
    out_.resize(needed);  // geometric growth, amortised O(1)
    auto* dst = reinterpret_cast<uint8_t*>(out_.data() + old);
    const int got = swr_convert(swr_.get(), &dst, capacity, in, n);
    out_.resize(old + static_cast<size_t>(std::max(got, 0)));
    if (max_samples_ && out_.size() > max_samples_) over_limit();
    return got >= 0;
  }

  [[noreturn]] void over_limit() const {
    char limit[64];
    std::snprintf(limit, sizeof limit, "%.4g min", static_cast<double>(max_samples_) / kSampleRate / 60.0);
    throw Error(ErrorKind::Audio,
                "cannot decode audio " + what_ + ": it holds more than " + limit +
                    " of audio, the limit for input that is kept whole in memory (stdin and "
                    "memory buffers: ~230 MB per hour of audio); pass a file instead, or "
                    "raise the limit (wisp transcribe --max-stdin-minutes)");
  }

  std::vector<float>& out_;
  size_t max_samples_;
  std::string what_;
  std::unique_ptr<SwrContext, Freer<swr_free>> swr_;
  ChannelLayout in_layout_;
  int in_format_ = -1;
  int in_rate_ = 0;
};

// With a sink, the samples go to it block by block (`out` only gathers a block) and the count is returned
// in `handed_over`; without, they are returned.
std::vector<float> decode_source(ByteSource& src, const std::string& what, const std::string& name,
                                 size_t max_samples, const SampleSink* sink = nullptr,
                                 size_t* handed_over = nullptr) {
  install_log_callback();
  t_last_ffmpeg_error.clear();

  auto* buffer = static_cast<uint8_t*>(av_malloc(kIoBufferSize));
  if (!buffer) fail(ErrorKind::Audio, what, "out of memory");
  std::unique_ptr<AVIOContext, AvioFree> io(avio_alloc_context(
      buffer, kIoBufferSize, 0, &src, read_callback, nullptr, src.seekable() ? seek_callback : nullptr));
  if (!io) {
    av_free(buffer);
    fail(ErrorKind::Audio, what, "out of memory");
  }

  // Declared after `io` so it is destroyed first: the format context reads through io until closed.
  std::unique_ptr<AVFormatContext, Freer<avformat_close_input>> fmt(avformat_alloc_context());
  if (!fmt) fail(ErrorKind::Audio, what, "out of memory");
  fmt->pb = io.get();
  fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
  fmt->io_open = refuse_io_open;
  // `name` is only a hint here (its extension helps probing); nothing is opened by name.
  AVFormatContext* raw_fmt = fmt.release();
  int r = avformat_open_input(&raw_fmt, name.c_str(), nullptr, nullptr);
  if (r < 0) {  // FFmpeg has freed raw_fmt
    if (src.read_error) fail(ErrorKind::Io, what, "read error", src.read_error);
    if (src.total_read == 0) fail(ErrorKind::Audio, what, "the input is empty (0 bytes)");
    fail(ErrorKind::Audio, what, "not an audio file or an unrecognised format", r);
  }
  fmt.reset(raw_fmt);

  // A WAV's PCM stream is probed for another codec in disguise (S/PDIF, MP3 stored as PCM) over up to
  // `probesize` bytes of packets, running every demuxer's probe on the audio as the buffer doubles: 4.4 ms
  // of an 11-s 16-kHz clip's 4.8 ms decode, ~5 ms per file however long. Its parameters are in its header;
  // a disguised codec shows in its first frames, so the first 32 KB are probed.
  if (std::strcmp(fmt->iformat->name, "wav") == 0)
    fmt->probesize = std::min<int64_t>(fmt->probesize, 32 << 10);

  // Failure here is not fatal (like the ffmpeg CLI): a stream with incomplete parameters may still decode.
  r = avformat_find_stream_info(fmt.get(), nullptr);
  if (r < 0 && fmt->nb_streams == 0) fail(ErrorKind::Audio, what, "no streams found", r);

  const AVCodec* codec = nullptr;
  const int index = av_find_best_stream(fmt.get(), AVMEDIA_TYPE_AUDIO, -1, -1, &codec, 0);
  if (index == AVERROR_DECODER_NOT_FOUND || (index >= 0 && !codec)) {
    const int any = av_find_best_stream(fmt.get(), AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
    const char* codec_name = any >= 0 ? avcodec_get_name(fmt->streams[any]->codecpar->codec_id) : "unknown";
    fail(ErrorKind::Audio, what, std::string("unsupported audio codec '") + codec_name + "'");
  }
  if (index < 0) fail(ErrorKind::Audio, what, "no audio stream (not an audio file?)");
  AVStream* stream = fmt->streams[index];
  // Let the demuxer drop video/subtitle packets early instead of handing them to us.
  for (unsigned i = 0; i < fmt->nb_streams; ++i) {
    if (static_cast<int>(i) != index) fmt->streams[i]->discard = AVDISCARD_ALL;
  }

  std::unique_ptr<AVCodecContext, Freer<avcodec_free_context>> dec(avcodec_alloc_context3(codec));
  if (!dec) fail(ErrorKind::Audio, what, "out of memory");
  r = avcodec_parameters_to_context(dec.get(), stream->codecpar);
  if (r < 0) fail(ErrorKind::Audio, what, "invalid audio stream parameters", r);
  dec->pkt_timebase = stream->time_base;  // decoders use it to apply skip-samples / priming (opus, aac, mp3)
  r = avcodec_open2(dec.get(), codec, nullptr);
  if (r < 0) fail(ErrorKind::Audio, what, std::string("cannot open the ") + codec->name + " decoder", r);

  std::unique_ptr<AVPacket, Freer<av_packet_free>> pkt(av_packet_alloc());
  std::unique_ptr<AVFrame, Freer<av_frame_free>> frame(av_frame_alloc());
  if (!pkt || !frame) fail(ErrorKind::Audio, what, "out of memory");

  std::vector<float> out;
  // A file that says how long it is gets room for all of it at once: no copy of what was decoded each time
  // the vector grows (a 3-minute wav: 7 of 20 ms). At most 3 hours' worth on the header's word (address
  // space only: pages are touched as samples arrive), no more than a stream may hold.
  const double seconds = stream->duration != AV_NOPTS_VALUE && stream->duration > 0
                             ? static_cast<double>(stream->duration) * av_q2d(stream->time_base)
                             : (fmt->duration > 0 ? static_cast<double>(fmt->duration) / AV_TIME_BASE : 0.0);
  if (sink) {
    if (sink->length && seconds > 0.0 && seconds < 1e6)
      sink->length(static_cast<size_t>(seconds * kSampleRate));
    out.reserve(kStreamBlock + kSampleRate);
  } else if (src.seekable()) {
    if (seconds > 0.0 && seconds < 3 * 3600.0) {
      size_t n = static_cast<size_t>(seconds * kSampleRate * 1.01) + kSampleRate;
      if (max_samples) n = std::min(n, max_samples);
      out.reserve(n);
    }
  }
  Resampler resampler(out, max_samples, what);
  int bad = 0;       // packets/frames skipped as corrupt: tolerated as long as something decodes
  int last_err = 0;  // for the message when nothing did

  // Takes every frame the decoder has ready (until EAGAIN, or EOF after the flush packet).
  auto drain = [&] {
    for (int errors = 0; errors < kMaxConsecutiveErrors;) {
      const int rr = avcodec_receive_frame(dec.get(), frame.get());
      if (rr == AVERROR(EAGAIN) || rr == AVERROR_EOF) return;
      if (rr < 0) {  // one corrupt packet: skip it and keep going
        ++bad;
        ++errors;
        last_err = rr;
        continue;
      }
      errors = 0;
      if (!resampler.push(frame.get())) ++bad;
      av_frame_unref(frame.get());
    }
  };

  // With a sink: a block goes out once there is one (`last`: whatever is left).
  size_t total = 0;
  bool stopped = false;
  auto hand_over = [&](bool last) {
    if (!sink || stopped || (out.size() < kStreamBlock && !last) || out.empty()) return;
    sanitize_samples(out.data(), out.size());
    total += out.size();
    stopped = !sink->block(out.data(), out.size());
    out.clear();
  };

  while (!stopped) {
    r = av_read_frame(fmt.get(), pkt.get());
    // Like the ffmpeg CLI, any demuxer error ends the input; what was decoded so far is kept.
    if (r < 0) {
      if (r != AVERROR_EOF) last_err = r;
      break;
    }
    if (pkt->stream_index == index) {
      int s = avcodec_send_packet(dec.get(), pkt.get());
      if (s == AVERROR(EAGAIN)) {  // frames still pending: take them, then the packet fits
        drain();
        s = avcodec_send_packet(dec.get(), pkt.get());
      }
      if (s < 0) {
        ++bad;
        last_err = s;
      }
      drain();
    }
    av_packet_unref(pkt.get());
    hand_over(false);
  }
  if (stopped) {
    if (handed_over) *handed_over = total;
    return {};
  }
  // End of input: decoders with delay (mp3, aac, opus) still hold frames, and so does the resampler.
  avcodec_send_packet(dec.get(), nullptr);
  drain();
  resampler.flush();

  // An I/O error is not the end of the audio: returning a silently truncated transcript would be wrong.
  if (src.read_error) fail(ErrorKind::Io, what, "read error", src.read_error);
  if (out.empty() && total == 0) {
    // The usual reason a valid file fails from a pipe: mp4/m4a often keep their index at the end.
    const std::string hint =
        src.seekable() ? "" : "; a pipe cannot seek, formats such as mp4/m4a may need a file";
    if (bad > 0 || last_err < 0) {
      fail(ErrorKind::Audio, what, "corrupt audio data, no samples could be decoded" + hint, last_err);
    }
    fail(ErrorKind::Audio, what, "the audio stream is empty (zero-length audio)" + hint);
  }
  // Lossy decoders overshoot slightly and corrupt float PCM can hold NaN/Inf, which would poison the mel
  // spectrogram.
  if (sink) {
    hand_over(true);
    if (handed_over) *handed_over = total;
    return {};
  }
  sanitize_samples(out.data(), out.size());
  return out;
}

// Opens `path` ("-": stdin) and decodes it with decode_source.
std::vector<float> decode_path(const std::string& path, size_t max_stream_samples, const SampleSink* sink,
                               size_t* handed_over) {
  t_last_ffmpeg_error.clear();  // a message must not carry a line from an earlier call
  if (path == "-") {
    FdSource src(STDIN_FILENO, /*owned=*/false);
    return decode_source(src, "from stdin", "stdin", max_stream_samples, sink, handed_over);
  }
  const std::string what = "file '" + path + "'";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(ErrorKind::Io, what, std::generic_category().message(errno));
  FdSource src(fd, /*owned=*/true);
  struct stat st {};
  if (fstat(fd, &st) != 0) fail(ErrorKind::Io, what, std::generic_category().message(errno));
  if (S_ISDIR(st.st_mode)) fail(ErrorKind::Io, what, "it is a directory");
  if (S_ISREG(st.st_mode) && st.st_size == 0) fail(ErrorKind::Audio, what, "the file is empty (0 bytes)");
  // A regular file's length is known; a FIFO or device named as a file is as endless as stdin can be.
  return decode_source(src, what, path, S_ISREG(st.st_mode) ? 0 : max_stream_samples, sink, handed_over);
}

std::vector<float> decode_bytes(const void* data, size_t size, const std::string& name, size_t max_samples,
                                const SampleSink* sink, size_t* handed_over) {
  t_last_ffmpeg_error.clear();
  const std::string what = "buffer '" + name + "'";
  if (size == 0) fail(ErrorKind::Audio, what, "the input is empty (0 bytes)");
  if (data == nullptr) fail(ErrorKind::Audio, what, "no data (null pointer)");
  MemorySource src(data, size);
  return decode_source(src, what, name, max_samples, sink, handed_over);
}

}  // namespace

std::vector<float> decode_file(const std::string& path, size_t max_stream_samples) {
  return decode_path(path, max_stream_samples, nullptr, nullptr);
}

size_t decode_file_blocks(const std::string& path, const SampleSink& sink) {
  size_t n = 0;
  decode_path(path, 0, &sink, &n);
  return n;
}

void sanitize_samples(float* samples, size_t n) {
  for (size_t i = 0; i < n; ++i)
    samples[i] = std::isfinite(samples[i]) ? std::clamp(samples[i], -1.0f, 1.0f) : 0.0f;
}

std::vector<float> decode_memory(const void* data, size_t size, const std::string& name, size_t max_samples) {
  return decode_bytes(data, size, name, max_samples, nullptr, nullptr);
}

size_t decode_memory_blocks(const void* data, size_t size, const std::string& name, const SampleSink& sink) {
  size_t n = 0;
  decode_bytes(data, size, name, 0, &sink, &n);
  return n;
}

}  // namespace wisp::audio
