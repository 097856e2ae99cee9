// Audio decoding: any FFmpeg-readable input -> 16 kHz mono float32 PCM, the only format the engine consumes.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace wisp::audio {

constexpr int kSampleRate = 16000;
// 3 hours: ~690 MB of float samples (~230 MB per hour, ~115 MB more for the log-mel).
constexpr size_t kDefaultMaxStreamSamples = size_t{3} * 3600 * kSampleRate;

// Decodes any FFmpeg-readable input (wav, flac, mp3, ogg/opus, m4a/mp4, webm, ...) to 16 kHz mono float32
// PCM in [-1, 1]; path "-" reads the bytes from stdin. All streams are downmixed to mono and resampled with
// libswresample as they are decoded, so the full-rate audio is never held in memory (hours of audio stream
// through; only the 16 kHz output is kept). Throws wisp::Error(ErrorKind::Audio or ErrorKind::Io, message)
// with a message that names the file on: missing/unreadable file (Io), empty file, not audio / no audio
// stream, unsupported codec, corrupt data that yields no samples, zero-length audio. FFmpeg never prints: its
// last error line is kept and appended to the message instead.
//
// Notes: a file is read only through its own descriptor; references to other files or URLs inside the input
// (playlists, external tracks) are refused. From a pipe, formats that need seeking (an mp4/m4a whose index is
// at the end) cannot be decoded; such input throws ErrorKind::Audio.
//
// Input that cannot be read twice (stdin, and bytes in memory, which can expand a thousandfold) is capped:
// past `max_stream_samples` of 16 kHz output the decoding stops and throws ErrorKind::Audio saying so, so an
// endless pipe ends with a message instead of eating all memory. Regular files are not capped (their size is
// known); a FIFO or device given as a path is.
std::vector<float> decode_file(const std::string& path, size_t max_stream_samples = kDefaultMaxStreamSamples);

// Same, from bytes in memory (for the C API's "transcribe a buffer" and the future HTTP server). `name` is
// used in messages and as a hint for format detection (its extension). The bytes are not copied and must stay
// alive for the duration of the call.
std::vector<float> decode_memory(const void* data, size_t size, const std::string& name,
                                 size_t max_samples = kDefaultMaxStreamSamples);

// Audio handed over block by block as it is decoded, instead of kept: `block` gets each block in order
// (16 kHz mono, sanitised, about kStreamBlock samples; false stops the decoding, without an error);
// `length`, if set, the header's length in samples when it gives one, before the first block.
struct SampleSink {
  std::function<bool(const float* samples, size_t n)> block;
  std::function<void(size_t n)> length;
};
constexpr size_t kStreamBlock = 16 * kSampleRate;  // 16 s

// decode_file and decode_memory through a sink: memory stays bounded whatever the input's length, so no
// cap applies (stdin included). Return the number of samples handed over; throw as those do (an error after
// some blocks were handed over included).
size_t decode_file_blocks(const std::string& path, const SampleSink& sink);
size_t decode_memory_blocks(const void* data, size_t size, const std::string& name, const SampleSink& sink);

// The engine's contract for samples: finite and in [-1, 1]. Clamps in place (lossy decoders overshoot a
// little, float PCM can hold anything) and turns NaN/inf into 0. Used for decoded audio and caller PCM alike.
void sanitize_samples(float* samples, size_t n);

}  // namespace wisp::audio
