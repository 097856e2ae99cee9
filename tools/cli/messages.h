// What the CLI says on stderr. Names come from the user (file names, the model path, flags) and may hold
// anything a file name can: escape codes that would recolour or rewrite the terminal, bytes that are not
// UTF-8. Every line that carries one goes through terminal_safe(); the --timings line is JSON whatever the
// bytes are.
#pragma once

#include <string>
#include <string_view>

#include "wisp/wisp.h"

namespace wisp_cli {

// `s` with control characters (C0, DEL, C1) and bytes that are not well-formed UTF-8 written as \xNN, and
// backslashes doubled so the escapes cannot be forged. Printable UTF-8 passes through.
std::string terminal_safe(std::string_view s);

// One "wisp-timings {...}" line (without newline): valid JSON for any input name (invalid UTF-8 becomes
// U+FFFD, control characters are escaped).
std::string timings_line(const std::string& input_name, double duration_s, double load_ms,
                         const wisp_timings& t);

// The stderr message for an input that failed with `status`: a defect of the model names the model, not the
// input (the audio is not at fault); anything else names the input. Already terminal-safe, no newline.
std::string failure_message(wisp_status status, const std::string& input_name, const std::string& model,
                            const std::string& message);

}  // namespace wisp_cli
