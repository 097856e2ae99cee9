#include "serve_command.h"

#include <malloc.h>
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "backend/compute_type.h"
#include "backend/cpu/isa.h"
#include "core/error.h"
#include "engine/engine.h"
#include "http_server.h"
#include "model/whisper_model.h"
#include "model_registry.h"

namespace wisp_server {

int run_serve(const ServeCommand& c, const std::string& model_path, const std::string& model_name,
              int threads, const std::string& compute_type, const std::string& isa, ModelCatalog catalog) {
  // SIGTERM and SIGINT go to one thread that stops the server (every thread made from here on blocks them).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // A client that goes away while its answer is written must not end the server: cpp-httplib 0.11 sends
  // without MSG_NOSIGNAL, so the write would raise SIGPIPE; ignored, it fails with EPIPE instead.
  std::signal(SIGPIPE, SIG_IGN);
  // Each connection thread would otherwise get its own malloc arena and keep the freed audio of its last
  // request: memory that grows with the threads that have served, not with the work under way.
  mallopt(M_ARENA_MAX, 4);
  try {
    wisp::ModelOptions mo;
    if (!wisp::backend::parse_compute_type(compute_type, &mo.compute_type))
      throw wisp::Error(wisp::ErrorKind::InvalidArgument, "unknown compute type " + compute_type);
    if (!isa.empty()) mo.isa = wisp::backend::cpu::usable_isa(isa);
    auto model = wisp::WhisperModel::load(model_path, mo);
    wisp::EngineOptions eo;
    eo.threads = threads;
    eo.max_in_flight = c.max_in_flight;
    eo.max_jobs = c.max_jobs;
    eo.max_audio_seconds = c.max_held_audio_minutes * 60.0;
    ModelRegistry models(model_name, model, mo, eo, std::move(catalog));

    ServerOptions so;
    so.host = c.host;
    so.port = c.port;
    so.api_key = c.api_key;
    if (so.api_key.empty())
      if (const char* key = std::getenv("WISP_API_KEY")) so.api_key = key;
    so.max_upload_bytes = static_cast<size_t>(c.max_upload_mb) << 20;
    so.max_audio_seconds = c.max_audio_minutes * 60.0;
    so.http_threads = c.http_threads;
    so.defaults.beam_size = c.beam_size;
    so.defaults.batch_size = c.batch;
    Server server(models, so);
    std::string error;
    if (!server.bind(&error)) {
      std::fprintf(stderr, "wisp serve: %s\n", error.c_str());
      return 1;
    }
    std::fprintf(stderr, "wisp serve: http://%s:%d/ (model %s as whisper-1, %s; %d windows in flight)\n",
                 c.host.c_str(), server.port(), model_name.c_str(), model->backend().description().c_str(),
                 c.max_in_flight);
    std::thread([&server, signals] {
      int sig = 0;
      sigwait(&signals, &sig);
      std::fprintf(stderr, "wisp serve: %s, finishing the requests under way\n",
                   sig == SIGTERM ? "SIGTERM" : "SIGINT");
      server.stop();
    }).detach();
    if (!server.serve(&error)) {
      std::fprintf(stderr, "wisp serve: %s\n", error.c_str());
      models.stop_accepting();
      models.wait_idle();
      return 1;
    }
    models.stop_accepting();
    models.wait_idle();
    std::fprintf(stderr, "wisp serve: stopped\n");
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wisp serve: %s\n", e.what());
    return 1;
  }
}

}  // namespace wisp_server
