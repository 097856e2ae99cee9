#include "vad/vad_model_path.h"

#include <cstdlib>
#include <filesystem>
#include <vector>

#include "core/error.h"

#ifndef WISP_VAD_ASSETS_DIR
#define WISP_VAD_ASSETS_DIR ""
#endif

namespace wisp::vad {
namespace fs = std::filesystem;

std::string resolve_vad_model(const std::string& path) {
  if (!path.empty()) return path;
  if (const char* env = std::getenv("WISP_VAD_MODEL"); env && *env) return env;
  std::vector<fs::path> candidates;
  std::error_code ec;
  const fs::path exe = fs::canonical("/proc/self/exe", ec);
  if (!ec) {
    for (fs::path p = exe.parent_path(); !p.empty() && p != p.root_path(); p = p.parent_path())
      candidates.push_back(p / "assets" / "vad" / kBundledModelName);
    candidates.push_back(exe.parent_path().parent_path() / "share" / "wisp" / kBundledModelName);
  }
  if (*WISP_VAD_ASSETS_DIR) candidates.push_back(fs::path(WISP_VAD_ASSETS_DIR) / kBundledModelName);
  for (const fs::path& c : candidates)
    if (fs::is_regular_file(c, ec)) return c.string();
  throw Error(ErrorKind::Model, std::string("the Silero VAD model (") + kBundledModelName +
                                    ") was not found next to the executable, in share/wisp or in " +
                                    (*WISP_VAD_ASSETS_DIR ? WISP_VAD_ASSETS_DIR : "the source tree") +
                                    "; pass its path (--vad-model, or $WISP_VAD_MODEL)");
}

}  // namespace wisp::vad
