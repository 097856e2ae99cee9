// The C API: the only extern "C" code. Every entry point catches everything and turns it into a
// wisp_status plus a per-thread message; no exception crosses this file.
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <new>
#include <string>
#include <thread>
#include <type_traits>

#include "audio/audio_decoder.h"
#include "backend/cpu/isa.h"
#include "backend/cpu/peak.h"
#include "backend/cpu/threads.h"
#include "core/error.h"
#include "decode/languages.h"
#include "engine/engine.h"
#include "model/whisper_model.h"
#include "output/writers.h"
#include "pipeline/transcriber.h"
#include "wisp/wisp.h"

struct wisp_model {
  std::shared_ptr<const wisp::WhisperModel> model;
  int n_threads = 0;    // default for contexts
  std::string backend;  // description, for wisp_model_backend
};

struct wisp_engine {
  std::shared_ptr<wisp::Engine> engine;  // shared with the contexts attached to it
};

struct wisp_context {
  std::shared_ptr<const wisp::WhisperModel> model;
  wisp::Transcriber transcriber;
  std::shared_ptr<wisp::Engine> engine;  // batched-mode calls go there when set
  wisp_context(std::shared_ptr<const wisp::WhisperModel> m, int threads)
      : model(m), transcriber(std::move(m), threads) {}
};

struct wisp_result {
  wisp::Transcript transcript;
  std::vector<wisp_segment> segments;         // views into transcript
  std::vector<std::vector<wisp_word>> words;  // per segment, views into transcript
  std::string text;
  std::string formatted;
  wisp_timings timings{};
};

