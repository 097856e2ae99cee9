// Writing transcripts where the user asked, and knowing that they got there: every write is flushed and
// checked (a full disk, a closed stdout, /dev/full), a file is only reported written after a successful
// close, and a file that could not be written whole is removed rather than left truncated.
#pragma once

#include <string>

namespace wisp_cli {

// Writes `text` (plus a final newline when it lacks one) to stdout and flushes it. Returns "" on success,
// else the reason (strerror of the failing call).
std::string write_stdout(const std::string& text);

// Creates or replaces `path` with exactly `text`: write, then close, each checked. On failure the partial
// file is removed and the reason returned; "" on success.
std::string write_file(const std::string& path, const std::string& text);

}  // namespace wisp_cli
