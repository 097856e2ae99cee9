// The models a server answers for: the one it started with (also as "whisper-1") and every other installed
// model a request names, loaded on its first request with the same settings, each with an engine of its own.
// Requests name models, never paths: only the installed names are loaded.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "model/whisper_model.h"
#include "model_catalog.h"

namespace wisp_server {

class ModelRegistry {
 public:
  ModelRegistry(std::string default_name, std::shared_ptr<const wisp::WhisperModel> default_model,
                const wisp::ModelOptions& model_options, const wisp::EngineOptions& engine_options,
                ModelCatalog catalog);

  // The engine of `name` ("whisper-1": the default model), loaded on first use; nullptr when no model of that
  // name is installed. Throws wisp::Error when it cannot be loaded.
  wisp::Engine* engine(const std::string& name);
  const std::string& default_name() const { return default_name_; }
  // "whisper-1", the default model, then every installed one.
  std::vector<std::string> names() const;

  wisp::EngineStats stats() const;  // of every engine, summed
  void stop_accepting();
  void wait_idle();

 private:
  std::string default_name_;
  wisp::ModelOptions model_options_;
  wisp::EngineOptions engine_options_;
  ModelCatalog catalog_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<wisp::Engine>> engines_;
};

}  // namespace wisp_server