namespace {

thread_local std::string g_last_error;

wisp_status status_of(wisp::ErrorKind k) {
  switch (k) {
    case wisp::ErrorKind::InvalidArgument:
      return WISP_ERR_INVALID_ARGUMENT;
    case wisp::ErrorKind::Io:
      return WISP_ERR_IO;
    case wisp::ErrorKind::Model:
      return WISP_ERR_MODEL;
    case wisp::ErrorKind::Audio:
      return WISP_ERR_AUDIO;
    case wisp::ErrorKind::Decode:
      return WISP_ERR_DECODE;
    case wisp::ErrorKind::Cancelled:
      return WISP_ERR_CANCELLED;
    case wisp::ErrorKind::Internal:
      return WISP_ERR_INTERNAL;
  }
  return WISP_ERR_INTERNAL;
}

// Runs `f`, mapping every exception to a status and message.
template <typename F>
wisp_status guarded(F&& f) {
  try {
    g_last_error.clear();
    f();
    return WISP_OK;
  } catch (const wisp::Error& e) {
    g_last_error = e.what();
    return status_of(e.kind());
  } catch (const wisp::EngineBusy& e) {
    g_last_error = e.what();
    return WISP_ERR_BUSY;
  } catch (const wisp::EngineStopping& e) {
    g_last_error = e.what();
    return WISP_ERR_BUSY;
  } catch (const std::bad_alloc&) {
    g_last_error = "out of memory";
    return WISP_ERR_INTERNAL;
  } catch (const std::exception& e) {
    g_last_error = std::string("internal error: ") + e.what();
    return WISP_ERR_INTERNAL;
  } catch (...) {
    g_last_error = "internal error: unknown exception";
    return WISP_ERR_INTERNAL;
  }
}

// The integer a caller stored in an enum field, read without an enum-typed load (a value outside the enum —
// what a buggy or newer caller may pass — is undefined behaviour to load as the enum type).
template <typename E>
int enum_value(const E& field) {
  std::underlying_type_t<E> v;
  std::memcpy(&v, &field, sizeof v);
  return static_cast<int>(v);
}

wisp_status invalid(const char* msg) {
  g_last_error = msg;
  return WISP_ERR_INVALID_ARGUMENT;
}

wisp::TranscribeOptions to_options(const wisp_transcribe_params* p) {
  wisp::TranscribeOptions o;
  if (!p) return o;
  auto bad = [](const std::string& msg) { throw wisp::Error(wisp::ErrorKind::InvalidArgument, msg); };
  if (p->struct_size != sizeof(wisp_transcribe_params))
    bad("wisp_transcribe_params.struct_size mismatch: initialise with wisp_transcribe_params_default()");
  const int task = enum_value(p->task);
  if (task != WISP_TASK_TRANSCRIBE && task != WISP_TASK_TRANSLATE)
    bad("task must be WISP_TASK_TRANSCRIBE or WISP_TASK_TRANSLATE (got " + std::to_string(task) + ")");
  // NaN would slip through the "<= x disables" comparisons below as "disabled": refuse it here.
  const std::pair<const char*, float> floats[] = {
      {"patience", p->patience},
      {"length_penalty", p->length_penalty},
      {"compression_ratio_threshold", p->compression_ratio_threshold},
      {"logprob_threshold", p->logprob_threshold},
      {"hallucination_silence_threshold", p->hallucination_silence_threshold},
      {"no_speech_threshold", p->no_speech_threshold},
      {"max_initial_timestamp", p->max_initial_timestamp},
      {"vad_threshold", p->vad_threshold},
      {"vad_max_speech_s", p->vad_max_speech_s}};
  for (const auto& [name, v] : floats)
    if (!std::isfinite(v)) bad(std::string(name) + " must be a finite number");
  if (p->no_speech_threshold > 1.0f) bad("no_speech_threshold must be at most 1");
  if (!(p->max_stream_seconds > 0.0 && p->max_stream_seconds <= 1e7))
    bad("max_stream_seconds must be above 0 (and at most 1e7)");
  o.language = p->language ? p->language : "";
  o.translate = task == WISP_TASK_TRANSLATE;
  o.beam_size = p->beam_size;
  o.best_of = p->best_of;
  o.patience = p->patience;
  if (p->length_penalty >= 0.0f) o.length_penalty = p->length_penalty;
  if (p->temperatures) {
    if (p->n_temperatures <= 0 || p->n_temperatures > static_cast<int>(wisp::kMaxTemperatures))
      bad("n_temperatures must be between 1 and " + std::to_string(wisp::kMaxTemperatures));
    o.temperatures.assign(p->temperatures, p->temperatures + p->n_temperatures);
  }
  o.compression_ratio_threshold = p->compression_ratio_threshold > 0
                                      ? std::optional<float>(p->compression_ratio_threshold)
                                      : std::nullopt;
  o.logprob_threshold =
      p->logprob_threshold > -1e9f ? std::optional<float>(p->logprob_threshold) : std::nullopt;
  o.no_speech_threshold =
      p->no_speech_threshold > 0 ? std::optional<float>(p->no_speech_threshold) : std::nullopt;
  o.condition_on_previous_text = p->condition_on_previous_text != 0;
  o.initial_prompt = p->initial_prompt ? p->initial_prompt : "";
  o.suppress_blank = p->suppress_blank != 0;
  o.without_timestamps = p->without_timestamps != 0;
  o.max_initial_timestamp = p->max_initial_timestamp;
  o.seed = p->seed;
  o.vad_filter = p->vad != 0;
  o.vad_model = p->vad_model ? p->vad_model : "";
  o.vad.threshold = p->vad_threshold;
  o.vad.min_speech_duration_ms = p->vad_min_speech_ms;
  o.vad.min_silence_duration_ms = p->vad_min_silence_ms;
  o.vad.speech_pad_ms = p->vad_speech_pad_ms;
  if (p->vad_max_speech_s > 0.0f) o.vad.max_speech_duration_s = p->vad_max_speech_s;
  o.batch_size = p->batch_size;
  o.normalize_loudness = p->level_loudness != 0;
  o.word_timestamps = p->word_timestamps != 0;
  if (p->hallucination_silence_threshold > 0.0f)
    o.hallucination_silence_threshold = p->hallucination_silence_threshold;
  if (p->prepend_punctuations) o.prepend_punctuations = p->prepend_punctuations;
  if (p->append_punctuations) o.append_punctuations = p->append_punctuations;
  return o;
}

// Checked by to_options before any audio is read.
size_t max_stream_samples(const wisp_transcribe_params* p) {
  if (!p) return wisp::audio::kDefaultMaxStreamSamples;
  return static_cast<size_t>(std::ceil(p->max_stream_seconds * wisp::audio::kSampleRate));
}

// `words` receives the views of s.words, which v then points at.
void fill_segment_view(const wisp::Segment& s, wisp_segment* v, std::vector<wisp_word>* words) {
  words->clear();
  for (const wisp::Word& w : s.words) words->push_back({w.text.c_str(), w.start, w.end, w.probability});
  v->words = words->empty() ? nullptr : words->data();
  v->n_words = static_cast<int>(words->size());
  v->id = s.id;
  v->seek = s.seek;
  v->start = s.start;
  v->end = s.end;
  v->text = s.text.c_str();
  v->tokens = s.tokens.data();
  v->n_tokens = static_cast<int>(s.tokens.size());
  v->token_logprobs = s.has_token_logprobs() ? s.token_logprobs.data() : nullptr;
  v->avg_logprob = s.avg_logprob;
  v->compression_ratio = s.compression_ratio;
  v->no_speech_prob = s.no_speech_prob;
  v->temperature = s.temperature;
}

using Clock = std::chrono::steady_clock;

// The C callbacks of `params` as the pipeline's; `cancelled` is set when on_segment asks to stop.
struct Callbacks {
  Callbacks(const wisp_transcribe_params* params, std::atomic<bool>* cancelled) {
    if (params && params->on_segment) {
      on_segment = [params, cancelled](const wisp::Segment& s) {
        wisp_segment view{};
        std::vector<wisp_word> words;
        fill_segment_view(s, &view, &words);
        *cancelled = params->on_segment(&view, params->user_data) == 0;
        return !*cancelled;
      };
    }
    if (params && params->on_progress)
      on_progress = [params](double f) { params->on_progress(f, params->user_data); };
  }
  wisp::SegmentCallback on_segment;
  wisp::ProgressCallback on_progress;
};

// The result's timings and segment views, once its transcript is in.
void finish_result(wisp_result& r, const wisp::StageTimings& st, double load_audio_ms, double total_ms) {
  r.timings.load_audio_ms = load_audio_ms;
  r.timings.total_ms = total_ms;
  r.timings.vad_ms = st.vad_ms;
  r.timings.mel_ms = st.mel_ms;
  r.timings.encoder_ms = st.encoder_ms;
  r.timings.decoder_ms = st.decoder_ms;
  r.timings.n_windows = st.n_windows;
  r.timings.n_tokens = st.n_tokens;
  r.timings.n_decode_steps = st.n_decode_steps;
  r.timings.n_decode_passes = st.n_decode_passes;
  r.timings.encoder_gflop = st.encoder_gflop;
  r.timings.decoder_gflop = st.decoder_gflop;
  r.segments.resize(r.transcript.segments.size());
  r.words.resize(r.segments.size());
  for (size_t i = 0; i < r.segments.size(); ++i)
    fill_segment_view(r.transcript.segments[i], &r.segments[i], &r.words[i]);
  r.text = r.transcript.text();
}

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// `load_audio` gives the whole recording; `blocks`, if set, hands it over block by block as it is decoded,
// which the batched mode takes instead (memory bounded, no cap on its length).
wisp_status run_transcription(wisp_context* ctx, const wisp_transcribe_params* params, wisp_result** out,
                              const std::function<std::vector<float>()>& load_audio,
                              const wisp::AudioProducer& blocks = {}) {
  if (!ctx || !out) return invalid("context and result pointer must not be NULL");
  *out = nullptr;
  return guarded([&] {
    const wisp::TranscribeOptions options = to_options(params);
    wisp::validate_options(options, *ctx->model);  // before the audio: a bad option costs no decoding
    ctx->transcriber.prepare(options);             // and a missing VAD model file no decoding either
    auto result = std::make_unique<wisp_result>();
    const auto t0 = Clock::now();
    const bool streamed = blocks && options.batch_size > 0;
    std::vector<float> samples;
    if (!streamed) samples = load_audio();
    const auto t1 = Clock::now();
    std::atomic<bool> cancelled{false};
    const Callbacks cb(params, &cancelled);
    const wisp::SegmentCallback& on_segment = cb.on_segment;
    const wisp::ProgressCallback& on_progress = cb.on_progress;
    wisp::StageTimings st;
    double decode_ms = ms_between(t0, t1);
    if (streamed) {  // the decoding's own time: the producer's, less what the blocks took downstream
      const wisp::AudioProducer timed = [&](const wisp::audio::SampleSink& sink) {
        double downstream_ms = 0.0;
        wisp::audio::SampleSink inner = sink;
        inner.block = [&](const float* b, size_t n) {
          const auto tb = Clock::now();
          const bool more = sink.block(b, n);
          downstream_ms += ms_between(tb, Clock::now());
          return more;
        };
        const auto tp = Clock::now();
        blocks(inner);
        decode_ms = ms_between(tp, Clock::now()) - downstream_ms;
      };
      if (ctx->engine) {
        auto job = ctx->engine->submit_stream(timed, options, on_segment, on_progress);
        result->transcript = job->wait();
        st = job->timings();
      } else {
        result->transcript = ctx->transcriber.transcribe_stream(timed, options, on_segment, on_progress, &st);
      }
    } else if (ctx->engine && options.batch_size > 0) {  // with the other calls of the engine, on its thread
      auto job = ctx->engine->submit(std::move(samples), options, on_segment, on_progress);
      result->transcript = job->wait();
      st = job->timings();
    } else {
      result->transcript =
          ctx->transcriber.transcribe(samples.data(), samples.size(), options, on_segment, on_progress, &st);
    }
    if (cancelled)
      throw wisp::Error(wisp::ErrorKind::Cancelled, "transcription stopped by the segment callback");
    finish_result(*result, st, decode_ms, ms_between(t0, Clock::now()));
    *out = result.release();
  });
}

}  // namespace

