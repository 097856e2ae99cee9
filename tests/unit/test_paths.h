// Where the tests find shared data, installed models and the oracle data (compile definitions from CMake).
#pragma once

#include <string>

#ifndef WISP_SHARED_DIR
#define WISP_SHARED_DIR "/work/shared"
#endif
#ifndef WISP_MODELS_DIR
#define WISP_MODELS_DIR "/work/main/models"
#endif
#ifndef WISP_SOURCE_DIR
#define WISP_SOURCE_DIR "/work/main"
#endif
#ifndef WISP_REF_DIR
#define WISP_REF_DIR "/tmp/wisp-ref"
#endif

namespace wisp::test {
inline std::string shared_dir() { return WISP_SHARED_DIR; }
inline std::string models_dir() { return WISP_MODELS_DIR; }
inline std::string ref_dir() { return WISP_REF_DIR; }
inline std::string audio_path(const std::string& clip) { return shared_dir() + "/audio/" + clip; }
}  // namespace wisp::test
