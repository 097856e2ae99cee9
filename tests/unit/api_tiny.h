// What the C API tests share: tiny.en loaded once (2 threads), and one transcription of PCM in a fresh
// context.
#pragma once

#include <vector>

#include "unit/test_paths.h"
#include "wisp/wisp.hpp"

namespace wisp::test {

inline const wisp::Model& tiny() {
  static const wisp::Model m(models_dir() + "/tiny.en", 2);
  return m;
}

inline wisp_status run_pcm(const std::vector<float>& pcm, const wisp_transcribe_params& p, wisp_result** r) {
  wisp::Context ctx(tiny());
  return wisp_transcribe_pcm(ctx.get(), pcm.data(), pcm.size(), &p, r);
}

}  // namespace wisp::test
