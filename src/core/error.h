// wisp::Error — the one exception type used inside the engine.
//
// Internal code throws; the C API (src/api) catches everything and turns it into a
// wisp_status plus a message. Nothing else may let an exception escape to a user.
#pragma once

#include <stdexcept>
#include <string>

namespace wisp {

enum class ErrorKind {
  InvalidArgument,  // a bad parameter or flag value
  Io,               // a file could not be opened or read
  Model,            // a model directory/file is missing, truncated, corrupt or of the wrong shape
  Audio,            // audio could not be decoded (empty, corrupt, not audio, unsupported)
  Decode,           // decoding a window failed
  Cancelled,        // the caller asked to stop
  Internal,         // a bug: an invariant did not hold
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

}  // namespace wisp