// Audio pushed as it comes: the context's own stream, or one into its engine.
struct wisp_stream {
  wisp_stream(wisp_context* c, const wisp_transcribe_params* params)
      : ctx(c), options(to_options(params)), cb(params, &cancelled) {}
  // An engine's job calls back on its thread until it has left: wait for that before anything goes.
  ~wisp_stream() {
    if (!there) return;
    std::shared_ptr<wisp::EngineJob> job = there->job();
    there.reset();  // unfinished: the job is cancelled
    try {
      job->wait();
    } catch (...) {
    }
  }
  wisp_context* ctx;
  wisp::TranscribeOptions options;
  std::atomic<bool> cancelled{false};
  Callbacks cb;
  wisp::StageTimings st;
  std::unique_ptr<wisp::Transcriber::Stream> here;
  std::unique_ptr<wisp::EngineStream> there;
  std::vector<float> block;  // the caller's samples, checked and clamped
  Clock::time_point t0 = Clock::now();
};

extern "C" {

const char* wisp_last_error(void) { return g_last_error.c_str(); }
const char* wisp_version(void) { return WISP_VERSION; }

const char* wisp_status_name(wisp_status s) {
  switch (s) {
    case WISP_OK:
      return "ok";
    case WISP_ERR_INVALID_ARGUMENT:
      return "invalid argument";
    case WISP_ERR_IO:
      return "i/o error";
    case WISP_ERR_MODEL:
      return "model error";
    case WISP_ERR_AUDIO:
      return "audio error";
    case WISP_ERR_DECODE:
      return "decode error";
    case WISP_ERR_CANCELLED:
      return "cancelled";
    case WISP_ERR_INTERNAL:
      return "internal error";
    case WISP_ERR_BUSY:
      return "busy";
  }
  return "unknown status";
}

wisp_model_params wisp_model_params_default(void) {
  wisp_model_params p{};
  p.struct_size = sizeof(p);
  p.n_threads = 0;
  p.compute_type = WISP_COMPUTE_AUTO;
  p.isa = nullptr;
  return p;
}

wisp_status wisp_model_load(const char* path, const wisp_model_params* params, wisp_model** out) {
  if (!path || !out) return invalid("model path and output pointer must not be NULL");
  *out = nullptr;
  if (params && params->struct_size != sizeof(wisp_model_params))
    return invalid("wisp_model_params.struct_size mismatch: initialise with wisp_model_params_default()");
  return guarded([&] {
    const wisp_model_params p = params ? *params : wisp_model_params_default();
    if (p.n_threads < 0 || p.n_threads > 1024)
      throw wisp::Error(wisp::ErrorKind::InvalidArgument, "thread count out of range");
    wisp::ModelOptions options;
    switch (enum_value(p.compute_type)) {
      case WISP_COMPUTE_AUTO:
        options.compute_type = wisp::backend::ComputeType::Auto;
        break;
      case WISP_COMPUTE_FLOAT32:
        options.compute_type = wisp::backend::ComputeType::Float32;
        break;
      case WISP_COMPUTE_BFLOAT16:
        options.compute_type = wisp::backend::ComputeType::Bfloat16;
        break;
      case WISP_COMPUTE_INT8:
        options.compute_type = wisp::backend::ComputeType::Int8;
        break;
      default:
        throw wisp::Error(wisp::ErrorKind::InvalidArgument, "unknown compute type");
    }
    if (p.isa) options.isa = wisp::backend::cpu::usable_isa(p.isa);
    auto m = std::make_unique<wisp_model>();
    m->model = wisp::WhisperModel::load(path, options);
    m->n_threads = p.n_threads;
    m->backend = m->model->backend().description();
    *out = m.release();
  });
}

void wisp_model_free(wisp_model* model) { delete model; }
int wisp_model_is_multilingual(const wisp_model* model) {
  return model && model->model->multilingual() ? 1 : 0;
}
int wisp_model_n_mels(const wisp_model* model) { return model ? model->model->dims().n_mels : 0; }
wisp_compute_type wisp_model_compute_type(const wisp_model* model) {
  if (!model) return WISP_COMPUTE_AUTO;
  switch (model->model->backend().compute_type()) {
    case wisp::backend::ComputeType::Float32:
      return WISP_COMPUTE_FLOAT32;
    case wisp::backend::ComputeType::Bfloat16:
      return WISP_COMPUTE_BFLOAT16;
    case wisp::backend::ComputeType::Int8:
      return WISP_COMPUTE_INT8;
    case wisp::backend::ComputeType::Auto:
      break;
  }
  return WISP_COMPUTE_AUTO;
}
const char* wisp_model_backend(const wisp_model* model) { return model ? model->backend.c_str() : ""; }

double wisp_model_peak_gops(const wisp_model* model, int n_threads, const char** instruction) {
  if (instruction) *instruction = "";
  if (!model || n_threads < 0) return 0.0;
  const wisp::backend::cpu::PeakProbe p =
      wisp::backend::cpu::measure_peak(model->model->backend().compute_type(), model->model->isa(),
                                       n_threads == 0 ? wisp::backend::cpu::thread_budget() : n_threads);
  if (instruction) *instruction = p.instruction;
  return p.gops;
}

const char* wisp_language_code(const char* code_or_name) {
  return code_or_name ? wisp::decode::resolve_language(code_or_name) : nullptr;
}

int wisp_model_supports_language(const wisp_model* model, const char* code_or_name) {
  const char* code = wisp_language_code(code_or_name);
  if (!model || !code) return 0;
  if (!model->model->multilingual()) return std::strcmp(code, "en") == 0 ? 1 : 0;
  return model->model->tokenizer().language_token(code) >= 0 ? 1 : 0;
}

wisp_status wisp_context_create(const wisp_model* model, wisp_context** out) {
  if (!model || !out) return invalid("model and output pointer must not be NULL");
  *out = nullptr;
  return guarded([&] { *out = new wisp_context(model->model, model->n_threads); });
}

wisp_status wisp_context_set_threads(wisp_context* ctx, int n_threads) {
  if (!ctx) return invalid("context must not be NULL");
  return guarded([&] { ctx->transcriber.set_threads(n_threads); });
}

void wisp_context_free(wisp_context* ctx) { delete ctx; }

wisp_engine_params wisp_engine_params_default(void) {
  wisp_engine_params p{};
  p.struct_size = sizeof(p);
  const wisp::EngineOptions d;
  p.n_threads = d.threads;
  p.max_in_flight = d.max_in_flight;
  p.max_jobs = d.max_jobs;
  p.max_audio_seconds = d.max_audio_seconds;
  p.vad_model = nullptr;
  return p;
}

wisp_status wisp_engine_create(const wisp_model* model, const wisp_engine_params* params, wisp_engine** out) {
  if (!model || !out) return invalid("model and output pointer must not be NULL");
  *out = nullptr;
  if (params && params->struct_size != sizeof(wisp_engine_params))
    return invalid("wisp_engine_params.struct_size mismatch: initialise with wisp_engine_params_default()");
  return guarded([&] {
    const wisp_engine_params p = params ? *params : wisp_engine_params_default();
    wisp::EngineOptions o;
    o.threads = p.n_threads;
    o.max_in_flight = p.max_in_flight;
    o.max_jobs = p.max_jobs;
    o.max_audio_seconds = p.max_audio_seconds;
    if (p.vad_model) o.vad_model = p.vad_model;
    auto e = std::make_unique<wisp_engine>();
    e->engine = std::make_shared<wisp::Engine>(model->model, o);
    *out = e.release();
  });
}

void wisp_engine_free(wisp_engine* engine) { delete engine; }

wisp_status wisp_context_set_engine(wisp_context* ctx, wisp_engine* engine) {
  if (!ctx) return invalid("context must not be NULL");
  if (engine && &engine->engine->model() != ctx->model.get())
    return invalid("the engine runs another model than the context's");
  ctx->engine = engine ? engine->engine : nullptr;
  g_last_error.clear();
  return WISP_OK;
}

wisp_transcribe_params wisp_transcribe_params_default(void) {
  wisp_transcribe_params p{};
  p.struct_size = sizeof(p);
  p.language = nullptr;
  p.task = WISP_TASK_TRANSCRIBE;
  p.beam_size = 5;
  p.best_of = 5;
  p.patience = 1.0f;
  p.length_penalty = -1.0f;
  p.temperatures = nullptr;
  p.n_temperatures = 0;
  p.compression_ratio_threshold = 2.4f;
  p.logprob_threshold = -1.0f;
  p.no_speech_threshold = 0.6f;
  p.condition_on_previous_text = 1;
  p.initial_prompt = nullptr;
  p.suppress_blank = 1;
  p.without_timestamps = 0;
  p.max_initial_timestamp = 1.0f;
  p.seed = 0;
  p.max_stream_seconds =
      static_cast<double>(wisp::audio::kDefaultMaxStreamSamples) / wisp::audio::kSampleRate;
  const wisp::vad::VadOptions vad;
  p.vad = 0;
  p.vad_model = nullptr;
  p.vad_threshold = vad.threshold;
  p.vad_min_speech_ms = vad.min_speech_duration_ms;
  p.vad_min_silence_ms = vad.min_silence_duration_ms;
  p.vad_speech_pad_ms = vad.speech_pad_ms;
  p.vad_max_speech_s = 0.0f;
  p.batch_size = 0;
  p.level_loudness = 1;
  p.word_timestamps = 0;
  p.hallucination_silence_threshold = 0.0f;
  p.prepend_punctuations = nullptr;
  p.append_punctuations = nullptr;
  return p;
}

wisp_status wisp_transcribe_file(wisp_context* ctx, const char* path, const wisp_transcribe_params* params,
                                 wisp_result** out) {
  if (!path) return invalid("audio path must not be NULL");
  return run_transcription(
      ctx, params, out, [&] { return wisp::audio::decode_file(path, max_stream_samples(params)); },
      [&](const wisp::audio::SampleSink& sink) { wisp::audio::decode_file_blocks(path, sink); });
}

wisp_status wisp_transcribe_memory(wisp_context* ctx, const void* data, size_t size,
                                   const wisp_transcribe_params* params, wisp_result** out) {
  if (!data && size) return invalid("audio data must not be NULL");
  return run_transcription(
      ctx, params, out,
      [&] { return wisp::audio::decode_memory(data, size, "<memory>", max_stream_samples(params)); },
      [&](const wisp::audio::SampleSink& sink) {
        wisp::audio::decode_memory_blocks(data, size, "<memory>", sink);
      });
}

wisp_status wisp_transcribe_pcm(wisp_context* ctx, const float* samples, size_t n_samples,
                                const wisp_transcribe_params* params, wisp_result** out) {
  if (!samples && n_samples) return invalid("samples must not be NULL");
  return run_transcription(ctx, params, out, [&] {
    for (size_t i = 0; i < n_samples; ++i)
      if (!std::isfinite(samples[i]))
        throw wisp::Error(wisp::ErrorKind::InvalidArgument, "samples contain NaN or infinity");
    std::vector<float> pcm(samples, samples + n_samples);
    wisp::audio::sanitize_samples(pcm.data(), pcm.size());  // as decoded audio: clamped to [-1, 1]
    return pcm;
  });
}

wisp_status wisp_stream_begin(wisp_context* ctx, const wisp_transcribe_params* params, wisp_stream** out) {
  if (!ctx || !out) return invalid("context and stream pointer must not be NULL");
  *out = nullptr;
  return guarded([&] {
    auto s = std::make_unique<wisp_stream>(ctx, params);
    if (s->options.batch_size <= 0)
      throw wisp::Error(
          wisp::ErrorKind::InvalidArgument,
          "a stream needs the batched mode (batch_size > 0): the sequential one needs all the audio");
    if (ctx->engine)
      s->there = ctx->engine->open_stream(s->options, s->cb.on_segment, s->cb.on_progress);
    else
      s->here = ctx->transcriber.open_stream(s->options, s->cb.on_segment, s->cb.on_progress, &s->st,
                                             /*live=*/true);
    *out = s.release();
  });
}

wisp_status wisp_stream_push(wisp_stream* s, const float* samples, size_t n_samples) {
  if (!s) return invalid("stream must not be NULL");
  if (!samples && n_samples) return invalid("samples must not be NULL");
  return guarded([&] {
    for (size_t i = 0; i < n_samples; ++i)
      if (!std::isfinite(samples[i]))
        throw wisp::Error(wisp::ErrorKind::InvalidArgument, "samples contain NaN or infinity");
    s->block.assign(samples, samples + n_samples);
    wisp::audio::sanitize_samples(s->block.data(), s->block.size());
    const bool more = s->here ? s->here->push(s->block.data(), s->block.size())
                              : s->there->push(s->block.data(), s->block.size());
    if (!more || s->cancelled)
      throw wisp::Error(wisp::ErrorKind::Cancelled, "transcription stopped by the segment callback");
  });
}

wisp_status wisp_stream_finish(wisp_stream* stream, wisp_result** out) {
  std::unique_ptr<wisp_stream> s(stream);
  if (!s || !out) return invalid("stream and result pointer must not be NULL");
  *out = nullptr;
  return guarded([&] {
    auto result = std::make_unique<wisp_result>();
    if (s->here) {
      result->transcript = s->here->finish();
    } else {
      auto job = s->there->finish();
      result->transcript = job->wait();
      s->st = job->timings();
    }
    if (s->cancelled)
      throw wisp::Error(wisp::ErrorKind::Cancelled, "transcription stopped by the segment callback");
    finish_result(*result, s->st, 0.0, ms_between(s->t0, Clock::now()));
    *out = result.release();
  });
}

void wisp_stream_free(wisp_stream* s) { delete s; }

int wisp_result_n_segments(const wisp_result* r) { return r ? static_cast<int>(r->segments.size()) : 0; }
const wisp_segment* wisp_result_segment(const wisp_result* r, int i) {
  if (!r || i < 0 || i >= static_cast<int>(r->segments.size())) return nullptr;
  return &r->segments[i];
}
const char* wisp_result_text(const wisp_result* r) { return r ? r->text.c_str() : ""; }
const char* wisp_result_language(const wisp_result* r) { return r ? r->transcript.language.c_str() : ""; }
float wisp_result_language_probability(const wisp_result* r) {
  return r ? r->transcript.language_probability : 0;
}
double wisp_result_duration(const wisp_result* r) { return r ? r->transcript.duration : 0; }
wisp_timings wisp_result_timings(const wisp_result* r) { return r ? r->timings : wisp_timings{}; }

int wisp_result_n_words(const wisp_result* r, int segment) {
  if (!r || segment < 0 || segment >= static_cast<int>(r->words.size())) return 0;
  return static_cast<int>(r->words[segment].size());
}
const wisp_word* wisp_result_word(const wisp_result* r, int segment, int i) {
  if (i < 0 || i >= wisp_result_n_words(r, segment)) return nullptr;
  return &r->words[segment][i];
}

int wisp_format_from_name(const char* name, wisp_format* out) {
  if (!name || !out) return 0;
  wisp::output::Format f;
  if (!wisp::output::parse_format(name, &f)) return 0;
  *out = static_cast<wisp_format>(static_cast<int>(f));
  return 1;
}

wisp_status wisp_result_format(wisp_result* r, wisp_format format, const char** out) {
  return wisp_result_format_with(r, format, nullptr, out);
}

wisp_format_params wisp_format_params_default(void) {
  wisp_format_params p{};
  p.struct_size = sizeof(wisp_format_params);
  return p;
}

wisp_status wisp_result_format_with(wisp_result* r, wisp_format format, const wisp_format_params* params,
                                    const char** out) {
  if (!r || !out) return invalid("result and output pointer must not be NULL");
  const int f = enum_value(format);
  if (f < WISP_FORMAT_TXT || f > WISP_FORMAT_JSON) return invalid("unknown output format");
  wisp::output::SubtitleOptions subtitles;
  if (params) {
    if (params->struct_size != sizeof(wisp_format_params))
      return invalid("wisp_format_params.struct_size mismatch: initialise with wisp_format_params_default()");
    constexpr int kMaxLine = 100000;
    if (params->max_line_width < 0 || params->max_line_width > kMaxLine || params->max_line_count < 0 ||
        params->max_line_count > kMaxLine || params->max_words_per_line < 0 ||
        params->max_words_per_line > kMaxLine)
      return invalid(
          "max_line_width, max_line_count and max_words_per_line must be between 0 (none) and 100000");
    if ((params->max_line_width || params->max_line_count || params->highlight_words ||
         params->max_words_per_line) &&
        !r->transcript.word_timestamps)
      return invalid(
          "max_line_width, max_line_count, max_words_per_line and highlight_words need a result with word "
          "timestamps");
    if (params->max_words_per_line) subtitles.max_words_per_line = params->max_words_per_line;
    if (params->max_line_width) subtitles.max_line_width = params->max_line_width;
    if (params->max_line_count) subtitles.max_line_count = params->max_line_count;
    subtitles.highlight_words = params->highlight_words != 0;
  }
  return guarded([&] {
    r->formatted =
        wisp::output::format_transcript(r->transcript, static_cast<wisp::output::Format>(f), subtitles);
    *out = r->formatted.c_str();
  });
}

void wisp_result_free(wisp_result* r) { delete r; }

}  // extern "C"
