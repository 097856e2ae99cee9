// Where the Silero VAD model file is. wisp ships it (assets/vad/, MIT; see assets/vad/LICENSE): found in a
// source tree or build tree of the project and after `cmake --install` without any setting.
#pragma once

#include <string>

namespace wisp::vad {

constexpr const char* kBundledModelName = "silero-v6.2.0-ggml.bin";

// `path` when it is not empty; else $WISP_VAD_MODEL when set; else the first that exists of
// <dir>/assets/vad/<kBundledModelName> for the running executable's folder and each folder above it,
// <exe folder>/../share/wisp/<kBundledModelName> (installed), and the assets/vad folder of the source tree
// the library was built from. Throws Error(Model) saying where it looked when none exists.
std::string resolve_vad_model(const std::string& path);

}  // namespace wisp::vad
