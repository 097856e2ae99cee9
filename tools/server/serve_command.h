// `wisp serve`: loads the model, starts the engine and the HTTP server, and runs until SIGTERM or SIGINT
// (then it stops accepting connections, answers the requests it has, and exits 0).
#pragma once

#include <string>

#include "model_catalog.h"

namespace wisp_server {

struct ServeCommand {
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string api_key;    // also $WISP_API_KEY
  int beam_size = 5;      // default of requests that give none
  int batch = 8;          // windows of one request in flight at most
  int max_in_flight = 6;  // windows in flight over all requests
  int max_jobs = 64;      // transcriptions at once; more get 429
  int max_upload_mb = 512;
  double max_held_audio_minutes = 360;  // audio of all requests under way; more get 429
  double max_audio_minutes = 180;
  int http_threads = 64;
};

// model_path: a model directory; model_name: how /v1/models names it; catalog: the other installed models,
// which requests may name (loaded on first use). Returns the exit status.
int run_serve(const ServeCommand& c, const std::string& model_path, const std::string& model_name,
              int threads, const std::string& compute_type, const std::string& isa, ModelCatalog catalog);

}  // namespace wisp_server
