// Several inputs at once (`wisp transcribe a.mp3 b.mp3 ...` in the batched mode): a few worker threads, each
// with a context attached to one engine, take the inputs in order; the engine puts the 30-s windows of all of
// them into the same encoder calls and decoder steps, so a folder of short clips is decoded several windows
// a step instead of one. The caller takes the outcomes in input order.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "wisp/wisp.hpp"

namespace wisp_cli {

class InputPool {
 public:
  // Starts `workers` threads transcribing `inputs` with `params` (its callbacks must be safe on any thread).
  InputPool(const wisp::Model& model, const wisp::Engine& engine, const std::vector<std::string>& inputs,
            const wisp_transcribe_params& params, int workers);
  ~InputPool();  // starts no more inputs and waits for those under way
  InputPool(const InputPool&) = delete;
  InputPool& operator=(const InputPool&) = delete;

  // Input i's result once it is there, or throws the wisp::Exception that failed it. Each i at most once.
  wisp::Result take(size_t i);
  // Inputs done so far.
  size_t done() const;

 private:
  struct Outcome {
    std::optional<wisp::Result> result;
    wisp_status status = WISP_OK;
    std::string error;
    bool ready = false;
  };
  void work(const wisp::Model& model, const wisp::Engine& engine);

  const std::vector<std::string>& inputs_;
  const wisp_transcribe_params params_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Outcome> outcomes_;
  size_t next_ = 0, done_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace wisp_cli
