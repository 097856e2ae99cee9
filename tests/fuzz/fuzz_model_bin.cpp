// libFuzzer target: untrusted model.bin bytes → the CTranslate2 loader and the Whisper binding.
// Must load or throw wisp::Error naming the problem; never crash, hang or allocate without bound.
//   scripts/fuzz.sh model_bin [seconds]   (needs models/tiny.en for the tokenizer and config)
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.h"
#include "model/whisper_model.h"

namespace {
std::string fuzz_dir() {
  static const std::string dir = [] {
    namespace fs = std::filesystem;
    const fs::path d = fs::temp_directory_path() / ("wisp-fuzz-model-" + std::to_string(::getpid()));
    fs::create_directories(d);
    const char* models = std::getenv("WISP_MODELS_DIR");
    const fs::path src = fs::path(models ? models : "models") / "tiny.en";
    fs::copy_file(src / "tokenizer.json", d / "tokenizer.json", fs::copy_options::overwrite_existing);
    fs::copy_file(src / "config.json", d / "config.json", fs::copy_options::overwrite_existing);
    return d.string();
  }();
  return dir;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string dir = fuzz_dir();
  {
    std::ofstream out(dir + "/model.bin", std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  try {
    wisp::WhisperModel::load(dir);
  } catch (const wisp::Error&) {
  }
  return 0;
}
