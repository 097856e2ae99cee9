#include "model_registry.h"

#include <algorithm>

namespace wisp_server {

ModelRegistry::ModelRegistry(std::string default_name,
                             std::shared_ptr<const wisp::WhisperModel> default_model,
                             const wisp::ModelOptions& model_options,
                             const wisp::EngineOptions& engine_options, ModelCatalog catalog)
    : default_name_(std::move(default_name)),
      model_options_(model_options),
      engine_options_(engine_options),
      catalog_(std::move(catalog)) {
  engines_[default_name_] = std::make_unique<wisp::Engine>(std::move(default_model), engine_options_);
}

wisp::Engine* ModelRegistry::engine(const std::string& requested) {
  const std::string& name = requested == "whisper-1" ? default_name_ : requested;
  std::lock_guard lk(mu_);
  if (auto it = engines_.find(name); it != engines_.end()) return it->second.get();
  const std::vector<std::string> installed =
      catalog_.installed ? catalog_.installed() : std::vector<std::string>{};
  if (std::find(installed.begin(), installed.end(), name) == installed.end()) return nullptr;
  auto model = wisp::WhisperModel::load(catalog_.path(name), model_options_);
  auto& slot = engines_[name];
  slot = std::make_unique<wisp::Engine>(std::move(model), engine_options_);
  return slot.get();
}

std::vector<std::string> ModelRegistry::names() const {
  std::vector<std::string> out = {"whisper-1", default_name_};
  if (catalog_.installed)
    for (const std::string& n : catalog_.installed())
      if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  return out;
}

wisp::EngineStats ModelRegistry::stats() const {
  std::lock_guard lk(mu_);
  wisp::EngineStats sum;
  for (const auto& [name, e] : engines_) {
    sum += e->stats();
  }
  return sum;
}

void ModelRegistry::stop_accepting() {
  std::lock_guard lk(mu_);
  for (auto& [name, e] : engines_) e->stop_accepting();
}

void ModelRegistry::wait_idle() {
  std::lock_guard lk(mu_);
  for (auto& [name, e] : engines_) e->wait_idle();
}

}  // namespace wisp_server
