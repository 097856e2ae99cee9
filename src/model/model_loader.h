// One interface for every on-disk model format. Each loader turns a path into a validated WeightTable
// plus the model's decoding configuration; the Whisper model binds names and shapes on top.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "model/weights.h"

namespace wisp {

// Decoding-related settings stored beside the weights (CTranslate2's config.json).
struct ModelMetadata {
  std::vector<int> suppress_ids;        // always suppressed (openai's suppress_tokens "-1" set)
  std::vector<int> suppress_ids_begin;  // suppressed at the first sampled position (blank, eot)
  std::vector<int> lang_ids;            // language token ids, in the order of the model's languages
  std::vector<std::pair<int, int>> alignment_heads;  // (layer, head) for word timestamps
};

struct LoadedModel {
  std::unique_ptr<WeightTable> weights;
  ModelMetadata metadata;
  std::string directory;  // where tokenizer files live
};

class ModelLoader {
 public:
  virtual ~ModelLoader() = default;
  virtual const char* format_name() const = 0;
  // True when `path` looks like this loader's format (cheap check: file names, magic bytes).
  virtual bool recognizes(const std::string& path) const = 0;
  // Where the tokenizer files of the model at `path` live (LoadedModel::directory), known before loading.
  virtual std::string directory(const std::string& path) const = 0;
  // Reads and validates; throws Error(Model or Io) naming the file and the variable at fault.
  virtual LoadedModel load(const std::string& path) const = 0;
};

// The loader for `path` among the known formats; throws Error(Model) listing what was tried.
LoadedModel load_model_files(const std::string& path);
// Where load_model_files(path) will say the tokenizer files are, or "" when no loader recognizes `path`
// (load_model_files then says why).
std::string model_directory(const std::string& path);

std::unique_ptr<ModelLoader> make_ct2_loader();

}  // namespace wisp
