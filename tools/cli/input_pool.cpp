#include "input_pool.h"

#include <exception>

namespace wisp_cli {

InputPool::InputPool(const wisp::Model& model, const wisp::Engine& engine,
                     const std::vector<std::string>& inputs, const wisp_transcribe_params& params,
                     int workers)
    : inputs_(inputs), params_(params), outcomes_(inputs.size()) {
  try {
    for (int w = 0; w < workers; ++w) threads_.emplace_back([this, &model, &engine] { work(model, engine); });
  } catch (...) {  // a thread that cannot start: those that did finish their input, then the error goes up
    {
      std::lock_guard lk(mu_);
      stopping_ = true;
    }
    for (auto& t : threads_) t.join();
    throw;
  }
}

InputPool::~InputPool() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  for (auto& t : threads_) t.join();
}

void InputPool::work(const wisp::Model& model, const wisp::Engine& engine) {
  std::optional<wisp::Context> ctx;
  for (;;) {
    size_t i;
    {
      std::lock_guard lk(mu_);
      if (stopping_ || next_ == inputs_.size()) return;
      i = next_++;
    }
    Outcome out;
    try {
      if (!ctx) {
        ctx.emplace(model);
        ctx->set_engine(&engine);
      }
      out.result.emplace(ctx->transcribe_file(inputs_[i], params_));
    } catch (const wisp::Exception& e) {
      out.status = e.status();
      out.error = e.what();
    } catch (
        const std::exception& e) {  // out of memory, a thread that cannot start: reported, not fatal here
      out.status = WISP_ERR_INTERNAL;
      out.error = e.what();
    }
    out.ready = true;
    {
      std::lock_guard lk(mu_);
      outcomes_[i] = std::move(out);
      ++done_;
    }
    cv_.notify_all();
  }
}

wisp::Result InputPool::take(size_t i) {
  std::unique_lock lk(mu_);
  cv_.wait(lk, [&] { return outcomes_[i].ready; });
  Outcome out = std::move(outcomes_[i]);
  if (!out.result) throw wisp::Exception(out.status, out.error);
  return std::move(*out.result);
}

size_t InputPool::done() const {
  std::lock_guard lk(mu_);
  return done_;
}

}  // namespace wisp_cli
