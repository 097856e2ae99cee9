// wisp.hpp — a small RAII C++ wrapper over the C API (wisp.h). Errors become wisp::Exception.
#ifndef WISP_WISP_HPP
#define WISP_WISP_HPP

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "wisp/wisp.h"

namespace wisp {

class Exception : public std::runtime_error {
 public:
  Exception(wisp_status status, const std::string& message) : std::runtime_error(message), status_(status) {}
  wisp_status status() const noexcept { return status_; }

 private:
  wisp_status status_;
};

inline void check(wisp_status s) {
  if (s != WISP_OK) throw Exception(s, wisp_last_error());
}

class Result {
 public:
  explicit Result(wisp_result* r) : r_(r, &wisp_result_free) {}
  int n_segments() const { return wisp_result_n_segments(r_.get()); }
  // Throws wisp::Exception (WISP_ERR_INVALID_ARGUMENT) for an index outside [0, n_segments()).
  const wisp_segment& segment(int i) const {
    const wisp_segment* s = wisp_result_segment(r_.get(), i);
    if (!s)
      throw Exception(WISP_ERR_INVALID_ARGUMENT, "segment " + std::to_string(i) + " out of range (" +
                                                     std::to_string(n_segments()) + " segments)");
    return *s;
  }
  std::string text() const { return wisp_result_text(r_.get()); }
  std::string language() const { return wisp_result_language(r_.get()); }
  float language_probability() const { return wisp_result_language_probability(r_.get()); }
  double duration() const { return wisp_result_duration(r_.get()); }
  wisp_timings timings() const { return wisp_result_timings(r_.get()); }
  // Word timestamps: the words of segment `segment` (none without them).
  int n_words(int segment) const { return wisp_result_n_words(r_.get(), segment); }
  // "txt", "srt", "vtt", "tsv" or "json"; `params` lays out srt and vtt cues (NULL: one per segment).
  std::string format(const std::string& name, const wisp_format_params* params = nullptr) const {
    wisp_format f;
    if (!wisp_format_from_name(name.c_str(), &f))
      throw Exception(WISP_ERR_INVALID_ARGUMENT, "unknown format " + name);
    const char* out = nullptr;
    check(wisp_result_format_with(r_.get(), f, params, &out));
    return out;
  }
  wisp_result* get() const { return r_.get(); }

 private:
  std::unique_ptr<wisp_result, void (*)(wisp_result*)> r_;
};

class Model {
 public:
  Model() = default;
  explicit Model(const std::string& path, int n_threads = 0,
                 wisp_compute_type compute_type = WISP_COMPUTE_AUTO, const char* isa = nullptr) {
    wisp_model_params p = wisp_model_params_default();
    p.n_threads = n_threads;
    p.compute_type = compute_type;
    p.isa = isa;
    wisp_model* m = nullptr;
    check(wisp_model_load(path.c_str(), &p, &m));
    m_.reset(m, &wisp_model_free);
  }
  bool multilingual() const { return wisp_model_is_multilingual(m_.get()) != 0; }
  wisp_compute_type compute_type() const { return wisp_model_compute_type(m_.get()); }
  std::string backend() const { return wisp_model_backend(m_.get()); }
  const wisp_model* get() const { return m_.get(); }

 private:
  std::shared_ptr<wisp_model> m_;  // shared: contexts may outlive copies of the handle
  friend class Context;
};

// One compute loop for the batched-mode calls of many contexts (wisp_engine_create).
class Engine {
 public:
  explicit Engine(const Model& model, const wisp_engine_params& p = wisp_engine_params_default())
      : e_(nullptr, &wisp_engine_free) {
    wisp_engine* e = nullptr;
    check(wisp_engine_create(model.get(), &p, &e));
    e_.reset(e);
  }
  wisp_engine* get() const { return e_.get(); }

 private:
  std::unique_ptr<wisp_engine, void (*)(wisp_engine*)> e_;
};

// Audio pushed as it comes (wisp_stream_begin); Context::open_stream makes one.
class Stream {
 public:
  void push(const float* samples, size_t n) { check(wisp_stream_push(s_.get(), samples, n)); }
  void push(const std::vector<float>& samples) { push(samples.data(), samples.size()); }
  Result finish() {
    wisp_result* r = nullptr;
    check(wisp_stream_finish(s_.release(), &r));
    return Result(r);
  }

 private:
  friend class Context;
  explicit Stream(wisp_stream* s) : s_(s, &wisp_stream_free) {}
  std::unique_ptr<wisp_stream, void (*)(wisp_stream*)> s_;
};

class Context {
 public:
  explicit Context(const Model& model) : model_(model.m_), c_(nullptr, &wisp_context_free) {
    wisp_context* c = nullptr;
    check(wisp_context_create(model.get(), &c));
    c_.reset(c);
  }
  void set_threads(int n_threads) { check(wisp_context_set_threads(c_.get(), n_threads)); }
  // Batched-mode calls then run on the engine (nullptr: on this context again).
  void set_engine(const Engine* engine) {
    check(wisp_context_set_engine(c_.get(), engine ? engine->get() : nullptr));
  }
  Result transcribe_file(const std::string& path, const wisp_transcribe_params& p) {
    wisp_result* r = nullptr;
    check(wisp_transcribe_file(c_.get(), path.c_str(), &p, &r));
    return Result(r);
  }
  Result transcribe_pcm(const std::vector<float>& samples, const wisp_transcribe_params& p) {
    wisp_result* r = nullptr;
    check(wisp_transcribe_pcm(c_.get(), samples.data(), samples.size(), &p, &r));
    return Result(r);
  }
  // `p` (its strings, user_data) must outlive the stream.
  Stream open_stream(const wisp_transcribe_params& p) {
    wisp_stream* s = nullptr;
    check(wisp_stream_begin(c_.get(), &p, &s));
    return Stream(s);
  }
  wisp_context* get() const { return c_.get(); }

 private:
  std::shared_ptr<wisp_model> model_;  // keeps the model alive as long as the context
  std::unique_ptr<wisp_context, void (*)(wisp_context*)> c_;
};

}  // namespace wisp

#endif  // WISP_WISP_HPP
