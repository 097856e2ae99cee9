#include "model/model_loader.h"

#include <filesystem>

#include "core/error.h"

namespace wisp {

std::string model_directory(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return {};
  const std::unique_ptr<ModelLoader> loaders[] = {make_ct2_loader()};
  for (const auto& loader : loaders)
    if (loader->recognizes(path)) return loader->directory(path);
  return {};
}

LoadedModel load_model_files(const std::string& path) {
  if (!std::filesystem::exists(path)) throw Error(ErrorKind::Io, "model path '" + path + "' does not exist");
  std::vector<std::unique_ptr<ModelLoader>> loaders;
  loaders.push_back(make_ct2_loader());
  std::string tried;
  for (const auto& loader : loaders) {
    if (loader->recognizes(path)) return loader->load(path);
    tried += std::string(tried.empty() ? "" : ", ") + loader->format_name();
  }
  throw Error(ErrorKind::Model, "'" + path + "' is not a model in a known format (tried: " + tried +
                                    "); expected a CTranslate2 directory with model.bin and config.json");
}

}  // namespace wisp
