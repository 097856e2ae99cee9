// Opening the files a model is made of, which a user (or an attacker) names: only regular files are read.
// A FIFO in place of model.bin would block open() forever and /dev/zero would be read without end, so files
// are opened without blocking, checked with fstat, and JSON files are read up to a size cap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "core/error.h"

namespace wisp {

// config.json and tokenizer.json of the largest Whisper models are a few MB; 64 MB bounds a hostile one.
constexpr size_t kMaxJsonBytes = size_t{64} << 20;

// Opens `path` read-only without blocking (O_NONBLOCK: a FIFO must not hang open()) and refuses anything but
// a regular file. Returns the descriptor (the caller closes it) and its size. Throws Error(kind) naming the
// file: missing, unreadable, or "not a regular file (a FIFO)".
int open_regular_file(const std::string& path, ErrorKind kind, uint64_t* size);

// The whole contents of the regular file `path`, at most `max_bytes` (more is an error naming the file).
// With missing_ok, a file that does not exist gives nullopt instead of an error.
std::optional<std::string> read_regular_file(const std::string& path, size_t max_bytes, ErrorKind kind,
                                             bool missing_ok = false);

}  // namespace wisp
