#include "model/model_loader.h"

#include <filesystem>

#include "core/error.h"

namespace wisp {
namespace {

// Every known format, in the order they are tried.
std::vector<std::unique_ptr<ModelLoader>> loaders() {
  std::vector<std::unique_ptr<ModelLoader>> all;
  all.push_back(make_ct2_loader());
  return all;
}

}  // namespace

std::string model_directory(const std::string& path) {
  try {
    if (!std::filesystem::exists(path)) return {};
    for (const auto& loader : loaders())
      if (loader->recognizes(path)) return loader->directory(path);
  } catch (const std::exception&) {  // unreadable: load_model_files says so
  }
  return {};
}

LoadedModel load_model_files(const std::string& path) {
  if (!std::filesystem::exists(path)) throw Error(ErrorKind::Io, "model path '" + path + "' does not exist");
  std::string tried;
  for (const auto& loader : loaders()) {
    if (loader->recognizes(path)) return loader->load(path);
    tried += std::string(tried.empty() ? "" : ", ") + loader->format_name();
  }
  throw Error(ErrorKind::Model, "'" + path + "' is not a model in a known format (tried: " + tried +
                                    "); expected a CTranslate2 directory with model.bin and config.json");
}

}  // namespace wisp
